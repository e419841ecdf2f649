// The signal system calls: rt_sigaction, rt_sigprocmask, rt_sigpending, rt_sigsuspend,
// pause, rt_sigtimedwait, sigaltstack, kill, tkill, tgkill, alarm, setitimer, getitimer,
// and the ITIMER_REAL machinery behind the last three (signal_timer_tick).
// (rt_sigreturn is in signal_frame.c, the process-group calls in pgrp.c.)
//
// Signal sets are the kernel's 8-byte sigset: calls that take a sigsetsize want 8, as
// Linux x86-64 does (libc passes _NSIG/8 = 8). Every user pointer goes through uaccess.
#include <trapeze/sched.h>
#include <trapeze/signal.h>
#include <trapeze/syscall.h>
#include <trapeze/task.h>
#include <trapeze/uaccess.h>
#include <asm/cpu.h>
#include <asm/irq.h>
#include <asm/pt_regs.h>

#define SIGSET_SIZE sizeof(uint64_t)
#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_USEC 1000ULL
#define USEC_PER_SEC 1000000LL
// Longer timer values are clamped here (about 272 years) so nanoseconds cannot overflow.
#define TIMER_MAX_SEC (1LL << 33)

// sa_flags bits this kernel knows; others are dropped, so that reading the action back
// tells a program which flags are supported (Linux >= 5.11).
#define SA_KNOWN                                                                       \
	(SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | SA_ONSTACK | SA_RESTART | SA_NODEFER | \
	 SA_RESETHAND | SA_RESTORER | SA_EXPOSE_TAGBITS)

// The user layouts of struct timeval, struct itimerval and struct timespec (x86-64).
struct itimerval_user {
	int64_t interval_sec, interval_usec;
	int64_t value_sec, value_usec;
};

struct timespec_user {
	int64_t tv_sec, tv_nsec;
};

static bool signal_valid(int sig)
{
	return sig >= 1 && sig <= NSIG;
}

// --- dispositions and masks ---

// Install *act for sig in the current task's table, saving the old one in *old.
static int signal_action_set(int sig, const struct sigaction *act, struct sigaction *old)
{
	struct task *t = current;
	struct signal_handlers *sh = signal_handlers_current();
	uint64_t flags;

	if (!sh)
		return -ENOMEM;
	flags = spin_lock_irqsave(&t->sig_lock);
	spin_lock(&sh->lock);
	*old = sh->action[sig - 1];
	if (act) {
		sh->action[sig - 1] = *act;
		sh->action[sig - 1].sa_flags &= SA_KNOWN;
		sh->action[sig - 1].sa_mask &= ~SIG_UNBLOCKABLE;
		// POSIX: making a pending signal ignored discards it.
		if (signal_action_ignores(act, sig)) {
			t->sig_pending &= ~SIG_BIT(sig);
			signal_rt_flush(sh, sig);
		}
	}
	spin_unlock(&sh->lock);
	spin_unlock_irqrestore(&t->sig_lock, flags);
	return 0;
}

