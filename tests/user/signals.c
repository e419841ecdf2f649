// Signals from user space: sending (kill, tgkill) and what the handler learns (siginfo);
// the sigaction flags SA_SIGINFO, SA_RESTART, SA_NODEFER, SA_RESETHAND and sa_mask; blocking,
// pending, sigsuspend and pause; alarm and setitimer; the default actions (terminate,
// ignore, stop and continue as wait4 reports them); SIGKILL for tasks asleep in the kernel;
// process groups and sessions, and signals sent to a whole group.
//
// Exceptions turned into signals, the signal frame and sigaltstack are in sigframe.c.
// Every test runs in its own forked child (tap.h), so handlers and masks set here never
// leak into the next test. The harness's alarm(TAP_TIMEOUT) is re-armed by the tests that
// use the real-time timer themselves.

#define _GNU_SOURCE
#include "tap.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#define NSEC_PER_MSEC 1000000LL
#define NSEC_PER_SEC 1000000000LL
#define NR_RT_SIGPENDING 127

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * NSEC_PER_MSEC };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static pid_t gettid_raw(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static void *shared_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	TAP_REQUIRE(p != MAP_FAILED);
	return p;
}

// Install handler for sig with flags; SA_SIGINFO picks the three-argument form.
static void set_handler(int sig, void (*handler)(int, siginfo_t *, void *), int flags,
			const sigset_t *mask)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = flags | SA_SIGINFO;
	if (mask)
		sa.sa_mask = *mask;
	else
		sigemptyset(&sa.sa_mask);
	TAP_REQUIRE(sigaction(sig, &sa, NULL) == 0);
}

static sigset_t sigset_of(int sig)
{
	sigset_t set;

	sigemptyset(&set);
	if (sig)
		sigaddset(&set, sig);
	return set;
}

static void block(int sig)
{
	sigset_t set = sigset_of(sig);

	TAP_REQUIRE(sigprocmask(SIG_BLOCK, &set, NULL) == 0);
}

static void unblock(int sig)
{
	sigset_t set = sigset_of(sig);

	TAP_REQUIRE(sigprocmask(SIG_UNBLOCK, &set, NULL) == 0);
}

#define CHECK_SIGNALED(status, sig)                                                   \
	do {                                                                          \
		char buf_[96];                                                        \
		int st_ = (status);                                                   \
		if (st_ == -1 || !WIFSIGNALED(st_) || WTERMSIG(st_) != (sig))          \
			tap_fail_at(__FILE__, __LINE__, "child %s, want signal %d",    \
				    st_ == -1 ? "not waited for" :                     \
				    tap_status_str(st_, buf_, sizeof(buf_)), (sig));  \
	} while (0)

#define CHECK_EXITED(status, code)                                                    \
	do {                                                                          \
		char buf_[96];                                                        \
		int st_ = (status);                                                   \
		if (st_ == -1 || !WIFEXITED(st_) || WEXITSTATUS(st_) != (code))       \
			tap_fail_at(__FILE__, __LINE__, "child %s, want exit status %d", \
				    st_ == -1 ? "not waited for" :                     \
				    tap_status_str(st_, buf_, sizeof(buf_)), (code)); \
	} while (0)

// ---- sending and siginfo -------------------------------------------------------------------

static volatile sig_atomic_t hits;
static volatile siginfo_t last_info;

static void record_info(int sig, siginfo_t *info, void *uc)
{
	hits++;
	memcpy((void *)&last_info, info, sizeof(*info));
}

// kill() is delivered before it returns (the signal is for us and not blocked) with
// si_code SI_USER and the sender's pid and uid.
static void test_kill_siginfo(void)
{
	set_handler(SIGUSR1, record_info, 0, NULL);
	TAP_CHECK_EQ(kill(getpid(), SIGUSR1), 0);
	TAP_CHECK_EQ(hits, 1);
	TAP_CHECK_EQ(last_info.si_signo, SIGUSR1);
	TAP_CHECK_EQ(last_info.si_code, SI_USER);
	TAP_CHECK_EQ(last_info.si_pid, getpid());
	TAP_CHECK_EQ(last_info.si_uid, getuid());
}

