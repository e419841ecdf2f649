// Signals (kernel/signal.c). Linux numbering and semantics.
#pragma once

#include <trapeze/types.h>
#include <uapi/signal.h>

struct task;

// Queue sig for t (with si_code SI_KERNEL) and wake it if it sleeps interruptibly.
// Context: any; does not sleep.
int signal_send(struct task *t, int sig);
// A synchronous fault signal for the current task (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP)
// with si_code and si_addr, as an exception handler sends it. A blocked or ignored fault
// signal kills the task, as on Linux.
void signal_force_fault(int sig, int si_code, uintptr_t addr);
