// Regression: rt_sigreturn must forget any pending restart_syscall state, as Linux does
// (its restart_block then answers EINTR). Trapeze kept the state of the last sleep that
// returned -ERESTART_RESTARTBLOCK, so a restart_syscall after a handler had run — the
// restart of an outer nanosleep interrupted again, in its handler, by a nanosleep of the
// handler's own — resumed the wrong sleep: another deadline, and the time left written
// through a pointer into a handler frame long gone. Calling restart_syscall directly
// after a handler shows the stale state: it must fail with EINTR at once, not sleep.
#define _GNU_SOURCE
#include "tap.h"

#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#define LONG_SLEEP_SEC 5
#define TIMER_USEC 50000
#define QUICK_NS 1000000000LL // restart_syscall must come back well within this

static void on_alarm(int sig)
{
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void test_restart_after_handler(void)
{
	struct sigaction sa;
	struct itimerval it = { { 0, 0 }, { 0, TIMER_USEC } };
	struct timespec req = { LONG_SLEEP_SEC, 0 }, rem;
	long long start;
	long ret;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; // no SA_RESTART: nanosleep never restarts after a handler
	sigemptyset(&sa.sa_mask);
	TAP_REQUIRE(sigaction(SIGALRM, &sa, NULL) == 0);
	TAP_REQUIRE(setitimer(ITIMER_REAL, &it, NULL) == 0);
	errno = 0;
	TAP_CHECK(nanosleep(&req, &rem) == -1 && errno == EINTR);
	start = now_ns();
	ret = tap_syscall0(SYS_restart_syscall);
	TAP_CHECK_EQ(ret, -EINTR);
	TAP_CHECK(now_ns() - start < QUICK_NS);
}

static const struct tap_test tests[] = {
	{ "restart_syscall after a handler has returned: EINTR, no stale sleep",
	  test_restart_after_handler },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