// tgkill (and tkill) give SI_TKILL; a wrong thread group is ESRCH, signal 0 checks only.
static void test_tgkill_siginfo(void)
{
	set_handler(SIGUSR2, record_info, 0, NULL);
	TAP_CHECK_EQ(syscall(SYS_tgkill, getpid(), gettid_raw(), SIGUSR2), 0);
	TAP_CHECK_EQ(hits, 1);
	TAP_CHECK_EQ(last_info.si_signo, SIGUSR2);
	TAP_CHECK_EQ(last_info.si_code, SI_TKILL);
	TAP_CHECK_EQ(last_info.si_pid, getpid());
	TAP_CHECK_EQ(syscall(SYS_tkill, gettid_raw(), SIGUSR2), 0);
	TAP_CHECK_EQ(hits, 2);
	TAP_CHECK_EQ(last_info.si_code, SI_TKILL);
	TAP_CHECK_EQ(syscall(SYS_tgkill, getpid(), gettid_raw(), 0), 0);
	TAP_CHECK_EQ(hits, 2);
	TAP_CHECK_EQ(syscall(SYS_tgkill, getppid(), gettid_raw(), SIGUSR2), -1);
	TAP_CHECK_EQ(errno, ESRCH);
	TAP_CHECK_EQ(syscall(SYS_tgkill, getpid(), gettid_raw(), 65), -1);
	TAP_CHECK_EQ(errno, EINVAL);
}

// A signal from another process carries that process's pid.
static void test_siginfo_from_child(void)
{
	sigset_t none = sigset_of(0);
	pid_t parent = getpid(), child;

	set_handler(SIGUSR1, record_info, 0, NULL);
	block(SIGUSR1);
	child = fork();
	TAP_REQUIRE(child >= 0);
	if (child == 0) {
		kill(parent, SIGUSR1);
		_exit(0);
	}
	sigsuspend(&none);
	TAP_CHECK_EQ(hits, 1);
	TAP_CHECK_EQ(last_info.si_code, SI_USER);
	TAP_CHECK_EQ(last_info.si_pid, child);
	CHECK_EXITED(tap_wait(child), 0);
}

static void test_bad_signal_numbers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	TAP_CHECK_EQ(kill(getpid(), 65), -1);
	TAP_CHECK_EQ(errno, EINVAL);
	TAP_CHECK_EQ(sigaction(SIGKILL, &sa, NULL), -1);
	TAP_CHECK_EQ(errno, EINVAL);
	TAP_CHECK_EQ(sigaction(SIGSTOP, &sa, NULL), -1);
	TAP_CHECK_EQ(errno, EINVAL);
	TAP_CHECK_EQ(syscall(SYS_rt_sigaction, 0, &sa, NULL, 8), -1);
	TAP_CHECK_EQ(errno, EINVAL);
	TAP_CHECK_EQ(syscall(SYS_rt_sigaction, 65, NULL, &sa, 8), -1);
	TAP_CHECK_EQ(errno, EINVAL);
	TAP_CHECK_EQ(syscall(SYS_rt_sigaction, SIGUSR1, NULL, &sa, 4), -1);	// sigsetsize
	TAP_CHECK_EQ(errno, EINVAL);
	TAP_CHECK_EQ(sigaction(SIGKILL, NULL, &sa), 0);	// reading is allowed
	TAP_CHECK(sa.sa_handler == SIG_DFL);
}

// ---- sigaction flags -----------------------------------------------------------------------

static void count_signal(int sig, siginfo_t *info, void *uc)
{
	hits++;
}

// A writer that sends one byte to fd after ms milliseconds.
static pid_t delayed_writer(int fd, long ms)
{
	pid_t pid = fork();

	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		sleep_ms(ms);
		_exit(write(fd, "x", 1) == 1 ? 0 : 1);
	}
	return pid;
}

static void arm_timer_ms(long ms)
{
	struct itimerval it = { { 0, 0 }, { ms / 1000, (ms % 1000) * 1000 } };

	TAP_REQUIRE(setitimer(ITIMER_REAL, &it, NULL) == 0);
}

