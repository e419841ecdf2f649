// Regression: VTIME was ignored. In raw mode a read with VMIN 0 and VTIME > 0 returned 0 at
// once instead of waiting up to VTIME tenths of a second for input, and one with VMIN > 0
// and VTIME > 0 waited for VMIN bytes forever instead of returning VTIME after the last
// byte (Linux's n_tty, termios(3)).
#define _GNU_SOURCE
#include "tap.h"
#include "fs_term.h"

static void test_vmin0_vtime_waits(void)
{
	struct term tm;
	struct timespec t0;
	char c;
	long ms;

	term_open(&tm, false);
	term_mode(&tm, 0, ICANON, 0, 3);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	TAP_CHECK_EQ(read(tm.fd, &c, 1), 0);
	ms = ms_since(&t0);
	if (ms < 200 || ms > 3000)
		tap_fail_at(__FILE__, __LINE__, "read returned after %ld ms, want about 300", ms);
}

static void test_vmin0_vtime_data(void)
{
	struct term tm;
	struct timespec t0;
	char buf[8];

	term_open(&tm, false);
	term_mode(&tm, 0, ICANON, 0, 50);
	term_type(&tm, "ab");
	term_wait_queued(&tm, 2);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	TAP_CHECK_EQ(read(tm.fd, buf, sizeof(buf)), 2);
	TAP_CHECK(ms_since(&t0) < 2000);
}

static void test_vmin_vtime_interbyte(void)
{
	struct term tm;
	struct timespec t0;
	char buf[8];
	long ms;

	term_open(&tm, false);
	term_mode(&tm, 0, ICANON, 5, 2);
	term_type(&tm, "ab");
	term_wait_queued(&tm, 2);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	// Fewer than VMIN bytes come: the read ends VTIME after the last one.
	TAP_CHECK_EQ(read(tm.fd, buf, sizeof(buf)), 2);
	ms = ms_since(&t0);
	if (ms < 100 || ms > 3000)
		tap_fail_at(__FILE__, __LINE__, "read returned after %ld ms, want about 200", ms);
}

static void test_vmin0_vtime0_polls(void)
{
	struct term tm;
	struct timespec t0;
	char c;

	term_open(&tm, false);
	term_mode(&tm, 0, ICANON, 0, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	TAP_CHECK_EQ(read(tm.fd, &c, 1), 0);
	TAP_CHECK(ms_since(&t0) < 1000);
}

static void test_vmin_counts(void)
{
	struct term tm;
	char buf[8];

	term_open(&tm, false);
	term_mode(&tm, 0, ICANON, 3, 0);
	term_type(&tm, "xyz");
	TAP_CHECK_EQ(read(tm.fd, buf, sizeof(buf)), 3);
	TAP_CHECK(memcmp(buf, "xyz", 3) == 0);
}

static const struct tap_test tests[] = {
	{ "raw, VMIN 0 VTIME 3: a read with no input returns 0 after 0.3 s",
	  test_vmin0_vtime_waits },
	{ "raw, VMIN 0 VTIME 50: queued input is returned at once", test_vmin0_vtime_data },
	{ "raw, VMIN 5 VTIME 2: two bytes are returned 0.2 s after the last",
	  test_vmin_vtime_interbyte },
	{ "raw, VMIN 0 VTIME 0: a read with no input returns 0 at once",
	  test_vmin0_vtime0_polls },
	{ "raw, VMIN 3 VTIME 0: a read waits for three bytes", test_vmin_counts },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
