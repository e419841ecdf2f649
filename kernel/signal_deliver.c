// Signal delivery, in the receiving task's own context on its way back to user mode
// (exit_to_user_mode -> signal_deliver_pending): default actions run here (terminate,
// "core dump" — only the wait status says so —, stop, ignore), and a caught signal gets a
// frame on the user stack (signal_frame.c). A system call that returned -ERESTART* is
// turned into EINTR or restarted here too. Also the other ways to take a signal off:
// rt_sigtimedwait's dequeue and the wait for a deliverable signal (pause, sigsuspend).
//
// Locks: task->sig_lock, then signal_handlers->lock, as the sending side takes them.
#include <trapeze/rlimit.h>
#include <trapeze/sched.h>
#include <trapeze/signal.h>
#include <trapeze/string.h>
#include <trapeze/task.h>
#include <asm/cpu.h>
#include <asm/pt_regs.h>
#include <uapi/errno.h>

#include "signal_internal.h"

#define SYSCALL_INSN_LEN 2 // "syscall" (0f 05): backing RIP up by this re-executes it

// The wait status of a task killed by sig's default action.
static int signal_exit_status(int sig)
{
	// No core file is ever written; like Linux, report "core dumped" only when the
	// RLIMIT_CORE soft limit would have allowed one.
	if (signal_default_action(sig) == SIGDEF_CORE && rlimit(RLIMIT_CORE) > 0)
		return sig | WAIT_CORE_FLAG;
	return sig;
}

// The lowest signal in ready, synchronous faults first; 0 if none.
static int signal_pick(uint64_t ready)
{
	if (ready & SYNC_SIGNALS)
		ready &= SYNC_SIGNALS;
	return ready ? __builtin_ctzll(ready) + 1 : 0;
}

// Take the next deliverable signal off the current task: synchronous faults first, then
// the lowest number. Returns 0 if none. Applies SA_RESETHAND, and marks a stop signal as
// on its way (stop_dequeued) so that a SIGCONT arriving meanwhile can cancel it.
static int signal_dequeue(struct sigaction *act, struct signal_info *info)
{
	struct task *t = current;
	struct signal_handlers *sh = t->sighand;
	uint64_t flags = spin_lock_irqsave(&t->sig_lock);
	int sig = signal_pick(t->sig_pending & ~t->sig_blocked);

	if (sig) {
		t->sig_pending &= ~SIG_BIT(sig);
		memset(act, 0, sizeof(*act));
		memset(info, 0, sizeof(*info));
		if (sh) {
			spin_lock(&sh->lock);
			*act = sh->action[sig - 1];
			*info = sh->info[sig - 1];
			if (sig >= SIGRTMIN && signal_rt_refill_locked(sh, sig))
				t->sig_pending |= SIG_BIT(sig);
			if (act->sa_handler > SIG_IGN && (act->sa_flags & SA_RESETHAND))
				sh->action[sig - 1].sa_handler = SIG_DFL;
			if (act->sa_handler == SIG_DFL && (SIG_BIT(sig) & STOP_SIGNALS))
				sh->stop_dequeued = true;
			spin_unlock(&sh->lock);
		}
	}
	spin_unlock_irqrestore(&t->sig_lock, flags);
	return sig;
}

int signal_dequeue_set(uint64_t set, struct signal_info *info)
{
	struct task *t = current;
	struct signal_handlers *sh = t->sighand;
	uint64_t flags = spin_lock_irqsave(&t->sig_lock);
	int sig = signal_pick(t->sig_pending & set);

	if (sig) {
		t->sig_pending &= ~SIG_BIT(sig);
		memset(info, 0, sizeof(*info));
		if (sh) {
			spin_lock(&sh->lock);
			*info = sh->info[sig - 1];
			if (sig >= SIGRTMIN && signal_rt_refill_locked(sh, sig))
				t->sig_pending |= SIG_BIT(sig);
			spin_unlock(&sh->lock);
		}
	}
	spin_unlock_irqrestore(&t->sig_lock, flags);
	return sig;
}

void signal_wait_interruptible(void)
{
	struct task *t = current;
	uint64_t flags;

	for (;;) {
		// Checked and slept on under sig_lock, which a sender holds while it wakes us.
		flags = spin_lock_irqsave(&t->sig_lock);
		if (signal_pending_current()) {
			spin_unlock_irqrestore(&t->sig_lock, flags);
			return;
		}
		t->state = TASK_INTERRUPTIBLE;
		spin_unlock_irqrestore(&t->sig_lock, flags);
		schedule();
	}
}