// A read on an empty pipe interrupted by a handled SIGALRM: with SA_RESTART it goes on and
// gets the byte written later; without it, it fails with EINTR at once.
static void test_sa_restart(void)
{
	int fds[2];
	char c = 0;
	pid_t writer;
	long long t0;
	ssize_t n;

	TAP_REQUIRE(pipe(fds) == 0);
	set_handler(SIGALRM, count_signal, SA_RESTART, NULL);
	writer = delayed_writer(fds[1], 400);
	arm_timer_ms(100);
	n = read(fds[0], &c, 1);
	TAP_CHECK_EQ(n, 1);
	TAP_CHECK_EQ(c, 'x');
	TAP_CHECK_EQ(hits, 1);
	CHECK_EXITED(tap_wait(writer), 0);

	hits = 0;
	set_handler(SIGALRM, count_signal, 0, NULL);
	writer = delayed_writer(fds[1], 400);
	t0 = now_ns();
	arm_timer_ms(100);
	errno = 0;
	n = read(fds[0], &c, 1);
	TAP_CHECK_EQ(n, -1);
	TAP_CHECK_EQ(errno, EINTR);
	TAP_CHECK_EQ(hits, 1);
	TAP_CHECK(now_ns() - t0 < 350 * NSEC_PER_MSEC);
	TAP_CHECK_EQ(read(fds[0], &c, 1), 1);	// the byte still comes
	CHECK_EXITED(tap_wait(writer), 0);
	alarm(TAP_TIMEOUT);
}

// nanosleep is never restarted: a handled signal ends it with EINTR and the time left.
static void test_nanosleep_eintr(void)
{
	struct timespec req = { 2, 0 }, rem = { 0, 0 };

	set_handler(SIGALRM, count_signal, SA_RESTART, NULL);
	arm_timer_ms(100);
	TAP_CHECK_EQ(nanosleep(&req, &rem), -1);
	TAP_CHECK_EQ(errno, EINTR);
	TAP_CHECK_EQ(hits, 1);
	tap_diag("remaining %ld.%09ld s", (long)rem.tv_sec, rem.tv_nsec);
	TAP_CHECK(rem.tv_sec == 1 || (rem.tv_sec == 0 && rem.tv_nsec > 500 * NSEC_PER_MSEC));
	TAP_CHECK(rem.tv_sec < 2);
	alarm(TAP_TIMEOUT);
}

static volatile int depth, max_depth;

static void nesting_handler(int sig, siginfo_t *info, void *uc)
{
	depth++;
	if (depth > max_depth)
		max_depth = depth;
	if (hits++ == 0)
		kill(getpid(), sig);
	depth--;
}

// Without SA_NODEFER the signal is blocked in its own handler: the second one waits until
// the first handler returns. With SA_NODEFER it nests.
static void test_sa_nodefer(void)
{
	set_handler(SIGUSR1, nesting_handler, 0, NULL);
	kill(getpid(), SIGUSR1);
	TAP_CHECK_EQ(hits, 2);
	TAP_CHECK_EQ(max_depth, 1);

	hits = max_depth = 0;
	set_handler(SIGUSR1, nesting_handler, SA_NODEFER, NULL);
	kill(getpid(), SIGUSR1);
	TAP_CHECK_EQ(hits, 2);
	TAP_CHECK_EQ(max_depth, 2);
}

static volatile int disposition_in_handler = -1;

static void resethand_handler(int sig, siginfo_t *info, void *uc)
{
	struct sigaction sa;

	hits++;
	if (sigaction(sig, NULL, &sa) == 0)
		disposition_in_handler = sa.sa_handler == SIG_DFL;
}

static void resethand_child(void)
{
	set_handler(SIGUSR1, resethand_handler, SA_RESETHAND, NULL);
	kill(getpid(), SIGUSR1);
	if (hits != 1 || disposition_in_handler != 1)
		_exit(1);
	kill(getpid(), SIGUSR1);	// the default action now: terminate
	_exit(2);
}

// SA_RESETHAND: the handler runs once, with the disposition already back at SIG_DFL.
static void test_sa_resethand(void)
{
	TAP_CHECK_KILLED_BY(resethand_child, SIGUSR1);
}

static volatile int order[4], norder;
static volatile int mask_ok;

static void mask_usr2_handler(int sig, siginfo_t *info, void *uc)
{
	order[norder++] = sig;
}

static void mask_usr1_handler(int sig, siginfo_t *info, void *uc)
{
	sigset_t now;

	order[norder++] = sig;
	sigprocmask(SIG_BLOCK, NULL, &now);
	mask_ok = sigismember(&now, SIGUSR1) && sigismember(&now, SIGUSR2) &&
		  !sigismember(&now, SIGINT);
	kill(getpid(), SIGUSR2);	// blocked by sa_mask: runs after we return
	order[norder++] = -sig;
}

