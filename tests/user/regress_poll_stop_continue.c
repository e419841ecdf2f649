// Regression: a poll that is stopped (SIGSTOP, ^Z) and continued goes on waiting, as on
// Linux, where the signals run no handler and the call is restarted (one with a timeout
// through restart_syscall, for the time that was left).
// Trapeze returned EINTR, which programs that do not expect it report as an error after
// every ^Z and fg. A signal that runs a handler still gives EINTR.
#include "tap.h"

#include <poll.h>

static int pipe_fds[2];

// Exit status 0 if a poll without a timeout returns the pipe readable.
static void poll_forever(void)
{
	struct pollfd pf = { .fd = pipe_fds[0], .events = POLLIN };

	_exit(poll(&pf, 1, -1) == 1 && pf.revents == POLLIN ? 0 : 1);
}

// Exit status 0 if a poll with a 5 s timeout returns the pipe readable.
static void poll_timed(void)
{
	struct pollfd pf = { .fd = pipe_fds[0], .events = POLLIN };

	_exit(poll(&pf, 1, 5000) == 1 && pf.revents == POLLIN ? 0 : 1);
}

static void stop_continue(void (*poller)(void))
{
	int status;
	pid_t pid;

	TAP_REQUIRE(pipe(pipe_fds) == 0);
	pid = fork();
	TAP_REQUIRE(pid >= 0);
	if (pid == 0)
		poller();
	usleep(200000);
	TAP_CHECK_EQ(kill(pid, SIGSTOP), 0);
	TAP_REQUIRE(waitpid(pid, &status, WUNTRACED) == pid);
	TAP_CHECK(WIFSTOPPED(status));
	TAP_CHECK_EQ(kill(pid, SIGCONT), 0);
	usleep(200000);
	TAP_REQUIRE(write(pipe_fds[1], "x", 1) == 1);
	TAP_REQUIRE(waitpid(pid, &status, 0) == pid);
	TAP_CHECK(WIFEXITED(status));
	TAP_CHECK_EQ(WEXITSTATUS(status), 0);
}

static void test_stop_continue(void)
{
	stop_continue(poll_forever);
}

static void test_stop_continue_timed(void)
{
	stop_continue(poll_timed);
}

static void on_usr1(int sig)
{
}

static void test_handler_interrupts(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct pollfd pf;
	pid_t parent = getpid();

	TAP_REQUIRE(pipe(pipe_fds) == 0);
	pf = (struct pollfd){ .fd = pipe_fds[0], .events = POLLIN };
	sigaction(SIGUSR1, &sa, NULL);
	if (fork() == 0) {
		usleep(200000);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	errno = 0;
	TAP_CHECK_EQ(poll(&pf, 1, -1), -1);
	TAP_CHECK_EQ(errno, EINTR);
}

static const struct tap_test tests[] = {
	{ "poll without a timeout survives SIGSTOP and SIGCONT", test_stop_continue },
	{ "poll with a timeout survives SIGSTOP and SIGCONT", test_stop_continue_timed },
	{ "poll interrupted by a handled signal is EINTR", test_handler_interrupts },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
