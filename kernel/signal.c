// Signals: sending, pending, default actions and delivery, with Linux semantics.
//
// Sending sets a bit in task->sig_pending (and records the siginfo details in the task's
// signal_handlers) and wakes the task if it sleeps interruptibly. SIGKILL and SIGCONT act
// at once, whatever the target is doing: both end a stop; SIGCONT discards pending stop
// signals and a stop signal discards a pending SIGCONT. A signal the target ignores (and
// does not block) is discarded when sent, as on Linux.
//
// Delivery happens in the target's own context, on its way back to user mode
// (exit_to_user_mode -> signal_deliver_pending): default actions run here (terminate,
// "core dump" — only the wait status says so —, stop, ignore), and a caught signal gets a
// frame on the user stack (signal_frame.c). A system call that returned -ERESTART* is
// turned into EINTR or restarted here too.
//
// Locks (all irqsave, since the timer and the tty send signals from interrupt context):
// tasklist_lock -> task->sig_lock -> signal_handlers->lock -> rq_lock (wake_up_task).
#include <trapeze/kmalloc.h>
#include <trapeze/panic.h>
#include <trapeze/rlimit.h>
#include <trapeze/sched.h>
#include <trapeze/signal.h>
#include <trapeze/string.h>
#include <trapeze/task.h>
#include <asm/cpu.h>
#include <asm/pt_regs.h>
#include <uapi/errno.h>

#define SYSCALL_INSN_LEN 2 // "syscall" (0f 05): backing RIP up by this re-executes it

#define STOP_SIGNALS (SIG_BIT(SIGSTOP) | SIG_BIT(SIGTSTP) | SIG_BIT(SIGTTIN) | SIG_BIT(SIGTTOU))
// Signals caused by the instruction just executed: delivered before any other.
#define SYNC_SIGNALS                                                                   \
	(SIG_BIT(SIGSEGV) | SIG_BIT(SIGBUS) | SIG_BIT(SIGILL) | SIG_BIT(SIGTRAP) |        \
	 SIG_BIT(SIGFPE) | SIG_BIT(SIGSYS))
#define CORE_SIGNALS                                                                   \
	(SIG_BIT(SIGQUIT) | SIG_BIT(SIGILL) | SIG_BIT(SIGTRAP) | SIG_BIT(SIGABRT) |       \
	 SIG_BIT(SIGBUS) | SIG_BIT(SIGFPE) | SIG_BIT(SIGSEGV) | SIG_BIT(SIGXCPU) |        \
	 SIG_BIT(SIGXFSZ) | SIG_BIT(SIGSYS))
#define IGNORED_SIGNALS (SIG_BIT(SIGCHLD) | SIG_BIT(SIGURG) | SIG_BIT(SIGWINCH))

enum signal_default {
	SIGDEF_TERMINATE,
	SIGDEF_CORE,
	SIGDEF_IGNORE,
	SIGDEF_STOP,
	SIGDEF_CONTINUE,
};

static enum signal_default signal_default_action(int sig)
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

// The wait status of a task killed by sig's default action.
static int signal_exit_status(int sig)
{
	// No core file is ever written; like Linux, report "core dumped" only when the
	// RLIMIT_CORE soft limit would have allowed one.
	if (signal_default_action(sig) == SIGDEF_CORE && rlimit(RLIMIT_CORE) > 0)
		return sig | WAIT_CORE_FLAG;
	return sig;
}

// --- the real-time signal queue ---

struct signal_queued {
	struct list_head link; // on signal_handlers.rt_queue
	int sig;
	struct signal_info info;
};

// Queue one more instance of a real-time signal that is already pending. Caller holds
// sh->lock. Returns false when the queue is full (the instance is lost, as on Linux past
// RLIMIT_SIGPENDING) or memory is short.
static bool signal_rt_enqueue_locked(struct signal_handlers *sh, int sig,
				     const struct signal_info *info)
{
	struct signal_queued *q;

	if (sh->rt_queued >= SIGQUEUE_MAX)
		return false;
	q = kmalloc(sizeof(*q));
	if (!q)
		return false;
	q->sig = sig;
	q->info = *info;
	list_add_tail(&q->link, &sh->rt_queue);
	sh->rt_queued++;
	return true;
}

// After sig was taken off: move its next queued instance into sh->info and say whether
// there was one (the signal then stays pending). Caller holds sh->lock.
static bool signal_rt_refill_locked(struct signal_handlers *sh, int sig)
{
	struct signal_queued *q;

	list_for_each_entry(q, &sh->rt_queue, link) {
		if (q->sig != sig)
			continue;
		sh->info[sig - 1] = q->info;
		list_del(&q->link);
		sh->rt_queued--;
		kfree(q);
		return true;
	}
	return false;
}

void signal_rt_flush(struct signal_handlers *sh, int sig)
{
	struct signal_queued *q, *tmp;

	list_for_each_entry_safe(q, tmp, &sh->rt_queue, link) {
		if (sig && q->sig != sig)
			continue;
		list_del(&q->link);
		sh->rt_queued--;
		kfree(q);
	}
}

// --- signal_handlers ---

struct signal_handlers *signal_handlers_alloc(void)
{
	struct signal_handlers *sh = kzalloc(sizeof(*sh));

	if (!sh)
		return NULL;
	spin_init(&sh->lock, "signal_handlers.lock");
	sh->refs = 1;
	list_init(&sh->rt_queue);
	return sh;
}

struct signal_handlers *signal_handlers_dup(struct signal_handlers *old)
{
	struct signal_handlers *sh = signal_handlers_alloc();
	uint64_t flags;

	if (!sh || !old)
		return sh;
	flags = spin_lock_irqsave(&old->lock);
	memcpy(sh->action, old->action, sizeof(sh->action));
	spin_unlock_irqrestore(&old->lock, flags);
	return sh;
}