// sa_mask (and the signal itself) are blocked while the handler runs, and the old mask is
// back afterwards.
static void test_sa_mask(void)
{
	sigset_t usr2 = sigset_of(SIGUSR2), after;

	set_handler(SIGUSR2, mask_usr2_handler, 0, NULL);
	set_handler(SIGUSR1, mask_usr1_handler, 0, &usr2);
	kill(getpid(), SIGUSR1);
	TAP_CHECK_EQ(norder, 3);
	TAP_CHECK_EQ(order[0], SIGUSR1);
	TAP_CHECK_EQ(order[1], -SIGUSR1);
	TAP_CHECK_EQ(order[2], SIGUSR2);
	TAP_CHECK_EQ(mask_ok, 1);
	TAP_REQUIRE(sigprocmask(SIG_BLOCK, NULL, &after) == 0);
	TAP_CHECK(!sigismember(&after, SIGUSR1));
	TAP_CHECK(!sigismember(&after, SIGUSR2));
}

// ---- blocking, pending, waiting ------------------------------------------------------------

// A blocked signal stays pending (sigpending and the raw rt_sigpending see it) and is
// delivered once when unblocked: standard signals do not queue, real-time signals do.
static void test_block_and_pending(void)
{
	uint64_t raw = 0;
	sigset_t pending;

	set_handler(SIGUSR1, count_signal, 0, NULL);
	block(SIGUSR1);
	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGUSR1);
	TAP_CHECK_EQ(hits, 0);
	TAP_REQUIRE(sigpending(&pending) == 0);
	TAP_CHECK(sigismember(&pending, SIGUSR1));
	TAP_CHECK(!sigismember(&pending, SIGUSR2));
	TAP_CHECK_EQ(syscall(NR_RT_SIGPENDING, &raw, 8), 0);
	TAP_CHECK_EQ(raw, 1ULL << (SIGUSR1 - 1));
	unblock(SIGUSR1);
	TAP_CHECK_EQ(hits, 1);
	TAP_REQUIRE(sigpending(&pending) == 0);
	TAP_CHECK(!sigismember(&pending, SIGUSR1));

	hits = 0;
	set_handler(SIGRTMIN, count_signal, 0, NULL);
	block(SIGRTMIN);
	for (int i = 0; i < 3; i++)
		kill(getpid(), SIGRTMIN);
	TAP_CHECK_EQ(hits, 0);
	unblock(SIGRTMIN);
	TAP_CHECK_EQ(hits, 3);
}

// SIGKILL and SIGSTOP cannot be blocked: sigprocmask drops them silently.
static void test_unblockable(void)
{
	sigset_t set, now;

	sigfillset(&set);
	TAP_REQUIRE(sigprocmask(SIG_SETMASK, &set, NULL) == 0);
	TAP_REQUIRE(sigprocmask(SIG_SETMASK, NULL, &now) == 0);
	TAP_CHECK(!sigismember(&now, SIGKILL));
	TAP_CHECK(!sigismember(&now, SIGSTOP));
	TAP_CHECK(sigismember(&now, SIGTERM));
	TAP_CHECK_EQ(sigprocmask(42, &set, NULL), -1);
	TAP_CHECK_EQ(errno, EINVAL);
}

// A child that sends sig to pid after ms milliseconds.
static pid_t delayed_kill(pid_t pid, int sig, long ms)
{
	pid_t child = fork();

	TAP_REQUIRE(child >= 0);
	if (child == 0) {
		sleep_ms(ms);
		kill(pid, sig);
		_exit(0);
	}
	return child;
}

