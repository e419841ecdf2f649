// Signals (kernel/signal*.c, sys_signal.c, pgrp.c; kernel/signal_internal.h says which file
// does what). Linux numbering and semantics; docs/signals.md describes the design.
//
// A signal is pending for a task while its bit is set in task->sig_pending; it is delivered
// on the task's next return to user mode (exit_to_user_mode -> signal_deliver_pending),
// unless blocked. Delivery either runs the default action (terminate, dump core — the
// wait status only —, ignore, stop, continue) or builds a Linux rt_sigframe on the user
// stack and enters the handler, which returns through rt_sigreturn.
//
// Locks, in order: tasklist_lock -> task->sig_lock -> signal_handlers->lock -> rq_lock.
// All are taken with irqsave: signals are sent from interrupt context (timer, tty).
#pragma once

#include <trapeze/spinlock.h>
#include <trapeze/list.h>
#include <trapeze/types.h>
#include <uapi/signal.h>

struct task;
struct pt_regs;

#define SIG_BIT(sig) (1ULL << ((sig) - 1))
// SIGKILL and SIGSTOP can be neither caught, ignored nor blocked.
#define SIG_UNBLOCKABLE (SIG_BIT(SIGKILL) | SIG_BIT(SIGSTOP))
// The core-dump flag of a wait status (no core file is written).
#define WAIT_CORE_FLAG 0x80

// What a pending signal carries into its siginfo. Standard signals do not queue: a signal
// sent again while pending merges with the first, keeping the first's details.
struct signal_info {
	int code;      // si_code
	pid_t pid;     // sender (kill, SIGCHLD) or timer id
	uid_t uid;
	int status;    // SIGCHLD si_status
	uint64_t addr; // fault address, or sigval for SI_QUEUE
	// A fault from a CPU exception: its vector and error code, shown to the handler in
	// uc_mcontext.trapno and .err as Linux does (sanitizers read the page-fault write bit).
	bool from_trap;
	int trapno;
	uint64_t error_code;
};

// Signal dispositions, shared by reference count (CLONE_SIGHAND), copied by fork.
// Besides the actions it holds the per-process signal state Linux keeps in signal_struct:
// the details of pending signals and the stop state. Trapeze runs one task per process,
// so "process" and "task" coincide; tasks sharing one signal_handlers would share these.
struct signal_handlers {
	struct spinlock lock; // protects everything below
	int refs;
	struct sigaction action[NSIG];    // index sig - 1
	struct signal_info info[NSIG];    // details of pending signals, index sig - 1
	bool stopped;       // stopped by a stop signal until SIGCONT or SIGKILL
	bool stop_dequeued; // a stop signal is on its way to stopping the task; SIGCONT cancels it
	bool cont_notify;   // continued by SIGCONT: tell the parent (CLD_CONTINUED) on resuming
	// Signals rt_sigtimedwait waits for: unblocked for the wait, but never discarded as
	// ignored when sent (Linux's real_blocked).
	uint64_t waiting;
	// Real-time signals queue: instances sent while one is already pending wait here
	// (struct signal_queued, oldest first), at most SIGQUEUE_MAX of them. Standard signals
	// do not queue.
	struct list_head rt_queue;
	int rt_queued;
};

#define SIGQUEUE_MAX 1024

// Drop queued real-time instances of sig (every signal when sig is 0). Caller holds
// sh->lock, or holds the last reference.
void signal_rt_flush(struct signal_handlers *sh, int sig);

// --- sending (kernel/signal.c) ---

// Queue sig for t (si_code SI_KERNEL) and wake it if it sleeps interruptibly.
// Returns 0 (also when t ignores sig or is a zombie), or -EINVAL for a bad number.
// Context: any, including interrupt context; does not sleep.
int signal_send(struct task *t, int sig);
// The same with the siginfo details given (code, sender pid...).
int signal_send_info(struct task *t, int sig, const struct signal_info *info);
// The thread of t's process that a process-directed sig (kill, a process group, SIGCHLD)
// goes to: the leader if it runs and does not block sig, else the first live thread not
// blocking it, else a live one. Caller holds tasklist_lock.
struct task *signal_process_target_locked(struct task *t, int sig);
// A synchronous fault signal for the current task (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP)
// with si_code and si_addr, as an exception handler sends it. A blocked or ignored fault
// signal kills the task, as on Linux (the action is forced to SIG_DFL and unblocked).
// Context: process context of the faulting task.
void signal_force_fault(int sig, int si_code, uintptr_t addr);
// The same for a CPU exception (vector trapno, its error code), from the trap handler.
void signal_force_trap(int sig, int si_code, uintptr_t addr, int trapno, uint64_t error_code);
// Send sig (SI_KERNEL) to every task of process group pgrp (the tty's ^C, ^Z, ^\, SIGHUP).
// Context: any; does not sleep.
void signal_send_pgrp(int pgrp, int sig);
// Send sig with info to every user task in process group pgrp. 0 if at least one task was
// found (sig 0: just the check), -ESRCH if none. Context: process or interrupt; no sleep.
int pgrp_signal(pid_t pgrp, int sig, const struct signal_info *info);
// True if some task is in process group pgrp of session sid (sid 0: any session).
// Caller holds tasklist_lock.
// Whether t is stopped by a stop signal (from the moment the stop is decided, before t
// has gone to sleep and before its parent hears of it). Context: any; takes t's locks.
bool signal_task_stopped(struct task *t);
// POSIX's orphaned process group: no member (other than ignore) has a parent (other than
// ignore) in another group of session sid, so no job-control shell can continue it.
bool pgrp_is_orphaned_locked(pid_t pgrp, pid_t sid, const struct task *ignore);
// At an exit (do_exit, tasklist_lock held, children already given to init): SIGHUP and
// SIGCONT to each member of a group the exit leaves orphaned with a stopped member —
// the dying task's own group, and each former child's (one call per child).
void pgrp_exit_orphans_locked(struct task *dying);
void pgrp_reparent_orphans_locked(struct task *dying, struct task *child);
bool pgrp_exists_locked(pid_t pgrp, pid_t sid);

