// Private to the signal code (kernel/signal*.c): the classes of signals, and the functions
// one part of it calls in another. The rest of the kernel uses include/trapeze/signal.h.
//
//	signal.c           sending: queueing, what a target ignores, faults, the exit report
//	signal_handlers.c  the per-process table: actions, pending details, real-time queue
//	signal_stop.c      job control: stopping on a stop signal, SIGCONT and SIGKILL ending it
//	signal_deliver.c   delivery on the way to user mode: default actions, handlers, restarts
//	signal_frame.c     the frame on the user stack, rt_sigreturn, the alternate stack
//	sys_signal.c       the system calls and ITIMER_REAL
//	pgrp.c             process groups and sessions
#pragma once

#include <trapeze/signal.h>

#define STOP_SIGNALS (SIG_BIT(SIGSTOP) | SIG_BIT(SIGTSTP) | SIG_BIT(SIGTTIN) | SIG_BIT(SIGTTOU))
// Signals caused by the instruction just executed: delivered before any other.
#define SYNC_SIGNALS                                                               \
	(SIG_BIT(SIGSEGV) | SIG_BIT(SIGBUS) | SIG_BIT(SIGILL) | SIG_BIT(SIGTRAP) | \
	 SIG_BIT(SIGFPE) | SIG_BIT(SIGSYS))
#define CORE_SIGNALS                                                                \
	(SIG_BIT(SIGQUIT) | SIG_BIT(SIGILL) | SIG_BIT(SIGTRAP) | SIG_BIT(SIGABRT) | \
	 SIG_BIT(SIGBUS) | SIG_BIT(SIGFPE) | SIG_BIT(SIGSEGV) | SIG_BIT(SIGXCPU) |  \
	 SIG_BIT(SIGXFSZ) | SIG_BIT(SIGSYS))
#define IGNORED_SIGNALS (SIG_BIT(SIGCHLD) | SIG_BIT(SIGURG) | SIG_BIT(SIGWINCH))

enum signal_default {
	SIGDEF_TERMINATE,
	SIGDEF_CORE,
	SIGDEF_IGNORE,
	SIGDEF_STOP,
	SIGDEF_CONTINUE,
};

// What SIG_DFL does with sig (signal.c).
enum signal_default signal_default_action(int sig);

// Queue one more instance of a real-time signal that is already pending. Caller holds
// sh->lock. Returns false when the queue is full (the instance is lost, as on Linux past
// RLIMIT_SIGPENDING) or memory is short. (signal_handlers.c)
bool signal_rt_enqueue_locked(struct signal_handlers *sh, int sig, const struct signal_info *info);
// After sig was taken off: move its next queued instance into sh->info and say whether
// there was one (the signal then stays pending). Caller holds sh->lock. (signal_handlers.c)
bool signal_rt_refill_locked(struct signal_handlers *sh, int sig);

// The immediate effects of SIGKILL, SIGCONT and the stop signals on a target, whatever
// its handlers. Returns true if the target must leave a stop. Caller holds t->sig_lock and
// sh->lock (sh may be NULL). (signal_stop.c)
bool signal_stop_cont_locked(struct task *t, struct signal_handlers *sh, int sig);
// Stop the current task for the stop signal sig, dequeued with SIG_DFL, until SIGCONT or
// SIGKILL; the parent hears of the stop and of the continue. Context: process; sleeps.
// (signal_stop.c)
void signal_stop(int sig);