// A system call interrupted by a signal: turn its -ERESTART* result into EINTR or a
// restart (RIP back on the syscall instruction, RAX the call number again). act is the
// handler about to run, NULL if none. Only system calls have orig_rax >= 0 (exceptions
// set -1, interrupts -1 too). ERESTART_RESTARTBLOCK restarts as restart_syscall (which
// resumes from task->restart) when no handler runs, and becomes EINTR when one does.
#define NR_restart_syscall 219

static void syscall_restart_fixup(struct pt_regs *regs, const struct sigaction *act)
{
	bool restart;

	if ((int64_t)regs->orig_rax < 0)
		return;
	switch ((int64_t)regs->rax) {
	case -ERESTARTNOINTR:
		restart = true;
		break;
	case -ERESTARTSYS:
		restart = !act || (act->sa_flags & SA_RESTART);
		break;
	case -ERESTARTNOHAND:
		restart = !act;
		break;
	case -ERESTART_RESTARTBLOCK:
		if (!act) {
			regs->rax = NR_restart_syscall;
			regs->rip -= SYSCALL_INSN_LEN;
			return;
		}
		restart = false;
		break;
	default:
		return;
	}
	if (restart) {
		regs->rax = regs->orig_rax;
		regs->rip -= SYSCALL_INSN_LEN;
	} else {
		regs->rax = (uint64_t)-EINTR;
	}
}

// Enter sig's handler: frame on the user stack, then the mask while it runs.
static void signal_handle(struct pt_regs *regs, int sig, const struct sigaction *act,
			  const struct signal_info *info)
{
	struct task *t = current;
	uint64_t old = t->restore_sigmask ? t->saved_sigmask : t->sig_blocked;
	uint64_t mask;

	syscall_restart_fixup(regs, act);
	if (signal_frame_setup(regs, sig, act, info, old)) {
		// No frame, no handler: SIGSEGV instead, as Linux's force_sigsegv, which a
		// handler on the alternate stack may still catch. If SIGSEGV's own frame is
		// what failed, nothing can run: die of it.
		if (sig == SIGSEGV)
			do_group_exit(signal_exit_status(SIGSEGV));
		signal_force_fault(SIGSEGV, SI_KERNEL, 0);
		return;
	}
	// rt_sigsuspend's caller mask is now in the frame: rt_sigreturn restores it.
	t->restore_sigmask = false;
	mask = t->sig_blocked | act->sa_mask;
	if (!(act->sa_flags & SA_NODEFER))
		mask |= SIG_BIT(sig);
	signal_set_blocked(mask);
}

// POSIX: the keyboard stop signals (SIGTSTP, SIGTTIN, SIGTTOU) do not stop a member of an
// orphaned process group, which nobody could continue; they are discarded.
static bool signal_orphaned_current(void)
{
	struct task *t = current;
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	bool orphaned = pgrp_is_orphaned_locked(t->pgid, t->sid, NULL);

	spin_unlock_irqrestore(&tasklist_lock, flags);
	return orphaned;
}

void signal_deliver_pending(struct pt_regs *regs)
{
	struct task *t = current;
	struct signal_info info;
	struct sigaction act;
	int sig;

	for (;;) {
		if (t->fatal_signal)
			do_group_exit(signal_exit_status(t->fatal_signal));
		sig = signal_dequeue(&act, &info);
		if (!sig)
			break;
		if (act.sa_handler == SIG_IGN)
			continue;
		if (act.sa_handler != SIG_DFL) {
			signal_handle(regs, sig, &act, &info);
			return;
		}
		if (t == init_task)
			continue; // blocked when sent, unblocked since: still not for init
		switch (signal_default_action(sig)) {
		case SIGDEF_IGNORE:
		case SIGDEF_CONTINUE:
			continue;
		case SIGDEF_STOP:
			if (sig == SIGSTOP || !signal_orphaned_current())
				signal_stop(sig);
			continue;
		default:
			do_group_exit(signal_exit_status(sig));
		}
	}
	// No handler ran: restart what can be restarted, and undo rt_sigsuspend's mask.
	syscall_restart_fixup(regs, NULL);
	if (t->restore_sigmask) {
		t->restore_sigmask = false;
		signal_set_blocked(t->saved_sigmask);
	}
}
