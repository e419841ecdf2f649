// Sleeping and waking. A task sleeps on a wait queue in process context only; interrupt
// handlers and anything holding a spinlock may wake tasks but never sleep (might_sleep()
// catches violations and reports them with a backtrace).
#pragma once

#include <trapeze/list.h>
#include <trapeze/spinlock.h>
#include <trapeze/task.h>
#include <trapeze/types.h>
#include <uapi/errno.h>

struct task;
struct pt_regs;

struct wait_queue {
	struct spinlock lock;
	struct list_head waiters; // struct wait_entry, under lock
};

struct wait_entry {
	struct list_head link;
	struct task *task;
};

#define WAIT_QUEUE_INIT(name) { SPINLOCK_INIT(#name), LIST_HEAD_INIT(name.waiters) }
#define DEFINE_WAIT_QUEUE(name) struct wait_queue name = WAIT_QUEUE_INIT(name)

void wait_queue_init(struct wait_queue *wq);
// Make t runnable if it sleeps (TASK_INTERRUPTIBLE or TASK_UNINTERRUPTIBLE).
// Context: any; does not sleep.
void wake_up_task(struct task *t);
// Wake every task sleeping on wq. Context: any; does not sleep.
void wake_up(struct wait_queue *wq);

// Low-level sleep protocol used by wait_event_interruptible():
//	prepare_to_wait(wq, &e);   // queued and marked sleeping
//	if (!cond) schedule();      // a wake_up between the two is not lost
//	finish_wait(wq, &e);
void prepare_to_wait(struct wait_queue *wq, struct wait_entry *e);
void finish_wait(struct wait_queue *wq, struct wait_entry *e);
// True if the current task has a signal that should interrupt a sleep.
bool signal_pending_current(void);

void schedule(void);
// The last switch of an exiting task, whose state is already TASK_ZOMBIE or TASK_DEAD and
// which has held preemption off (preempt_disable) since it set that state: once it is
// gone, its parent may free its stack. Never returns.
__noreturn void schedule_final(void);

// The sleep behind the wait_event macros: until cond holds (0), a signal arrives
// (-ERESTARTSYS) or, if deadline_ns is not 0, time_ns() reaches it (-ETIMEDOUT).
#define __wait_event(wq, cond, deadline_ns)                                            \
	({                                                                             \
		int __ret = 0;                                                         \
		uint64_t __deadline = (deadline_ns);                                   \
		struct wait_entry __we = { LIST_HEAD_INIT(__we.link), NULL };          \
		for (;;) {                                                             \
			prepare_to_wait(&(wq), &__we);                                 \
			if (cond)                                                      \
				break;                                                 \
			if (signal_pending_current()) {                                \
				__ret = -ERESTARTSYS;                                  \
				break;                                                 \
			}                                                              \
			if (!__deadline) {                                             \
				schedule();                                            \
			} else if (schedule_timeout(__deadline) && !(cond)) {          \
				__ret = -ETIMEDOUT;                                    \
				break;                                                 \
			}                                                              \
		}                                                                      \
		finish_wait(&(wq), &__we);                                             \
		__ret;                                                                 \
	})

// Sleep until cond holds. Returns 0, or -ERESTARTSYS if a signal interrupted the sleep.
#define wait_event_interruptible(wq, cond) __wait_event(wq, cond, 0)
// The same, giving up at deadline_ns (time_ns() clock, nonzero) with -ETIMEDOUT.
#define wait_event_interruptible_deadline(wq, cond, deadline_ns)                        \
	__wait_event(wq, cond, deadline_ns)

// Sleep, in the state the caller set, until woken or until time_ns() reaches deadline_ns.
// Returns true if the deadline has passed. Context: process context.
bool schedule_timeout(uint64_t deadline_ns);
// Set the current task's state with a full barrier, before re-checking a wake-up condition.
void set_current_state(enum task_state state);
// The time_ns() deadline ns nanoseconds from now; UINT64_MAX (never) if that overflows.
uint64_t sched_deadline_ns(uint64_t ns);
// Sleep for at least ns nanoseconds; returns 0, or -ERESTARTSYS (with the time left in
// *left_ns if not NULL) when a signal woke the task early.
int sleep_ns(uint64_t ns, uint64_t *left_ns);
// Called on every timer interrupt (interrupt context).
void sched_tick(void);
// The kernel HZ: timer interrupts per second.
#define HZ 100
// Give up the CPU if a reschedule is pending and preemption is allowed.
void cond_resched(void);
// Report (with a backtrace) a call that may sleep made from atomic context.
void might_sleep_check(const char *file, int line);
#define might_sleep() might_sleep_check(__FILE__, __LINE__)

// The work done before every return to user mode: reschedule if asked, deliver pending
// signals. Entered and left with interrupts off.
void exit_to_user_mode(struct pt_regs *regs);
// From an interrupt that arrived in preemptible kernel code: switch if a reschedule is due.
void preempt_schedule_irq(void);

void preempt_disable(void);
void preempt_enable(void);
