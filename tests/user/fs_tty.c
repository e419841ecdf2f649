// The terminal's line discipline, as Linux's n_tty: canonical lines and editing, EOF,
// switching modes, poll and FIONREAD, O_NONBLOCK, the window size, and the signal
// characters sent to the foreground process group. Runs on a pseudo-terminal on Linux and
// on the console in Trapeze (typed into with TIOCSTI). VMIN/VTIME and job control have
// their own tests (regress_tty_vtime, regress_tty_background_read).
#define _GNU_SOURCE
#include "tap.h"
#include "fs_term.h"

#include <poll.h>

// Type s, then read once into a buffer of size bytes; the result as a string ("" at EOF).
static const char *type_read(struct term *tm, const char *s, size_t size)
{
	static char buf[256];
	ssize_t n;

	if (s)
		term_type(tm, s);
	n = read(tm->fd, buf, size);
	TAP_REQUIRE(n >= 0);
	buf[n] = '\0';
	return buf;
}

static void test_canonical_lines(void)
{
	struct term tm;

	term_open(&tm, false);
	TAP_CHECK_STR(type_read(&tm, "abc\n", 64), "abc\n");
	// Typed ahead: each read returns one line.
	term_type(&tm, "one\ntwo\n");
	TAP_CHECK_STR(type_read(&tm, NULL, 64), "one\n");
	TAP_CHECK_STR(type_read(&tm, NULL, 64), "two\n");
	// A short buffer takes the line in pieces.
	TAP_CHECK_STR(type_read(&tm, "hello\n", 3), "hel");
	TAP_CHECK_STR(type_read(&tm, NULL, 64), "lo\n");
	// ICRNL: a carriage return ends the line as a newline.
	TAP_CHECK_STR(type_read(&tm, "cr\r", 64), "cr\n");
}

static void test_canonical_editing(void)
{
	struct term tm;

	term_open(&tm, false);
	TAP_CHECK_STR(type_read(&tm, "abx\177c\n", 64), "abc\n");          // VERASE
	TAP_CHECK_STR(type_read(&tm, "foo bar\027baz\n", 64), "foo baz\n"); // VWERASE
	TAP_CHECK_STR(type_read(&tm, "junk\025ok\n", 64), "ok\n");          // VKILL
	TAP_CHECK_STR(type_read(&tm, "\177\177x\n", 64), "x\n"); // erasing nothing
}

static void test_canonical_eof(void)
{
	struct term tm;

	term_open(&tm, false);
	// VEOF ends a line without a newline, and alone reads as end of file.
	TAP_CHECK_STR(type_read(&tm, "xy\004", 64), "xy");
	TAP_CHECK_STR(type_read(&tm, "\004", 64), "");
	TAP_CHECK_STR(type_read(&tm, "after\n", 64), "after\n");
}

static void test_raw_to_canonical_push(void)
{
	struct term tm;

	term_open(&tm, false);
	term_mode(&tm, 0, ICANON, 1, 0);
	term_type(&tm, "abc");
	term_wait_queued(&tm, 3);
	// Entering canonical mode makes what is queued a line of its own.
	term_mode(&tm, ICANON, 0, -1, -1);
	TAP_CHECK_STR(type_read(&tm, NULL, 64), "abc");
	TAP_CHECK_STR(type_read(&tm, "def\n", 64), "def\n");
}

static void test_canonical_to_raw(void)
{
	struct term tm;

	term_open(&tm, false);
	term_type(&tm, "par");
	usleep(100000);
	// Leaving canonical mode hands the line being edited over as it is.
	term_mode(&tm, 0, ICANON, 1, 0);
	term_wait_queued(&tm, 3);
	TAP_CHECK_STR(type_read(&tm, NULL, 64), "par");
}