// sigsuspend swaps in a mask, sleeps until a handled signal, returns EINTR and restores the
// old mask (where the signal is blocked again).
static void test_sigsuspend(void)
{
	sigset_t none = sigset_of(0), now;
	pid_t sender;

	set_handler(SIGUSR1, count_signal, 0, NULL);
	block(SIGUSR1);
	sender = delayed_kill(getpid(), SIGUSR1, 50);
	TAP_CHECK_EQ(sigsuspend(&none), -1);
	TAP_CHECK_EQ(errno, EINTR);
	TAP_CHECK_EQ(hits, 1);
	TAP_REQUIRE(sigprocmask(SIG_BLOCK, NULL, &now) == 0);
	TAP_CHECK(sigismember(&now, SIGUSR1));
	CHECK_EXITED(tap_wait(sender), 0);
	// Already pending: returns at once.
	kill(getpid(), SIGUSR1);
	TAP_CHECK_EQ(sigsuspend(&none), -1);
	TAP_CHECK_EQ(hits, 2);
}

static void test_pause(void)
{
	pid_t sender;

	set_handler(SIGUSR2, count_signal, 0, NULL);
	sender = delayed_kill(getpid(), SIGUSR2, 50);
	TAP_CHECK_EQ(pause(), -1);
	TAP_CHECK_EQ(errno, EINTR);
	TAP_CHECK_EQ(hits, 1);
	CHECK_EXITED(tap_wait(sender), 0);
}

// ---- timers --------------------------------------------------------------------------------

static void test_alarm(void)
{
	sigset_t none = sigset_of(0);
	long long t0, elapsed;

	set_handler(SIGALRM, count_signal, 0, NULL);
	alarm(5);
	TAP_CHECK_EQ(alarm(0), 5);	// the seconds left, rounded
	TAP_CHECK_EQ(alarm(0), 0);
	block(SIGALRM);
	t0 = now_ns();
	alarm(1);
	sigsuspend(&none);
	elapsed = now_ns() - t0;
	tap_diag("alarm(1) fired after %lld ms", elapsed / NSEC_PER_MSEC);
	TAP_CHECK_EQ(hits, 1);
	TAP_CHECK(elapsed >= 990 * NSEC_PER_MSEC);
	TAP_CHECK(elapsed < 2 * NSEC_PER_SEC);
	alarm(TAP_TIMEOUT);
}

// A periodic ITIMER_REAL: five SIGALRMs 20 ms apart; getitimer reports it; disarming stops it.
static void test_setitimer(void)
{
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } }, cur, old;
	sigset_t none = sigset_of(0);
	long long t0 = now_ns(), elapsed;

	set_handler(SIGALRM, count_signal, 0, NULL);
	block(SIGALRM);
	TAP_REQUIRE(setitimer(ITIMER_REAL, &it, NULL) == 0);
	TAP_REQUIRE(getitimer(ITIMER_REAL, &cur) == 0);
	TAP_CHECK_EQ(cur.it_interval.tv_sec, 0);
	TAP_CHECK_EQ(cur.it_interval.tv_usec, 20000);
	TAP_CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_usec <= 20000);
	while (hits < 5)
		sigsuspend(&none);
	elapsed = now_ns() - t0;
	tap_diag("5 ticks of 20 ms took %lld ms", elapsed / NSEC_PER_MSEC);
	TAP_CHECK(elapsed >= 95 * NSEC_PER_MSEC);
	TAP_CHECK(elapsed < NSEC_PER_SEC);
	memset(&it, 0, sizeof(it));
	TAP_REQUIRE(setitimer(ITIMER_REAL, &it, &old) == 0);
	TAP_CHECK_EQ(old.it_interval.tv_usec, 20000);
	unblock(SIGALRM);
	hits = 0;
	sleep_ms(80);
	TAP_CHECK_EQ(hits, 0);
	alarm(TAP_TIMEOUT);
}

// ---- default actions and job control -------------------------------------------------------

static void sigterm_child(void)
{
	kill(getpid(), SIGTERM);
	_exit(0);
}

// SIGCHLD, SIGURG and SIGWINCH are ignored by default; SIGCONT to a running task too.
static void ignored_by_default_child(void)
{
	kill(getpid(), SIGCHLD);
	kill(getpid(), SIGURG);
	kill(getpid(), SIGWINCH);
	kill(getpid(), SIGCONT);
	_exit(0);
}

static void ignored_child(void)
{
	signal(SIGTERM, SIG_IGN);
	kill(getpid(), SIGTERM);
	_exit(0);
}

static void test_default_actions(void)
{
	TAP_CHECK_KILLED_BY(sigterm_child, SIGTERM);
	CHECK_EXITED(tap_fork_status(ignored_by_default_child), 0);
	CHECK_EXITED(tap_fork_status(ignored_child), 0);
}