long sys_rt_sigaction(int sig, const struct sigaction __user *uact, struct sigaction __user *uoact,
		      size_t sigsetsize)
{
	struct sigaction act, old;
	int err;

	if (sigsetsize != SIGSET_SIZE || !signal_valid(sig))
		return -EINVAL;
	if (uact && (sig == SIGKILL || sig == SIGSTOP))
		return -EINVAL;
	if (uact && copy_from_user(&act, uact, sizeof(act)))
		return -EFAULT;
	err = signal_action_set(sig, uact ? &act : NULL, &old);
	if (err)
		return err;
	if (uoact && copy_to_user(uoact, &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

long sys_rt_sigprocmask(int how, const uint64_t __user *uset, uint64_t __user *uoset,
			size_t sigsetsize)
{
	struct task *t = current;
	uint64_t old = t->sig_blocked, set, flags;

	if (sigsetsize != SIGSET_SIZE)
		return -EINVAL;
	if (uset) {
		if (copy_from_user(&set, uset, sizeof(set)))
			return -EFAULT;
		if (how != SIG_BLOCK && how != SIG_UNBLOCK && how != SIG_SETMASK)
			return -EINVAL;
		flags = spin_lock_irqsave(&t->sig_lock);
		old = t->sig_blocked;
		if (how == SIG_BLOCK)
			t->sig_blocked |= set;
		else if (how == SIG_UNBLOCK)
			t->sig_blocked &= ~set;
		else
			t->sig_blocked = set;
		t->sig_blocked &= ~SIG_UNBLOCKABLE;
		spin_unlock_irqrestore(&t->sig_lock, flags);
	}
	if (uoset && copy_to_user(uoset, &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

// The signals that are pending because they are blocked.
long sys_rt_sigpending(uint64_t __user *uset, size_t sigsetsize)
{
	struct task *t = current;
	uint64_t flags, set;

	if (sigsetsize > SIGSET_SIZE)
		return -EINVAL;
	flags = spin_lock_irqsave(&t->sig_lock);
	set = t->sig_pending & t->sig_blocked;
	spin_unlock_irqrestore(&t->sig_lock, flags);
	return copy_to_user(uset, &set, sigsetsize) ? -EFAULT : 0;
}

// Wait with a temporary mask for a signal whose handler then runs with the caller's mask
// saved in its frame (restore_sigmask); -ERESTARTNOHAND makes it return EINTR then, or
// restart with the temporary mask again if no handler ran.
long sys_rt_sigsuspend(const uint64_t __user *umask, size_t sigsetsize)
{
	struct task *t = current;
	uint64_t mask, flags;

	if (sigsetsize != SIGSET_SIZE)
		return -EINVAL;
	if (copy_from_user(&mask, umask, sizeof(mask)))
		return -EFAULT;
	flags = spin_lock_irqsave(&t->sig_lock);
	t->saved_sigmask = t->sig_blocked;
	t->sig_blocked = mask & ~SIG_UNBLOCKABLE;
	t->restore_sigmask = true;
	spin_unlock_irqrestore(&t->sig_lock, flags);
	signal_wait_interruptible();
	return -ERESTARTNOHAND;
}

long sys_pause(void)
{
	signal_wait_interruptible();
	return -ERESTARTNOHAND;
}

// Sleep for a signal of set with the set unblocked; 0 or -ERESTARTSYS from the sleep.
// timeout_ns UINT64_MAX: no timeout.
static int sigtimedwait_sleep(struct signal_handlers *sh, uint64_t set, uint64_t timeout_ns)
{
	struct task *t = current;
	uint64_t flags, blocked;
	int err = -ERESTARTSYS;

	flags = spin_lock_irqsave(&t->sig_lock);
	spin_lock(&sh->lock);
	sh->waiting = set;
	spin_unlock(&sh->lock);
	blocked = t->sig_blocked;
	t->sig_blocked &= ~set;
	spin_unlock_irqrestore(&t->sig_lock, flags);
	if (timeout_ns == UINT64_MAX)
		signal_wait_interruptible();
	else
		err = sleep_ns(timeout_ns, NULL);
	flags = spin_lock_irqsave(&t->sig_lock);
	t->sig_blocked = blocked;
	spin_lock(&sh->lock);
	sh->waiting = 0;
	spin_unlock(&sh->lock);
	spin_unlock_irqrestore(&t->sig_lock, flags);
	return err;
}

static int timespec_to_ns(const struct timespec_user *ts, uint64_t *ns)
{
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= (int64_t)NSEC_PER_SEC)
		return -EINVAL;
	*ns = (uint64_t)MIN(ts->tv_sec, TIMER_MAX_SEC) * NSEC_PER_SEC + (uint64_t)ts->tv_nsec;
	return 0;
}

long sys_rt_sigtimedwait(const uint64_t __user *uset, struct siginfo __user *uinfo,
			 const struct timespec_user __user *uts, size_t sigsetsize)
{
	struct signal_handlers *sh = signal_handlers_current();
	uint64_t set, timeout_ns = UINT64_MAX;
	struct timespec_user ts;
	struct signal_info info;
	struct siginfo si;
	int sig, err;

	if (sigsetsize != SIGSET_SIZE)
		return -EINVAL;
	if (copy_from_user(&set, uset, sizeof(set)))
		return -EFAULT;
	if (uts && copy_from_user(&ts, uts, sizeof(ts)))
		return -EFAULT;
	if (uts && (err = timespec_to_ns(&ts, &timeout_ns)))
		return err;
	if (!sh)
		return -ENOMEM;
	set &= ~SIG_UNBLOCKABLE;
	sig = signal_dequeue_set(set, &info);
	if (!sig && timeout_ns) {
		err = sigtimedwait_sleep(sh, set, timeout_ns);
		sig = signal_dequeue_set(set, &info);
		if (!sig)
			return err ? -EINTR : -EAGAIN;
	}
	if (!sig)
		return -EAGAIN;
	if (uinfo) {
		signal_siginfo_fill(&si, sig, &info);
		if (copy_to_user(uinfo, &si, sizeof(si)))
			return -EFAULT;
	}
	return sig;
}

long sys_sigaltstack(const struct sigaltstack __user *uss, struct sigaltstack __user *uoss)
{
	uint64_t sp = current_user_regs()->rsp;
	struct sigaltstack ss, old;
	int err;

	signal_altstack_get(&old, sp);
	if (uss) {
		if (copy_from_user(&ss, uss, sizeof(ss)))
			return -EFAULT;
		err = signal_altstack_set(&ss, sp);
		if (err)
			return err;
	}
	if (uoss && copy_to_user(uoss, &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

// --- kill ---

// kill(-1): every process except init and the caller. Kernel tasks take no signals.
static int signal_kill_all(int sig, const struct signal_info *info)
{
	struct task *t;
	bool found = false;
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);

	list_for_each_entry(t, &task_list, all_link) {
		if (t->state == TASK_DEAD || t->pid <= 1 || t->tgid == current->tgid ||
		    t != t->group_leader || (!t->mm && t->state != TASK_ZOMBIE))
			continue;
		found = true;
		if (sig)
			signal_send_info(signal_process_target_locked(t, sig), sig, info);
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return found ? 0 : -ESRCH;
}

// Send sig to the task pid (tgid: the task itself, when nonzero, must be in that process).
// process: to the process pid belongs to (kill), which picks the thread; else to that
// very thread (tkill, tgkill).
static int signal_kill_one(pid_t pid, pid_t tgid, bool process, int sig,
			   const struct signal_info *info)
{
	struct task *t;
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	int err = 0;

	t = task_find(pid);
	if (!t || (tgid && t->tgid != tgid))
		err = -ESRCH;
	else if (sig)
		signal_send_info(process ? signal_process_target_locked(t, sig) : t, sig, info);
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return err;
}

long sys_kill(pid_t pid, int sig)
{
	struct signal_info info = { .code = SI_USER, .pid = current->tgid };

	if (sig < 0 || sig > NSIG)
		return -EINVAL;
	if (pid > 0)
		return signal_kill_one(pid, 0, true, sig, &info);
	if (pid == 0)
		return pgrp_signal(current->pgid, sig, &info);
	if (pid == -1)
		return signal_kill_all(sig, &info);
	if (pid == INT32_MIN)
		return -ESRCH;
	return pgrp_signal(-pid, sig, &info);
}

long sys_tkill(pid_t tid, int sig)
{
	struct signal_info info = { .code = SI_TKILL, .pid = current->tgid };

	if (tid <= 0 || sig < 0 || sig > NSIG)
		return -EINVAL;
	return signal_kill_one(tid, 0, false, sig, &info);
}

long sys_tgkill(pid_t tgid, pid_t tid, int sig)
{
	struct signal_info info = { .code = SI_TKILL, .pid = current->tgid };

	if (tgid <= 0 || tid <= 0 || sig < 0 || sig > NSIG)
		return -EINVAL;
	return signal_kill_one(tid, tgid, false, sig, &info);
}

// --- ITIMER_REAL and alarm ---
//
// Each task's timer is an absolute expiry (task->alarm_at_ns) and a period. The timer tick
// checks them all, sleeping tasks included, but walks the task list only when the earliest
// expiry may have come.

// No armed timer expires before this time: a lower bound that spares the timer tick a
// walk over all tasks. Lowered by every arming, recomputed by each walk.
static uint64_t alarm_next_ns = UINT64_MAX;

static void alarm_next_lower(uint64_t at)
{
	uint64_t cur = __atomic_load_n(&alarm_next_ns, __ATOMIC_SEQ_CST);

	while (at < cur &&
	       !__atomic_compare_exchange_n(&alarm_next_ns, &cur, at, false, __ATOMIC_SEQ_CST,
					    __ATOMIC_SEQ_CST))
		;
}

void signal_alarm_set(uint64_t value_ns, uint64_t interval_ns, uint64_t *old_value_ns,
		      uint64_t *old_interval_ns)
{
	struct task *t = current;
	uint64_t now = time_ns();
	uint64_t flags = spin_lock_irqsave(&t->sig_lock);

	*old_value_ns = t->alarm_at_ns > now ? t->alarm_at_ns - now : 0;
	*old_interval_ns = t->alarm_interval_ns;
	t->alarm_at_ns = value_ns ? (now + value_ns < now ? UINT64_MAX : now + value_ns) : 0;
	t->alarm_interval_ns = value_ns ? interval_ns : 0;
	if (value_ns)
		alarm_next_lower(t->alarm_at_ns);
	spin_unlock_irqrestore(&t->sig_lock, flags);
}

// Advance t's timer if it expired: *fired says whether SIGALRM is due. Returns the next
// expiry (0: none). Caller holds sig_lock.
static uint64_t alarm_check_locked(struct task *t, uint64_t now, bool *fired)
{
	uint64_t at = t->alarm_at_ns;

	*fired = false;
	if (!at || at > now)
		return at;
	if (t->state == TASK_ZOMBIE || t->state == TASK_DEAD) {
		t->alarm_at_ns = 0;
		return 0;
	}
	*fired = true;
	// A periodic timer keeps its phase; expiries missed while ticks were late merge.
	if (t->alarm_interval_ns)
		at += ((now - at) / t->alarm_interval_ns + 1) * t->alarm_interval_ns;
	else
		at = 0;
	t->alarm_at_ns = at;
	return at;
}

void signal_timer_tick(struct task *unused)
{
	struct signal_info info = { .code = SI_KERNEL };
	uint64_t now = time_ns(), next = UINT64_MAX, flags;
	struct task *t;

	if (now < __atomic_load_n(&alarm_next_ns, __ATOMIC_SEQ_CST))
		return;
	// Reset the bound before the walk: a timer armed during it lowers it again.
	__atomic_store_n(&alarm_next_ns, UINT64_MAX, __ATOMIC_SEQ_CST);
	flags = spin_lock_irqsave(&tasklist_lock);
	list_for_each_entry(t, &task_list, all_link) {
		uint64_t at;
		bool fired;

		spin_lock(&t->sig_lock);
		at = alarm_check_locked(t, now, &fired);
		spin_unlock(&t->sig_lock);
		if (fired)
			signal_send_info(t, SIGALRM, &info);
		if (at && at < next)
			next = at;
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	alarm_next_lower(next);
}

long sys_alarm(unsigned int seconds)
{
	uint64_t old, old_interval, secs;

	signal_alarm_set((uint64_t)seconds * NSEC_PER_SEC, 0, &old, &old_interval);
	// What was left, rounded to the nearest second but never 0 for an armed alarm.
	secs = old / NSEC_PER_SEC;
	if ((old % NSEC_PER_SEC) >= NSEC_PER_SEC / 2 || (!secs && old))
		secs++;
	return (long)secs;
}

static int timeval_to_ns(int64_t sec, int64_t usec, uint64_t *ns)
{
	if (sec < 0 || usec < 0 || usec >= USEC_PER_SEC)
		return -EINVAL;
	*ns = (uint64_t)MIN(sec, TIMER_MAX_SEC) * NSEC_PER_SEC + (uint64_t)usec * NSEC_PER_USEC;
	return 0;
}

static void ns_to_timeval(uint64_t ns, int64_t *sec, int64_t *usec)
{
	// Round up, so that an armed timer never reads as disarmed.
	ns = DIV_ROUND_UP(ns, NSEC_PER_USEC) * NSEC_PER_USEC;
	*sec = (int64_t)(ns / NSEC_PER_SEC);
	*usec = (int64_t)((ns % NSEC_PER_SEC) / NSEC_PER_USEC);
}

static int itimer_put(struct itimerval_user __user *uold, uint64_t value, uint64_t interval)
{
	struct itimerval_user old;

	ns_to_timeval(value, &old.value_sec, &old.value_usec);
	ns_to_timeval(interval, &old.interval_sec, &old.interval_usec);
	return copy_to_user(uold, &old, sizeof(old));
}

// Only ITIMER_REAL exists; the CPU-time timers return EINVAL.
long sys_setitimer(int which, const struct itimerval_user __user *unew,
		   struct itimerval_user __user *uold)
{
	struct itimerval_user new = { 0 };
	uint64_t value, interval, old_value, old_interval;
	int err;

	if (which != ITIMER_REAL)
		return -EINVAL;
	// A NULL new value disarms, as Linux still allows.
	if (unew && copy_from_user(&new, unew, sizeof(new)))
		return -EFAULT;
	err = timeval_to_ns(new.value_sec, new.value_usec, &value);
	if (!err)
		err = timeval_to_ns(new.interval_sec, new.interval_usec, &interval);
	if (err)
		return err;
	signal_alarm_set(value, interval, &old_value, &old_interval);
	if (uold && itimer_put(uold, old_value, old_interval))
		return -EFAULT;
	return 0;
}

long sys_getitimer(int which, struct itimerval_user __user *uold)
{
	struct task *t = current;
	uint64_t now = time_ns(), flags, value, interval;

	if (which != ITIMER_REAL)
		return -EINVAL;
	flags = spin_lock_irqsave(&t->sig_lock);
	value = t->alarm_at_ns > now ? t->alarm_at_ns - now : 0;
	interval = t->alarm_interval_ns;
	spin_unlock_irqrestore(&t->sig_lock, flags);
	return itimer_put(uold, value, interval) ? -EFAULT : 0;
}