static void test_poll_and_fionread(void)
{
	struct term tm;
	struct pollfd p;
	int n = -1;

	term_open(&tm, false);
	p = (struct pollfd){ .fd = tm.fd, .events = POLLIN | POLLOUT };
	TAP_CHECK_EQ(poll(&p, 1, 0), 1);
	TAP_CHECK_EQ(p.revents, POLLOUT);
	// Half a line is not input yet in canonical mode.
	term_type(&tm, "ab");
	p.events = POLLIN;
	TAP_CHECK_EQ(poll(&p, 1, 200), 0);
	TAP_CHECK_EQ(ioctl(tm.fd, FIONREAD, &n), 0);
	TAP_CHECK_EQ(n, 0);
	term_type(&tm, "\n");
	TAP_CHECK_EQ(poll(&p, 1, 2000), 1);
	TAP_CHECK_EQ(p.revents, POLLIN);
	TAP_CHECK_EQ(ioctl(tm.fd, FIONREAD, &n), 0);
	TAP_CHECK_EQ(n, 3);
	TAP_CHECK_STR(type_read(&tm, NULL, 64), "ab\n");
	// In raw mode any byte is input.
	term_mode(&tm, 0, ICANON, 1, 0);
	term_type(&tm, "z");
	TAP_CHECK_EQ(poll(&p, 1, 2000), 1);
	TAP_CHECK_EQ(p.revents, POLLIN);
}

static void test_nonblocking_read(void)
{
	struct term tm;
	char c;

	term_open(&tm, false);
	TAP_REQUIRE(fcntl(tm.fd, F_SETFL, O_NONBLOCK) == 0);
	errno = 0;
	TAP_CHECK_EQ(read(tm.fd, &c, 1), -1);
	TAP_CHECK_EQ(errno, EAGAIN);
	term_mode(&tm, 0, ICANON, 1, 0);
	errno = 0;
	TAP_CHECK_EQ(read(tm.fd, &c, 1), -1);
	TAP_CHECK_EQ(errno, EAGAIN);
}

static void test_window_size(void)
{
	struct term tm;
	struct winsize old, ws = { .ws_row = 33, .ws_col = 101 }, got;

	term_open(&tm, false);
	TAP_REQUIRE(ioctl(tm.fd, TIOCGWINSZ, &old) == 0);
	TAP_CHECK_EQ(ioctl(tm.fd, TIOCSWINSZ, &ws), 0);
	TAP_CHECK_EQ(ioctl(tm.fd, TIOCGWINSZ, &got), 0);
	TAP_CHECK_EQ(got.ws_row, 33);
	TAP_CHECK_EQ(got.ws_col, 101);
	ioctl(tm.fd, TIOCSWINSZ, &old);
}

static volatile sig_atomic_t got_sig[NSIG];

static void on_signal(int sig)
{
	got_sig[sig]++;
}

// Type c and wait (up to 2 s) for signal sig to arrive.
static bool type_expect_signal(struct term *tm, const char *c, int sig)
{
	term_type(tm, c);
	for (int i = 0; i < 200 && !got_sig[sig]; i++)
		usleep(10000);
	return got_sig[sig] == 1;
}

static void test_signal_characters(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct term tm;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigaction(SIGTSTP, &sa, NULL);
	TAP_REQUIRE(setsid() > 0);
	term_open(&tm, true);
	TAP_CHECK(type_expect_signal(&tm, "\003", SIGINT));
	TAP_CHECK(type_expect_signal(&tm, "\034", SIGQUIT));
	TAP_CHECK(type_expect_signal(&tm, "\032", SIGTSTP));
	// A signal character flushes the input typed before it.
	got_sig[SIGINT] = 0;
	term_type(&tm, "lost");
	TAP_CHECK(type_expect_signal(&tm, "\003", SIGINT));
	TAP_CHECK_STR(type_read(&tm, "kept\n", 64), "kept\n");
	// Without ISIG they are ordinary characters.
	term_mode(&tm, 0, ISIG, -1, -1);
	got_sig[SIGINT] = 0;
	TAP_CHECK_STR(type_read(&tm, "\003\n", 64), "\003\n");
	TAP_CHECK_EQ(got_sig[SIGINT], 0);
}

static const struct tap_test tests[] = {
	{ "canonical mode returns one line per read", test_canonical_lines },
	{ "canonical mode edits: erase, word erase, kill", test_canonical_editing },
	{ "canonical mode: VEOF ends a line and alone reads as EOF", test_canonical_eof },
	{ "entering canonical mode makes queued raw input a line", test_raw_to_canonical_push },
	{ "leaving canonical mode hands over the half-typed line", test_canonical_to_raw },
	{ "poll and FIONREAD see complete lines (canonical) or bytes (raw)",
	  test_poll_and_fionread },
	{ "O_NONBLOCK reads with no input are EAGAIN", test_nonblocking_read },
	{ "TIOCSWINSZ and TIOCGWINSZ", test_window_size },
	{ "^C, ^\\ and ^Z signal the foreground group and flush input",
	  test_signal_characters },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
