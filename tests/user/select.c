// select(2) and pselect6(2): readiness of pipes, timeouts (and the time left written
// back), EBADF, and pselect's temporary signal mask. Passes on Linux too.
#define _GNU_SOURCE
#include "tap.h"

#include <signal.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_pipe_readiness(void)
{
	int fds[2];
	fd_set r, w;
	struct timeval tv = { 0, 0 };

	TAP_REQUIRE(pipe(fds) == 0);
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(fds[0], &r);
	FD_SET(fds[1], &w);
	// Empty pipe: only the write end is ready.
	TAP_CHECK_EQ(select(fds[1] + 1, &r, &w, NULL, &tv), 1);
	TAP_CHECK(!FD_ISSET(fds[0], &r));
	TAP_CHECK(FD_ISSET(fds[1], &w));
	TAP_REQUIRE(write(fds[1], "x", 1) == 1);
	FD_ZERO(&r);
	FD_SET(fds[0], &r);
	tv = (struct timeval){ 1, 0 };
	TAP_CHECK_EQ(select(fds[0] + 1, &r, NULL, NULL, &tv), 1);
	TAP_CHECK(FD_ISSET(fds[0], &r));
	// EOF counts as readable.
	char c;
	TAP_CHECK_EQ(read(fds[0], &c, 1), 1);
	close(fds[1]);
	FD_ZERO(&r);
	FD_SET(fds[0], &r);
	TAP_CHECK_EQ(select(fds[0] + 1, &r, NULL, NULL, NULL), 1);
	close(fds[0]);
}

static void test_timeout(void)
{
	int fds[2];
	fd_set r;
	struct timeval tv = { 0, 200000 };
	double start = now_s(), took;

	TAP_REQUIRE(pipe(fds) == 0);
	FD_ZERO(&r);
	FD_SET(fds[0], &r);
	// The raw system call: libc's select may pass the kernel a copy of tv.
	TAP_CHECK_EQ(syscall(SYS_select, fds[0] + 1, &r, NULL, NULL, &tv), 0);
	took = now_s() - start;
	TAP_CHECK(took >= 0.19 && took < 3.0);
	TAP_CHECK(!FD_ISSET(fds[0], &r));
	// Linux writes the time left back: none is left after a timeout.
	TAP_CHECK_EQ(tv.tv_sec, 0);
	TAP_CHECK_EQ(tv.tv_usec, 0);
	close(fds[0]);
	close(fds[1]);
}

static void test_ebadf_einval(void)
{
	fd_set r;
	struct timeval tv = { 0, 0 };
	int fds[2];

	TAP_REQUIRE(pipe(fds) == 0);
	close(fds[0]);
	close(fds[1]);
	FD_ZERO(&r);
	FD_SET(fds[0], &r);
	errno = 0;
	TAP_CHECK_EQ(select(fds[0] + 1, &r, NULL, NULL, &tv), -1);
	TAP_CHECK_EQ(errno, EBADF);
	tv.tv_usec = -1;
	errno = 0;
	TAP_CHECK_EQ(select(0, NULL, NULL, NULL, &tv), -1);
	TAP_CHECK_EQ(errno, EINVAL);
}

static void on_usr1(int sig)
{
}

// pselect unblocks SIGUSR1 only while it waits: the signal, blocked before, interrupts it.
static void test_pselect_mask(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigset_t block, wait_mask;
	int fds[2];
	fd_set r;

	TAP_REQUIRE(pipe(fds) == 0);
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, NULL);
	raise(SIGUSR1); // pending, blocked
	sigemptyset(&wait_mask);
	FD_ZERO(&r);
	FD_SET(fds[0], &r);
	errno = 0;
	TAP_CHECK_EQ(pselect(fds[0] + 1, &r, NULL, NULL, NULL, &wait_mask), -1);
	TAP_CHECK_EQ(errno, EINTR);
	// The old mask is back afterwards.
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	TAP_CHECK(sigismember(&now, SIGUSR1));
}

static const struct tap_test tests[] = {
	{ "select: pipe read and write readiness, EOF is readable", test_pipe_readiness },
	{ "select: a timeout returns 0 and writes back the time left", test_timeout },
	{ "select: EBADF for a closed descriptor, EINVAL for a bad timeout", test_ebadf_einval },
	{ "pselect: the temporary mask lets a blocked signal interrupt the wait", test_pselect_mask },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
