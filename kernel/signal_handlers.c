// The per-process signal table (struct signal_handlers): the actions, the details of
// pending signals, the queue of real-time signal instances, the stop state; and what fork,
// execve and exit do with it. The sending and delivery code read and write it under its
// lock (kernel/signal.c, signal_deliver.c).
//
// Lock: signal_handlers->lock, inside task->sig_lock (include/trapeze/lockorder.h); a
// task's sighand pointer changes only under its sig_lock.
#include <trapeze/kmalloc.h>
#include <trapeze/signal.h>
#include <trapeze/string.h>
#include <trapeze/task.h>
#include <asm/cpu.h>

#include "signal_internal.h"

// --- the real-time signal queue ---

struct signal_queued {
	struct list_head link; // on signal_handlers.rt_queue
	int sig;
	struct signal_info info;
};

bool signal_rt_enqueue_locked(struct signal_handlers *sh, int sig, const struct signal_info *info)
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

bool signal_rt_refill_locked(struct signal_handlers *sh, int sig)
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