// SIGSTOP stops (wait4 WUNTRACED sees it, the task makes no progress), SIGCONT continues
// (WCONTINUED sees it), SIGKILL ends even a stopped task.
static void test_stop_continue(void)
{
	volatile uint64_t *counter = shared_alloc(sizeof(*counter));
	uint64_t snapshot;
	int status;
	pid_t pid = fork();

	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		for (;;)
			(*counter)++;
	}
	sleep_ms(20);
	TAP_CHECK_EQ(kill(pid, SIGSTOP), 0);
	TAP_CHECK_EQ(waitpid(pid, &status, WUNTRACED), pid);
	TAP_CHECK(WIFSTOPPED(status));
	TAP_CHECK_EQ(WSTOPSIG(status), SIGSTOP);
	snapshot = *counter;
	sleep_ms(100);
	TAP_CHECK_EQ(*counter, snapshot);
	TAP_CHECK_EQ(waitpid(pid, &status, WUNTRACED | WNOHANG), 0);	// reported once

	TAP_CHECK_EQ(kill(pid, SIGCONT), 0);
	TAP_CHECK_EQ(waitpid(pid, &status, WCONTINUED), pid);
	TAP_CHECK(WIFCONTINUED(status));
	sleep_ms(50);
	TAP_CHECK(*counter != snapshot);

	TAP_CHECK_EQ(kill(pid, SIGSTOP), 0);
	TAP_CHECK_EQ(waitpid(pid, &status, WUNTRACED), pid);
	TAP_CHECK(WIFSTOPPED(status));
	TAP_CHECK_EQ(kill(pid, SIGKILL), 0);
	CHECK_SIGNALED(tap_wait(pid), SIGKILL);
}

// A child asleep in the kernel, in one of several ways, until killed.
static void sleep_in_read(void)
{
	int fds[2];
	char c;

	if (pipe(fds) != 0)
		_exit(2);
	read(fds[0], &c, 1);	// no writer will ever write
	_exit(3);
}

static void sleep_in_nanosleep(void)
{
	struct timespec ts = { 60, 0 };

	nanosleep(&ts, NULL);
	_exit(3);
}

// The grandchild blocks on a pipe whose only write end dies with its parent, so that it does
// not outlive the test.
static void sleep_in_wait(void)
{
	int fds[2];
	pid_t pid;
	char c;

	if (pipe(fds) != 0)
		_exit(2);
	pid = fork();
	if (pid == 0) {
		close(fds[1]);
		read(fds[0], &c, 1);
		_exit(0);
	}
	close(fds[0]);
	waitpid(pid, NULL, 0);
	_exit(3);
}

static void sleep_in_pause(void)
{
	signal(SIGUSR1, SIG_IGN);
	pause();
	_exit(3);
}

static void sleep_in_sigsuspend(void)
{
	sigset_t all;

	sigfillset(&all);
	sigsuspend(&all);
	_exit(3);
}

static void test_sigkill_sleepers(void)
{
	void (*const sleepers[])(void) = { sleep_in_read, sleep_in_nanosleep, sleep_in_wait,
					   sleep_in_pause, sleep_in_sigsuspend };

	for (size_t i = 0; i < TAP_COUNT(sleepers); i++) {
		pid_t pid = fork();

		TAP_REQUIRE(pid >= 0);
		if (pid == 0)
			sleepers[i]();
		sleep_ms(50);
		TAP_CHECK_EQ(kill(pid, SIGKILL), 0);
		CHECK_SIGNALED(tap_wait(pid), SIGKILL);
	}
	// SIGTERM's default action ends a reader too.
	pid_t pid = fork();
	TAP_REQUIRE(pid >= 0);
	if (pid == 0)
		sleep_in_read();
	sleep_ms(50);
	kill(pid, SIGTERM);
	CHECK_SIGNALED(tap_wait(pid), SIGTERM);
}

// ---- process groups and sessions -----------------------------------------------------------

