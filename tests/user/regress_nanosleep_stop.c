// Regression: a relative nanosleep stopped with SIGSTOP and continued with SIGCONT came
// back early with EINTR. On Linux no handler ran, so the sleep resumes (through
// restart_syscall) for the time that was left and returns 0; only a handler makes it
// return EINTR, with the remaining time in *rem.
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

// Exit 0 if nanosleep said 0 and the whole time passed, 2 if it returned early, 3 on an
// error. The stop itself adds to the elapsed time, never subtracts.
static void sleeper(void)
{
	struct timespec ts = { 0, SLEEP_MS * 1000000L };
	double start = now_s();

	if (nanosleep(&ts, NULL) != 0)
		_exit(3);
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

// With a handler the sleep ends with EINTR and *rem holds most of the 5 s that were left.
static void handled_sleeper(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct timespec ts = { 5, 0 }, rem = { 0, 0 };

	sigaction(SIGUSR1, &sa, NULL);
	if (nanosleep(&ts, &rem) != -1 || errno != EINTR)
		_exit(1);
	_exit(rem.tv_sec >= 3 && rem.tv_sec <= 5 ? 0 : 2);
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
	{ "nanosleep resumes after SIGSTOP and SIGCONT and returns 0", test_stop_and_continue },
	{ "a handler interrupts nanosleep with EINTR and the time left", test_handler_interrupts },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
