// Unit tests of signal queueing (kernel/signal.c) and siginfo layout (signal_frame.c), on a
// stand-in task that is never scheduled: it "sleeps" uninterruptibly, so sending to it
// never wakes it, and its mm is a dummy non-NULL pointer, because kernel tasks (no mm)
// take no signals.
#include <trapeze/kmalloc.h>
#include <trapeze/ktest.h>
#include <trapeze/signal.h>
#include <trapeze/string.h>
#include <trapeze/task.h>
#include <uapi/errno.h>

static struct task *fake_task_alloc(void)
{
	struct task *t = kzalloc(sizeof(*t));

	if (!t)
		return NULL;
	t->sighand = signal_handlers_alloc();
	if (!t->sighand) {
		kfree(t);
		return NULL;
	}
	spin_init(&t->sig_lock, "fake.sig_lock");
	t->state = TASK_UNINTERRUPTIBLE;
	t->mm = (struct mm *)t; // any non-NULL value: never dereferenced here
	return t;
}

static void fake_task_free(struct task *t)
{
	signal_handlers_put(t->sighand);
	kfree(t);
}

KTEST(signal_ignored_dropped, "signals: ignored signals are dropped unless blocked")
{
	struct task *tk = fake_task_alloc();

	KT_EXPECT(t, tk != NULL);
	if (!tk)
		return;
	signal_send(tk, SIGCHLD); // default action: ignore
	signal_send(tk, SIGWINCH);
	KT_EXPECT(t, tk->sig_pending == 0);
	tk->sighand->action[SIGUSR1 - 1].sa_handler = SIG_IGN;
	signal_send(tk, SIGUSR1);
	KT_EXPECT(t, tk->sig_pending == 0);
	tk->sig_blocked = SIG_BIT(SIGUSR1) | SIG_BIT(SIGCHLD);
	signal_send(tk, SIGUSR1);
	signal_send(tk, SIGCHLD);
	KT_EXPECT(t, tk->sig_pending == (SIG_BIT(SIGUSR1) | SIG_BIT(SIGCHLD)));
	signal_send(tk, SIGTERM);
	KT_EXPECT(t, tk->sig_pending & SIG_BIT(SIGTERM));
	KT_EXPECT(t, signal_send(tk, 0) == -EINVAL && signal_send(tk, NSIG + 1) == -EINVAL);
	fake_task_free(tk);
}

KTEST(signal_stop_cont_cancel, "signals: SIGCONT discards stops, a stop discards SIGCONT")
{
	struct task *tk = fake_task_alloc();

	KT_EXPECT(t, tk != NULL);
	if (!tk)
		return;
	tk->sighand->action[SIGCONT - 1].sa_handler = 0x1000; // caught, so it queues
	signal_send(tk, SIGTSTP);
	signal_send(tk, SIGTTIN);
	KT_EXPECT(t, tk->sig_pending == (SIG_BIT(SIGTSTP) | SIG_BIT(SIGTTIN)));
	signal_send(tk, SIGCONT);
	KT_EXPECT(t, tk->sig_pending == SIG_BIT(SIGCONT));
	signal_send(tk, SIGSTOP);
	KT_EXPECT(t, tk->sig_pending == SIG_BIT(SIGSTOP));
	KT_EXPECT(t, tk->fatal_signal == 0);
	signal_send(tk, SIGKILL);
	KT_EXPECT(t, tk->fatal_signal == SIGKILL);
	fake_task_free(tk);
}

KTEST(signal_zombie_and_kernel_task, "signals: zombies and kernel tasks take no signals")
{
	struct task *tk = fake_task_alloc();

	KT_EXPECT(t, tk != NULL);
	if (!tk)
		return;
	tk->state = TASK_ZOMBIE;
	signal_send(tk, SIGTERM);
	KT_EXPECT(t, tk->sig_pending == 0);
	tk->state = TASK_UNINTERRUPTIBLE;
	tk->mm = NULL;
	signal_send(tk, SIGKILL);
	KT_EXPECT(t, tk->sig_pending == 0 && tk->fatal_signal == 0);
	fake_task_free(tk);
}

