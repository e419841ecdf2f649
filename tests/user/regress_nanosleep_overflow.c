// Regression: a sleep of more than about 584 years (tv_sec * 10^9 past 2^64 ns) used to
// wrap around in the kernel's nanosecond arithmetic and return at once with 0, as if it
// had finished. A huge sleep must last until something (here a timer signal) ends it.
#include "tap.h"

#include <stdint.h>
#include <sys/time.h>
#include <time.h>

static void on_alarm(int sig)
{
	(void)sig;
}

// Arm SIGALRM to interrupt the sleep after 200 ms (no SA_RESTART: the sleep returns EINTR).
static void alarm_soon(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { 0, 200000 } };

	sigaction(SIGALRM, &sa, NULL);
	TAP_REQUIRE(setitimer(ITIMER_REAL, &it, NULL) == 0);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_nanosleep_huge(void)
{
	struct timespec req = { INT64_MAX, 999999999 }, rem = { 0, 0 };
	double start = now_s();
	int r;

	alarm_soon();
	errno = 0;
	r = nanosleep(&req, &rem);
	TAP_CHECK_EQ(r, -1);
	TAP_CHECK_EQ(errno, EINTR);
	TAP_CHECK(now_s() - start >= 0.15);
	// Linux clamps to about 292 years; what is left is at least that much.
	TAP_CHECK(rem.tv_sec > 1000000000);
}

static void test_clock_nanosleep_huge_relative(void)
{
	struct timespec req = { (time_t)1 << 40, 0 };
	double start = now_s();

	alarm_soon();
	TAP_CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL), EINTR);
	TAP_CHECK(now_s() - start >= 0.15);
}

static void test_clock_nanosleep_huge_absolute(void)
{
	struct timespec req = { (time_t)1 << 62, 0 };
	double start = now_s();

	alarm_soon();
	TAP_CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &req, NULL), EINTR);
	TAP_CHECK(now_s() - start >= 0.15);
}

static void test_clock_nanosleep_past_absolute(void)
{
	struct timespec req;
	double start = now_s();

	clock_gettime(CLOCK_REALTIME, &req);
	req.tv_sec -= 10;
	TAP_CHECK_EQ(clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &req, NULL), 0);
	req.tv_sec = 0;
	req.tv_nsec = 0;
	TAP_CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &req, NULL), 0);
	TAP_CHECK(now_s() - start < 0.5);
}

static void test_nanosleep_bad_values(void)
{
	struct timespec bad_nsec = { 0, 1000000000 }, negative = { -1, 0 };

	errno = 0;
	TAP_CHECK_EQ(nanosleep(&bad_nsec, NULL), -1);
	TAP_CHECK_EQ(errno, EINVAL);
	errno = 0;
	TAP_CHECK_EQ(nanosleep(&negative, NULL), -1);
	TAP_CHECK_EQ(errno, EINVAL);
}

static const struct tap_test tests[] = {
	{ "nanosleep of INT64_MAX seconds sleeps until a signal", test_nanosleep_huge },
	{ "clock_nanosleep of 2^40 s sleeps until a signal", test_clock_nanosleep_huge_relative },
	{ "clock_nanosleep TIMER_ABSTIME 2^62 s sleeps until a signal",
	  test_clock_nanosleep_huge_absolute },
	{ "clock_nanosleep TIMER_ABSTIME in the past returns 0 at once",
	  test_clock_nanosleep_past_absolute },
	{ "nanosleep rejects tv_nsec >= 1e9 and negative tv_sec", test_nanosleep_bad_values },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