// --- delivery (kernel/signal_deliver.c, signal_frame.c) ---

// Deliver pending signals to the current task on its way to user mode: run default
// actions (may not return: do_exit; may sleep: stop), or set up one handler frame in regs.
// Also turns a system call's -ERESTART* result into EINTR or a restart.
// Context: exit_to_user_mode, process context, interrupts enabled; may sleep.
void signal_deliver_pending(struct pt_regs *regs);
// Build the rt_sigframe for sig's handler act in regs (the user registers) and point
// them at the handler. blocked_before is the mask rt_sigreturn restores. Returns 0, or
// -EFAULT when the frame cannot be written (no SA_RESTORER, a bad stack, no room left on
// the alternate stack) and regs are unchanged: the caller raises SIGSEGV instead.
int signal_frame_setup(struct pt_regs *regs, int sig, const struct sigaction *act,
		       const struct signal_info *info, uint64_t blocked_before);
// Take the lowest pending signal in set off the current task, blocked or not (synchronous
// faults first); 0 if none. For rt_sigtimedwait. Context: process.
int signal_dequeue_set(uint64_t set, struct signal_info *info);
// Sleep until a signal is deliverable to the current task. Context: process; sleeps.
void signal_wait_interruptible(void);
// Whether act makes sig ignored (SIG_IGN, or SIG_DFL for a signal whose default is to
// ignore it: SIGCHLD, SIGURG, SIGWINCH, SIGCONT).
bool signal_action_ignores(const struct sigaction *act, int sig);
// The siginfo a handler or rt_sigtimedwait sees for sig with the details info.
void signal_siginfo_fill(struct siginfo *si, int sig, const struct signal_info *info);
// Set the current task's blocked mask (SIGKILL/SIGSTOP removed). Context: process.
void signal_set_blocked(uint64_t mask);
// Whether sp lies on the current task's alternate signal stack.
bool signal_on_altstack(uint64_t sp);
// sigaltstack's core, shared with rt_sigreturn (which reinstates uc_stack). 0 or -errno.
int signal_altstack_set(const struct sigaltstack *ss, uint64_t user_sp);
// Fill *ss with the current task's alternate stack as sigaltstack reports it.
void signal_altstack_get(struct sigaltstack *ss, uint64_t user_sp);

// --- per-task state (kernel/signal_handlers.c) ---

// A new table with every action SIG_DFL, refs 1. NULL when out of memory.
struct signal_handlers *signal_handlers_alloc(void);
// fork: a private copy of sh (or all-default if sh is NULL), refs 1. NULL when out of memory.
struct signal_handlers *signal_handlers_dup(struct signal_handlers *sh);
// CLONE_SIGHAND: one more user of sh.
struct signal_handlers *signal_handlers_get(struct signal_handlers *sh);
// Drop a reference; the last one frees. NULL is ignored.
void signal_handlers_put(struct signal_handlers *sh);
// The current task's table, allocated (all default) if it had none. NULL when out of
// memory. Context: process context of current.
struct signal_handlers *signal_handlers_current(void);
// Copy sig's action for t (all-default when t has no table). Takes t->sig_lock: callers
// may hold tasklist_lock, not a sig_lock. Context: any.
void signal_action_get(struct task *t, int sig, struct sigaction *act);
// execve: caught signals revert to SIG_DFL, ignored ones stay ignored; the blocked mask
// and pending signals are kept; the alternate stack is cleared. Context: process context.
void signal_exec_reset(void);
// exit: drop the current task's table and disarm its timer. Call once the task can no longer
// return to user mode (do_exit, before it becomes a zombie). Context: process.
void signal_task_exit(void);
// Timer tick (sched_tick, interrupt context): fire expired ITIMER_REAL/alarm timers as
// SIGALRM, for every task — sleeping ones too. t is the interrupted task (unused).
void signal_timer_tick(struct task *t);
// Arm (or with value_ns 0 disarm) the current task's ITIMER_REAL; returns through *old_*
// what was left. Context: process.
void signal_alarm_set(uint64_t value_ns, uint64_t interval_ns, uint64_t *old_value_ns,
		      uint64_t *old_interval_ns);

// --- the parent's view (for kernel/exit.c) ---

// True if parent's SIGCHLD is SIG_IGN or has SA_NOCLDWAIT: its exiting children are
// reaped at once instead of becoming zombies. Context: any.
bool signal_parent_ignores_children(struct task *parent);
// Tell child's parent that the child exited (child->exit_code holds the wait status):
// send child->exit_signal with CLD_EXITED/CLD_KILLED/CLD_DUMPED details (none if the
// parent's action for it is SIG_IGN) and wake its waiters. Returns true if the parent
// ignores children (SIG_IGN or SA_NOCLDWAIT on SIGCHLD): the child should be reaped now.
// Caller holds tasklist_lock.
bool signal_notify_parent_exit_locked(struct task *child);
