// Regression: a stopped process group that an exit left orphaned stayed stopped forever.
// POSIX (and Linux) give every member SIGHUP and then SIGCONT when the last process tying
// the group to another group of the session exits while a member is stopped.
#include "tap.h"

#include <signal.h>

static int report[2];

static void on_hup(int sig)
{
	// Runs once SIGCONT has let the stopped task go on.
	if (write(report[1], "H", 1) != 1)
		_exit(3);
	_exit(0);
}

// The grandchild: its own process group, stopped until the orphaning wakes it.
static void stopped_member(void)
{
	struct sigaction sa = { .sa_handler = on_hup };

	sigaction(SIGHUP, &sa, NULL);
	setpgid(0, 0);
	raise(SIGSTOP);
	_exit(4); // continued without SIGHUP
}

static void test_orphaned_stopped_group_gets_sighup(void)
{
	pid_t middle, member;
	char c = 0;
	int status;

	// A session of our own, so that no process outside this test ties the group.
	TAP_REQUIRE(setsid() > 0);
	TAP_REQUIRE(pipe(report) == 0);
	middle = fork();
	TAP_REQUIRE(middle >= 0);
	if (middle == 0) {
		member = fork();
		if (member < 0)
			_exit(5);
		if (member == 0)
			stopped_member();
		// Wait until it has stopped, then leave it orphaned by exiting.
		if (waitpid(member, &status, WUNTRACED) != member || !WIFSTOPPED(status))
			_exit(6);
		_exit(0);
	}
	TAP_REQUIRE(waitpid(middle, &status, 0) == middle);
	TAP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(report[1]);
	TAP_CHECK_EQ(read(report[0], &c, 1), 1);
	TAP_CHECK_EQ(c, 'H');
}

static const struct tap_test tests[] = {
	{ "an orphaned process group with a stopped member gets SIGHUP and SIGCONT",
	  test_orphaned_stopped_group_gets_sighup },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
