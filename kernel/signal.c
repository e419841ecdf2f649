// Signals: sending, with Linux semantics. (The other parts: kernel/signal_internal.h.)
//
// Sending sets a bit in task->sig_pending (and records the siginfo details in the task's
// signal_handlers) and wakes the task if it sleeps interruptibly. SIGKILL and SIGCONT act
// at once, whatever the target is doing: both end a stop; SIGCONT discards pending stop
// signals and a stop signal discards a pending SIGCONT (signal_stop.c). A signal the target
// ignores (and does not block) is discarded when sent, as on Linux. Delivery happens later,
// in the target's own context (signal_deliver.c).
//
// Locks (all irqsave, since the timer and the tty send signals from interrupt context):
// tasklist_lock -> task->sig_lock -> signal_handlers->lock -> rq_lock (wake_up_task).
#include <trapeze/sched.h>
#include <trapeze/signal.h>
#include <trapeze/task.h>
#include <asm/cpu.h>
#include <uapi/errno.h>

#include "signal_internal.h"

enum signal_default signal_default_action(int sig)
{
	uint64_t bit = SIG_BIT(sig);

	if (bit & CORE_SIGNALS)
		return SIGDEF_CORE;
	if (bit & IGNORED_SIGNALS)
		return SIGDEF_IGNORE;
	if (bit & STOP_SIGNALS)
		return SIGDEF_STOP;
	if (sig == SIGCONT)
		return SIGDEF_CONTINUE;
	return SIGDEF_TERMINATE; // including the real-time signals
}

bool signal_action_ignores(const struct sigaction *act, int sig)
{
	enum signal_default def = signal_default_action(sig);

	return act->sa_handler == SIG_IGN ||
	       (act->sa_handler == SIG_DFL && (def == SIGDEF_IGNORE || def == SIGDEF_CONTINUE));
}

// Make t notice a newly pending signal. A TASK_STOPPED task is turned into an ordinary
// sleeper first, because wake_up_task wakes sleepers only; the stop loop (signal_stop)
// then sees that the stop is over. Caller holds t->sig_lock.
static void signal_wake_locked(struct task *t, bool deliverable, bool resume)
{
	assert_held(&t->sig_lock);
	if (resume && t->state == TASK_STOPPED) {
		t->state = TASK_INTERRUPTIBLE;
		wake_up_task(t);
		return;
	}
	// Never TASK_UNINTERRUPTIBLE: those sleeps (and tasks not started yet) must not end early.
	if (deliverable && t->state == TASK_INTERRUPTIBLE)
		wake_up_task(t);
}

// Whether t discards sig at once: not blocked, and its action is to ignore it.
static bool signal_ignored_locked(struct task *t, struct signal_handlers *sh, int sig)
{
	uint64_t handler = sh ? sh->action[sig - 1].sa_handler : SIG_DFL;
	enum signal_default def = signal_default_action(sig);

	if ((t->sig_blocked | (sh ? sh->waiting : 0)) & SIG_BIT(sig))
		return false; // the action may change before it is unblocked
	if (handler == SIG_IGN)
		return true;
	if (handler != SIG_DFL)
		return false;
	// init receives only the signals it has handlers for (Linux SIGNAL_UNKILLABLE).
	if (t == init_task)
		return true;
	return def == SIGDEF_IGNORE || def == SIGDEF_CONTINUE;
}

// Queue sig for t. Caller holds t->sig_lock.
static void signal_queue_locked(struct task *t, int sig, const struct signal_info *info)
{
	struct signal_handlers *sh = t->sighand;
	uint64_t bit = SIG_BIT(sig);
	bool resume, queued = false;

	assert_held(&t->sig_lock);
	// Zombies hold only a wait status; kernel tasks (no mm) take no signals.
	if (t->state == TASK_ZOMBIE || t->state == TASK_DEAD || !t->mm)
		return;
	if (sh)
		spin_lock(&sh->lock);
	if (t == init_task && signal_ignored_locked(t, sh, sig)) {
		if (sh)
			spin_unlock(&sh->lock);
		return; // not even SIGKILL's or SIGCONT's side effects
	}
	resume = signal_stop_cont_locked(t, sh, sig);
	if (!signal_ignored_locked(t, sh, sig)) {
		// A standard signal does not queue twice: the first one's details stay.
		if (sh && !(t->sig_pending & bit))
			sh->info[sig - 1] = *info;
		else if (sh && sig >= SIGRTMIN)
			signal_rt_enqueue_locked(sh, sig, info);
		t->sig_pending |= bit;
		queued = true;
	}
	if (sh)
		spin_unlock(&sh->lock);
	signal_wake_locked(t, queued && !(t->sig_blocked & bit), resume);
}

int signal_send_info(struct task *t, int sig, const struct signal_info *info)
{
	uint64_t flags;

	if (sig < 1 || sig > NSIG)
		return -EINVAL;
	flags = spin_lock_irqsave(&t->sig_lock);
	signal_queue_locked(t, sig, info);
	spin_unlock_irqrestore(&t->sig_lock, flags);
	return 0;
}

