// Job control: what the stop signals, SIGCONT and SIGKILL do to a process's stop state, and
// the stop itself. A stop signal whose action is SIG_DFL, once dequeued (signal_deliver.c),
// stops the task in TASK_STOPPED; the parent hears of it (wait4's report, SIGCHLD with
// CLD_STOPPED). SIGCONT or SIGKILL, sent by anyone, ends the stop; after SIGCONT the parent
// hears of the continue (CLD_CONTINUED).
//
// Locks: the stop state (signal_handlers: stopped, stop_dequeued, cont_notify) is under
// the table's lock, taken inside task->sig_lock; the wait4 report fields under
// tasklist_lock.
#include <trapeze/sched.h>
#include <trapeze/signal.h>
#include <trapeze/task.h>
#include <asm/cpu.h>

#include "signal_internal.h"

bool signal_stop_cont_locked(struct task *t, struct signal_handlers *sh, int sig)
{
	bool resume = false;

	if (SIG_BIT(sig) & STOP_SIGNALS) {
		t->sig_pending &= ~SIG_BIT(SIGCONT);
		return false;
	}
	if (sig != SIGCONT && sig != SIGKILL)
		return false;
	if (sig == SIGCONT)
		t->sig_pending &= ~STOP_SIGNALS;
	else
		t->fatal_signal = SIGKILL;
	if (sh) {
		sh->stop_dequeued = false;
		if (sh->stopped) {
			sh->stopped = false;
			sh->cont_notify = sig == SIGCONT;
			resume = true;
		}
	}
	return resume;
}

// Report a stop (code CLD_STOPPED) or continue (CLD_CONTINUED) of the current task to its
// parent: the wait4 report fields, SIGCHLD unless the parent set SA_NOCLDSTOP, a wake-up.
static void signal_notify_parent_jobctl(int code, int sig)
{
	struct task *t = current, *parent;
	struct signal_info info = { .code = code, .pid = t->tgid, .status = sig };
	struct sigaction act;
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);

	t->stop_signal = sig;
	t->stop_report = code == CLD_STOPPED;
	t->continue_report = code == CLD_CONTINUED;
	parent = t->parent;
	if (parent) {
		signal_action_get(parent, SIGCHLD, &act);
		if (!(act.sa_flags & SA_NOCLDSTOP))
			signal_send_info(parent, SIGCHLD, &info);
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	task_notify_parent_waiters();
}

// Sleep in TASK_STOPPED until SIGCONT or SIGKILL ends the stop. Returns true if SIGCONT did
// (the parent is to hear of it). Context: process; sleeps.
static bool signal_stop_wait(struct signal_handlers *sh)
{
	struct task *t = current;
	uint64_t flags;
	bool cont;

	for (;;) {
		flags = spin_lock_irqsave(&t->sig_lock);
		spin_lock(&sh->lock);
		if (!sh->stopped || t->fatal_signal)
			break;
		// Senders of SIGCONT/SIGKILL change this state under sig_lock.
		t->state = TASK_STOPPED;
		spin_unlock(&sh->lock);
		spin_unlock_irqrestore(&t->sig_lock, flags);
		schedule();
	}
	cont = sh->cont_notify;
	sh->cont_notify = false;
	spin_unlock(&sh->lock);
	spin_unlock_irqrestore(&t->sig_lock, flags);
	return cont;
}

void signal_stop(int sig)
{
	struct task *t = current;
	struct signal_handlers *sh = t->sighand;
	uint64_t flags;
	bool stop;

	if (!sh)
		return; // no table, no stop state: only kernel-made tasks lack one
	flags = spin_lock_irqsave(&t->sig_lock);
	spin_lock(&sh->lock);
	// A SIGCONT or SIGKILL that came after the stop signal was dequeued cancels it.
	stop = sh->stop_dequeued && !t->fatal_signal;
	sh->stop_dequeued = false;
	sh->stopped = stop;
	spin_unlock(&sh->lock);
	spin_unlock_irqrestore(&t->sig_lock, flags);
	if (!stop)
		return;
	signal_notify_parent_jobctl(CLD_STOPPED, sig);
	if (signal_stop_wait(sh))
		signal_notify_parent_jobctl(CLD_CONTINUED, SIGCONT);
}

bool signal_task_stopped(struct task *t)
{
	uint64_t flags = spin_lock_irqsave(&t->sig_lock);
	struct signal_handlers *sh = t->sighand;
	bool stopped = false;

	if (sh) {
		spin_lock(&sh->lock);
		stopped = sh->stopped;
		spin_unlock(&sh->lock);
	}
	spin_unlock_irqrestore(&t->sig_lock, flags);
	return stopped;
}