static void test_pgid_basics(void)
{
	pid_t me = getpid();

	TAP_CHECK_EQ(getpgrp(), getpgid(0));
	TAP_CHECK_EQ(getpgid(me), getpgid(0));
	TAP_CHECK_EQ(getsid(0), getsid(me));
	TAP_CHECK_EQ(getsid(0), getsid(getppid()));	// same session as the harness
	TAP_CHECK_EQ(setpgid(0, 0), 0);
	TAP_CHECK_EQ(getpgrp(), me);
	TAP_CHECK_EQ(getpgid(0), me);
	TAP_CHECK(getpgid(getppid()) != me);
	TAP_CHECK_EQ(setpgid(0, -1), -1);
	TAP_CHECK_EQ(errno, EINVAL);
	TAP_CHECK_EQ(getpgid(0x3fffffff), -1);
	TAP_CHECK_EQ(errno, ESRCH);
	TAP_CHECK_EQ(getsid(0x3fffffff), -1);
	TAP_CHECK_EQ(errno, ESRCH);
	TAP_CHECK_EQ(setpgid(0x3fffffff, 0), -1);
	TAP_CHECK_EQ(errno, ESRCH);
	// Back into the parent's group (same session): allowed.
	TAP_CHECK_EQ(setpgid(0, getpgid(getppid())), 0);
	TAP_CHECK_EQ(getpgrp(), getpgid(getppid()));
	TAP_CHECK_EQ(setpgid(0, 0x3fffffff), -1);	// no such group in our session
	TAP_CHECK_EQ(errno, EPERM);
}

// setsid: refused to a group leader, else it makes a new session and group led by the
// caller; a task in another session cannot be moved by setpgid.
static void test_setsid(void)
{
	int report[2], go[2];
	pid_t child, vals[3] = { 0 };
	char c;

	TAP_REQUIRE(setpgid(0, 0) == 0);
	TAP_CHECK_EQ(setsid(), -1);	// we lead a group now
	TAP_CHECK_EQ(errno, EPERM);
	TAP_REQUIRE(pipe(report) == 0 && pipe(go) == 0);
	child = fork();
	TAP_REQUIRE(child >= 0);
	if (child == 0) {
		pid_t v[3];

		close(go[1]);
		v[0] = setsid();
		v[1] = getsid(0);
		v[2] = getpgrp();
		if (write(report[1], v, sizeof(v)) != sizeof(v))
			_exit(2);
		read(go[0], &c, 1);
		_exit(setsid() == -1 && errno == EPERM ? 0 : 3);	// a session leader now
	}
	close(go[0]);
	TAP_CHECK_EQ(read(report[0], vals, sizeof(vals)), sizeof(vals));
	TAP_CHECK_EQ(vals[0], child);
	TAP_CHECK_EQ(vals[1], child);
	TAP_CHECK_EQ(vals[2], child);
	TAP_CHECK_EQ(getsid(child), child);
	TAP_CHECK(getsid(0) != child);
	TAP_CHECK_EQ(setpgid(child, getpgrp()), -1);	// other session
	TAP_CHECK_EQ(errno, EPERM);
	close(go[1]);
	CHECK_EXITED(tap_wait(child), 0);
}

// kill(0, sig) reaches every member of the caller's group, kill(-pgid, sig) every member of
// that group, and nobody outside it.
struct group_shared {
	volatile int got[4];
};

static struct group_shared *grp;
static int member_index;

static void group_member_handler(int sig, siginfo_t *info, void *uc)
{
	grp->got[member_index]++;
}

// Fork a member that counts SIGUSR1 and otherwise sleeps; it joins group pgid (0: its own).
static pid_t group_member(int index, pid_t pgid)
{
	pid_t pid = fork();

	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		member_index = index;
		setpgid(0, pgid);
		for (;;)
			pause();
	}
	setpgid(pid, pgid);
	return pid;
}