struct task *signal_process_target_locked(struct task *t, int sig)
{
	struct task *leader = t->group_leader, *o, *live = NULL;

	assert_held(&tasklist_lock);
	if (leader->state != TASK_ZOMBIE && leader->state != TASK_DEAD &&
	    !(READ_ONCE(leader->sig_blocked) & SIG_BIT(sig)))
		return leader;
	list_for_each_entry(o, &task_list, all_link) {
		if (o->tgid != leader->tgid || o->state == TASK_ZOMBIE || o->state == TASK_DEAD)
			continue;
		if (!(READ_ONCE(o->sig_blocked) & SIG_BIT(sig)))
			return o;
		if (!live)
			live = o;
	}
	if (leader->state != TASK_ZOMBIE && leader->state != TASK_DEAD)
		return leader;
	return live ? live : leader;
}

int signal_send(struct task *t, int sig)
{
	struct signal_info info = { .code = SI_KERNEL };

	return signal_send_info(t, sig, &info);
}

static void signal_force_info(struct task *t, int sig, const struct signal_info *info);

void signal_force_fault(int sig, int si_code, uintptr_t addr)
{
	struct signal_info info = { .code = si_code, .addr = addr };

	signal_force_info(current, sig, &info);
}

void signal_force_trap(int sig, int si_code, uintptr_t addr, int trapno, uint64_t error_code)
{
	struct signal_info info = { .code = si_code, .addr = addr, .from_trap = true,
				    .trapno = trapno, .error_code = error_code };

	signal_force_info(current, sig, &info);
}

// Queue a fault signal for t (the current task) with these details; a blocked or ignored
// one kills instead.
static void signal_force_info(struct task *t, int sig, const struct signal_info *info)
{
	struct signal_handlers *sh = t->sighand;
	uint64_t handler = SIG_DFL, flags;

	flags = spin_lock_irqsave(&t->sig_lock);
	if (sh) {
		spin_lock(&sh->lock);
		handler = sh->action[sig - 1].sa_handler;
	}
	// Blocked or ignored, the fault would only repeat: die of it instead. A fault inside
	// the handler for the same fault is this case too, since the handler blocks its signal.
	if (handler == SIG_IGN || (t->sig_blocked & SIG_BIT(sig))) {
		handler = SIG_DFL;
		if (sh)
			sh->action[sig - 1].sa_handler = SIG_DFL;
		t->sig_blocked &= ~SIG_BIT(sig);
	}
	if (handler == SIG_DFL)
		t->fatal_signal = sig; // even init dies of a fault
	if (sh) {
		sh->info[sig - 1] = *info;
		spin_unlock(&sh->lock);
	}
	t->sig_pending |= SIG_BIT(sig);
	spin_unlock_irqrestore(&t->sig_lock, flags);
}

bool signal_pending_current(void)
{
	struct task *t = current;

	// Lock-free on purpose: sleep_ns calls this under rq_lock, which nests inside
	// sig_lock. A sender sets the bit before it wakes the sleeper, so nothing is missed.
	return READ_ONCE(t->fatal_signal) ||
	       (READ_ONCE(t->sig_pending) & ~READ_ONCE(t->sig_blocked));
}

void signal_set_blocked(uint64_t mask)
{
	struct task *t = current;
	uint64_t flags = spin_lock_irqsave(&t->sig_lock);

	t->sig_blocked = mask & ~SIG_UNBLOCKABLE;
	spin_unlock_irqrestore(&t->sig_lock, flags);
}

// --- parent notification ---

bool signal_parent_ignores_children(struct task *parent)
{
	struct sigaction act;

	signal_action_get(parent, SIGCHLD, &act);
	return act.sa_handler == SIG_IGN || (act.sa_flags & SA_NOCLDWAIT);
}

bool signal_notify_parent_exit_locked(struct task *child)
{
	struct task *parent = child->parent;
	int status = child->exit_code, sig = child->exit_signal;
	struct signal_info info = { .pid = child->tgid, .status = status & 0x7f };
	struct sigaction act;
	bool autoreap;

	assert_held(&tasklist_lock);
	if (!parent)
		return false;
	if ((status & 0x7f) == 0) {
		info.code = CLD_EXITED;
		info.status = (status >> 8) & 0xff;
	} else {
		info.code = (status & WAIT_CORE_FLAG) ? CLD_DUMPED : CLD_KILLED;
	}
	signal_action_get(parent, SIGCHLD, &act);
	autoreap = sig == SIGCHLD && (act.sa_handler == SIG_IGN || (act.sa_flags & SA_NOCLDWAIT));
	if (sig && !(sig == SIGCHLD && act.sa_handler == SIG_IGN))
		signal_send_info(signal_process_target_locked(parent, sig), sig, &info);
	return autoreap;
}