KTEST(signal_first_info_kept, "signals: a standard signal sent twice keeps the first siginfo")
{
	struct task *tk = fake_task_alloc();
	struct signal_info a = { .code = SI_USER, .pid = 11 }, b = { .code = SI_USER, .pid = 22 };

	KT_EXPECT(t, tk != NULL);
	if (!tk)
		return;
	signal_send_info(tk, SIGUSR2, &a);
	signal_send_info(tk, SIGUSR2, &b);
	KT_EXPECT(t, tk->sighand->info[SIGUSR2 - 1].pid == 11);
	fake_task_free(tk);
}

KTEST(signal_handlers_dup_copies, "signals: fork copies actions but not pending details")
{
	struct signal_handlers *a = signal_handlers_alloc(), *b;

	KT_EXPECT(t, a != NULL);
	if (!a)
		return;
	a->action[SIGINT - 1].sa_handler = 0x4000;
	a->action[SIGINT - 1].sa_flags = SA_RESTART;
	a->info[SIGINT - 1].pid = 5;
	b = signal_handlers_dup(a);
	KT_EXPECT(t, b != NULL);
	if (b) {
		KT_EXPECT(t, b->action[SIGINT - 1].sa_handler == 0x4000);
		KT_EXPECT(t, b->action[SIGINT - 1].sa_flags == SA_RESTART);
		KT_EXPECT(t, b->info[SIGINT - 1].pid == 0 && b->refs == 1);
		signal_handlers_put(b);
	}
	b = signal_handlers_dup(NULL);
	KT_EXPECT(t, b != NULL && b->action[SIGINT - 1].sa_handler == SIG_DFL);
	signal_handlers_put(b);
	signal_handlers_put(a);
}

KTEST(signal_action_ignore_rules, "signals: which dispositions ignore a signal")
{
	struct sigaction dfl = { .sa_handler = SIG_DFL }, ign = { .sa_handler = SIG_IGN };
	struct sigaction caught = { .sa_handler = 0x1234 };

	KT_EXPECT(t, signal_action_ignores(&dfl, SIGCHLD));
	KT_EXPECT(t, signal_action_ignores(&dfl, SIGCONT));
	KT_EXPECT(t, signal_action_ignores(&dfl, SIGURG));
	KT_EXPECT(t, !signal_action_ignores(&dfl, SIGTERM));
	KT_EXPECT(t, !signal_action_ignores(&dfl, SIGRTMIN + 3));
	KT_EXPECT(t, signal_action_ignores(&ign, SIGTERM));
	KT_EXPECT(t, !signal_action_ignores(&caught, SIGCHLD));
}

KTEST(signal_siginfo_layouts, "signals: siginfo carries the fields of each kind of signal")
{
	struct signal_info chld = { .code = CLD_EXITED, .pid = 7, .status = 3 };
	struct signal_info fault = { .code = SEGV_MAPERR, .addr = 0xdead };
	struct signal_info user = { .code = SI_USER, .pid = 9, .uid = 1 };
	struct siginfo si;
	uint8_t *raw = (uint8_t *)&si;
	int32_t v;

	signal_siginfo_fill(&si, SIGCHLD, &chld);
	KT_EXPECT(t, si.si_signo == SIGCHLD && si.si_code == CLD_EXITED);
	memcpy(&v, raw + 16, 4);
	KT_EXPECT(t, v == 7); // si_pid
	memcpy(&v, raw + 24, 4);
	KT_EXPECT(t, v == 3); // si_status
	signal_siginfo_fill(&si, SIGSEGV, &fault);
	KT_EXPECT(t, si.u.fault.addr == 0xdead && si.si_code == SEGV_MAPERR);
	signal_siginfo_fill(&si, SIGSEGV, &user); // kill -SEGV: sender, not an address
	KT_EXPECT(t, si.u.kill.pid == 9 && si.u.kill.uid == 1 && si.si_code == SI_USER);
}