static void test_kill_group(void)
{
	pid_t a, b, outsider;

	grp = shared_alloc(sizeof(*grp));
	set_handler(SIGUSR1, group_member_handler, 0, NULL);
	member_index = 3;	// the test process itself
	TAP_REQUIRE(setpgid(0, 0) == 0);
	a = group_member(0, getpgrp());		// in our group
	b = group_member(1, getpgrp());
	outsider = group_member(2, 0);		// a group of its own
	TAP_CHECK_EQ(getpgid(a), getpgrp());
	TAP_CHECK_EQ(getpgid(outsider), outsider);
	sleep_ms(50);	// the members have set member_index and sleep in pause

	TAP_CHECK_EQ(kill(0, SIGUSR1), 0);
	sleep_ms(100);
	TAP_CHECK_EQ(grp->got[0], 1);
	TAP_CHECK_EQ(grp->got[1], 1);
	TAP_CHECK_EQ(grp->got[2], 0);
	TAP_CHECK_EQ(grp->got[3], 1);

	TAP_CHECK_EQ(kill(-outsider, SIGUSR1), 0);
	TAP_CHECK_EQ(kill(-getpgrp(), SIGUSR1), 0);
	sleep_ms(100);
	TAP_CHECK_EQ(grp->got[0], 2);
	TAP_CHECK_EQ(grp->got[1], 2);
	TAP_CHECK_EQ(grp->got[2], 1);
	TAP_CHECK_EQ(grp->got[3], 2);

	TAP_CHECK_EQ(kill(-0x3fffffff, SIGUSR1), -1);
	TAP_CHECK_EQ(errno, ESRCH);
	TAP_CHECK_EQ(kill(-outsider, SIGKILL), 0);
	CHECK_SIGNALED(tap_wait(outsider), SIGKILL);
	kill(a, SIGKILL);
	kill(b, SIGKILL);
	CHECK_SIGNALED(tap_wait(a), SIGKILL);
	CHECK_SIGNALED(tap_wait(b), SIGKILL);
}

// A group leader with three children in its group calls kill(0, SIGKILL): all four die,
// which we see as the leader's status and as EOF on a pipe every member held.
static void test_kill_zero_sigkill(void)
{
	int fds[2];
	pid_t leader;
	char c;

	TAP_REQUIRE(pipe(fds) == 0);
	leader = fork();
	TAP_REQUIRE(leader >= 0);
	if (leader == 0) {
		close(fds[0]);
		setpgid(0, 0);
		for (int i = 0; i < 3; i++) {
			pid_t pid = fork();

			if (pid == 0) {
				for (;;)
					pause();
			}
		}
		sleep_ms(50);
		kill(0, SIGKILL);
		_exit(3);
	}
	close(fds[1]);
	CHECK_SIGNALED(tap_wait(leader), SIGKILL);
	TAP_CHECK_EQ(read(fds[0], &c, 1), 0);	// every write end is gone: all members died
}

static const struct tap_test tests[] = {
	{ "kill: delivered at once, siginfo SI_USER with pid and uid", test_kill_siginfo },
	{ "tgkill and tkill: SI_TKILL, ESRCH, EINVAL", test_tgkill_siginfo },
	{ "siginfo of a signal from a child carries its pid", test_siginfo_from_child },
	{ "bad signal numbers; SIGKILL and SIGSTOP cannot be caught", test_bad_signal_numbers },
	{ "SA_RESTART restarts a pipe read, without it EINTR", test_sa_restart },
	{ "nanosleep interrupted by a handler: EINTR and the time left", test_nanosleep_eintr },
	{ "SA_NODEFER lets a handler nest", test_sa_nodefer },
	{ "SA_RESETHAND runs the handler once", test_sa_resethand },
	{ "sa_mask is blocked during the handler, the mask restored after", test_sa_mask },
	{ "blocked signals stay pending; rt signals queue", test_block_and_pending },
	{ "SIGKILL and SIGSTOP cannot be blocked", test_unblockable },
	{ "sigsuspend waits with a temporary mask", test_sigsuspend },
	{ "pause returns EINTR after a handler", test_pause },
	{ "alarm(1) fires after a second; alarm returns the seconds left", test_alarm },
	{ "setitimer(ITIMER_REAL) periodic, getitimer, disarm", test_setitimer },
	{ "default actions: SIGTERM ends, SIGCHLD/SIGURG/SIGWINCH ignored, SIG_IGN",
	  test_default_actions },
	{ "SIGSTOP stops, SIGCONT continues, wait4 sees both", test_stop_continue },
	{ "SIGKILL ends tasks asleep in read, nanosleep, wait4, pause, sigsuspend",
	  test_sigkill_sleepers },
	{ "setpgid, getpgid, getpgrp, getsid", test_pgid_basics },
	{ "setsid makes a session; EPERM for leaders and across sessions", test_setsid },
	{ "kill(0) and kill(-pgid) reach exactly the group", test_kill_group },
	{ "kill(0, SIGKILL) from a group leader ends the whole group", test_kill_zero_sigkill },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
