// Regression: clock_nanosleep(TIMER_ABSTIME) returned EINTR whenever a signal woke it, even
// one that runs no handler: a sleeper stopped with SIGSTOP and continued with SIGCONT saw
// EINTR, which on Linux only a signal handler causes. An absolute sleep is simply
// restarted (the deadline does not move); with a handler it still ends with EINTR.
#include "tap.h"

#include <time.h>

#define SLEEP_MS 400

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

// Sleep until SLEEP_MS from now on CLOCK_MONOTONIC; exit 0 if the call said 0 and the
// time has come, 2 if it came back early, 10 + its error otherwise.
static void sleeper(void)
{
	struct timespec until;
	double start = now_s();
	int r;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += SLEEP_MS * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
	if (r != 0)
		_exit(10 + r);
	_exit(now_s() - start >= SLEEP_MS / 1000.0 - 0.01 ? 0 : 2);
}

static void test_stop_and_continue(void)
{
	pid_t pid = fork();
	int status;

	TAP_REQUIRE(pid >= 0);
	if (pid == 0)
		sleeper();
	nap_ms(100);
	TAP_CHECK_EQ(kill(pid, SIGSTOP), 0);
	TAP_CHECK_EQ(waitpid(pid, &status, WUNTRACED), pid);
	TAP_CHECK(WIFSTOPPED(status));
	TAP_CHECK_EQ(kill(pid, SIGCONT), 0);
	status = tap_wait(pid);
	TAP_CHECK(WIFEXITED(status));
	TAP_CHECK_EQ(WEXITSTATUS(status), 0);
}

static void on_usr1(int sig)
{
	(void)sig;
}

// With a handler (no SA_RESTART) the sleep ends early with EINTR, as before.
static void handled_sleeper(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct timespec until;

	sigaction(SIGUSR1, &sa, NULL);
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += 5;
	_exit(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR ? 0 : 1);
}

static void test_handler_interrupts(void)
{
	pid_t pid = fork();
	int status;

	TAP_REQUIRE(pid >= 0);
	if (pid == 0)
		handled_sleeper();
	nap_ms(100);
	TAP_CHECK_EQ(kill(pid, SIGUSR1), 0);
	status = tap_wait(pid);
	TAP_CHECK(WIFEXITED(status));
	TAP_CHECK_EQ(WEXITSTATUS(status), 0);
}

static const struct tap_test tests[] = {
	{ "clock_nanosleep TIMER_ABSTIME continues after SIGSTOP and SIGCONT",
	  test_stop_and_continue },
	{ "clock_nanosleep TIMER_ABSTIME ends with EINTR when a handler runs",
	  test_handler_interrupts },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
