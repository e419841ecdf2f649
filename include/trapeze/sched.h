// Sleeping and waking. A task sleeps on a wait queue in process context only; interrupt
// handlers and anything holding a spinlock may wake tasks but never sleep (might_sleep()
// catches violations and reports them with a backtrace).
#pragma once

#include <trapeze/list.h>
#include <trapeze/spinlock.h>
#include <trapeze/types.h>

struct task;

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

// Sleep until cond holds. Returns 0, or -ERESTARTSYS if a signal interrupted the sleep.
#define wait_event_interruptible(wq, cond)                                             \
	({                                                                             \
		int __ret = 0;                                                         \
		struct wait_entry __we;                                                \
		for (;;) {                                                             \
			prepare_to_wait(&(wq), &__we);                                 \
			if (cond)                                                      \
				break;                                                 \
			if (signal_pending_current()) {                                \
				__ret = -ERESTARTSYS;                                  \
				break;                                                 \
			}                                                              \
			schedule();                                                    \
		}                                                                      \
		finish_wait(&(wq), &__we);                                             \
		__ret;                                                                 \
	})

void schedule(void);
// Give up the CPU if a reschedule is pending and preemption is allowed.
void cond_resched(void);
// Report (with a backtrace) a call that may sleep made from atomic context.
void might_sleep_check(const char *file, int line);
#define might_sleep() might_sleep_check(__FILE__, __LINE__)

void preempt_disable(void);
void preempt_enable(void);
