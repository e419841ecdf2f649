// Regression: a child made with clone(exit_signal = SIGTERM, SIGUSR1, ...) kept that exit
// signal when its parent died and init adopted it, so its exit sent init a SIGTERM (which
// Trapeze's init passes on to the program it runs: this test) or a SIGUSR1 (which powers
// the machine off). Linux resets the exit signal of an adopted child to SIGCHLD.
#define _GNU_SOURCE
#include "tap.h"

#include <sys/syscall.h>
#include <time.h>

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

// Make an orphan that exits with exit signal sig after its parent has gone.
static void orphan_exiting_with(int sig)
{
	pid_t middle = fork();

	TAP_REQUIRE(middle >= 0);
	if (middle == 0) {
		long r = tap_syscall6(SYS_clone, sig, 0, 0, 0, 0, 0);

		if (r == 0) {
			nap_ms(100); // until the middle process is gone and init adopted us
			_exit(0);
		}
		_exit(r > 0 ? 0 : 1);
	}
	TAP_CHECK_EQ(tap_wait(middle), 0);
}

static void test_sigterm(void)
{
	orphan_exiting_with(SIGTERM);
	nap_ms(400); // the orphan's exit comes meanwhile; we must still be here
	TAP_CHECK(1);
}

static void test_sigusr1(void)
{
	orphan_exiting_with(SIGUSR1);
	nap_ms(400);
	TAP_CHECK(1);
}

static const struct tap_test tests[] = {
	{ "an adopted child with exit signal SIGTERM does not signal init", test_sigterm },
	{ "an adopted child with exit signal SIGUSR1 does not signal init", test_sigusr1 },
};

int main(void)
{
	// The tests pass if this process and the machine outlive the orphans' exits.
	int r = tap_run(tests, TAP_COUNT(tests));

	nap_ms(200);
	return r;
}