struct signal_handlers *signal_handlers_get(struct signal_handlers *sh)
{
	uint64_t flags = spin_lock_irqsave(&sh->lock);

	sh->refs++;
	spin_unlock_irqrestore(&sh->lock, flags);
	return sh;
}

void signal_handlers_put(struct signal_handlers *sh)
{
	uint64_t flags;
	int refs;

	if (!sh)
		return;
	flags = spin_lock_irqsave(&sh->lock);
	refs = --sh->refs;
	spin_unlock_irqrestore(&sh->lock, flags);
	if (refs == 0) {
		signal_rt_flush(sh, 0);
		kfree(sh);
	}
}

// Install sh as the current task's table. Senders read task->sighand under sig_lock.
static void signal_handlers_install(struct signal_handlers *sh)
{
	struct task *t = current;
	uint64_t flags = spin_lock_irqsave(&t->sig_lock);

	t->sighand = sh;
	spin_unlock_irqrestore(&t->sig_lock, flags);
}

struct signal_handlers *signal_handlers_current(void)
{
	// Only the task itself installs its table, so there is no race to lose here.
	if (!current->sighand)
		signal_handlers_install(signal_handlers_alloc());
	return current->sighand;
}

void signal_action_get(struct task *t, int sig, struct sigaction *act)
{
	struct signal_handlers *sh;
	uint64_t flags = spin_lock_irqsave(&t->sig_lock);

	// Under t's sig_lock, t cannot drop its table (signal_task_exit) while we read it.
	sh = t->sighand;
	if (sh) {
		spin_lock(&sh->lock);
		*act = sh->action[sig - 1];
		spin_unlock(&sh->lock);
	} else {
		memset(act, 0, sizeof(*act));
	}
	spin_unlock_irqrestore(&t->sig_lock, flags);
}

void signal_exec_reset(void)
{
	struct task *t = current;
	struct signal_handlers *sh = t->sighand, *own;
	uint64_t flags;

	// A table shared with another task (CLONE_SIGHAND) is unshared first, so that the
	// reset does not change the other task's handlers. Without memory, reset in place.
	if (sh && READ_ONCE(sh->refs) > 1 && (own = signal_handlers_dup(sh))) {
		signal_handlers_install(own);
		signal_handlers_put(sh);
		sh = own;
	}
	if (sh) {
		flags = spin_lock_irqsave(&sh->lock);
		for (int i = 0; i < NSIG; i++) {
			struct sigaction *a = &sh->action[i];

			// The new program's code is not at the old handler addresses.
			if (a->sa_handler != SIG_IGN)
				a->sa_handler = SIG_DFL;
			a->sa_flags = 0;
			a->sa_restorer = 0;
			a->sa_mask = 0;
		}
		spin_unlock_irqrestore(&sh->lock, flags);
	}
	flags = spin_lock_irqsave(&t->sig_lock);
	t->sigaltstack_sp = 0;
	t->sigaltstack_size = 0;
	t->sigaltstack_flags = 0;
	spin_unlock_irqrestore(&t->sig_lock, flags);
}

void signal_task_exit(void)
{
	struct task *t = current;
	struct signal_handlers *sh;
	uint64_t flags = spin_lock_irqsave(&t->sig_lock);

	// Senders look at sighand under sig_lock: after this they see none and drop signals.
	sh = t->sighand;
	t->sighand = NULL;
	t->alarm_at_ns = 0;
	t->alarm_interval_ns = 0;
	spin_unlock_irqrestore(&t->sig_lock, flags);
	signal_handlers_put(sh);
}

// --- sending ---

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

// The immediate effects of SIGKILL, SIGCONT and the stop signals on a target, whatever
// its handlers. Returns true if the target must leave a stop. Caller holds t->sig_lock and
// sh->lock (sh may be NULL).
static bool signal_stop_cont_locked(struct task *t, struct signal_handlers *sh, int sig)
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

int signal_send(struct task *t, int sig)
{
	struct signal_info info = { .code = SI_KERNEL };

	return signal_send_info(t, sig, &info);
}

void signal_force_fault(int sig, int si_code, uintptr_t addr)
{
	struct task *t = current;
	struct signal_handlers *sh = t->sighand;
	struct signal_info info = { .code = si_code, .addr = addr };
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
		sh->info[sig - 1] = info;
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
		signal_send_info(parent, sig, &info);
	return autoreap;
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

// --- delivery ---

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

// Stop the current task for sig until SIGCONT or SIGKILL. Context: process; sleeps.
static void signal_stop(int sig)
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
	if (signal_frame_setup(regs, sig, act, info, old))
		do_exit(signal_exit_status(SIGSEGV)); // no stack to run the handler on
	// rt_sigsuspend's caller mask is now in the frame: rt_sigreturn restores it.
	t->restore_sigmask = false;
	mask = t->sig_blocked | act->sa_mask;
	if (!(act->sa_flags & SA_NODEFER))
		mask |= SIG_BIT(sig);
	signal_set_blocked(mask);
}

void signal_deliver_pending(struct pt_regs *regs)
{
	struct task *t = current;
	struct signal_info info;
	struct sigaction act;
	int sig;

	for (;;) {
		if (t->fatal_signal)
			do_exit(signal_exit_status(t->fatal_signal));
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
			signal_stop(sig);
			continue;
		default:
			do_exit(signal_exit_status(sig));
		}
	}
	// No handler ran: restart what can be restarted, and undo rt_sigsuspend's mask.
	syscall_restart_fixup(regs, NULL);
	if (t->restore_sigmask) {
		t->restore_sigmask = false;
		signal_set_blocked(t->saved_sigmask);
	}
}
