// A terminal for the tty tests (fs_tty, regress_tty_*), typed into by the test itself.
// Include after tap.h, with _GNU_SOURCE defined (posix_openpt and friends).
//
// On Linux it is a new pseudo-terminal: input is written to its master side. Trapeze has
// no pseudo-terminals: it is the console, input goes in with TIOCSTI, and the console's
// settings are restored when the test's child exits.
#ifndef FS_TERM_H
#define FS_TERM_H

#include <fcntl.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>

struct term {
	int fd;     // the terminal: read it, ioctl it
	int master; // the pseudo-terminal's master, or -1: type with TIOCSTI
};

static struct termios term_saved;
static int term_saved_fd = -1;

static inline void term_restore(void)
{
	if (term_saved_fd >= 0)
		tcsetattr(term_saved_fd, TCSAFLUSH, &term_saved);
}

// Linux's default settings, without echo (it would land among the TAP lines on Trapeze).
static inline void term_defaults(struct termios *t)
{
	memset(t, 0, sizeof(*t));
	t->c_iflag = ICRNL;
	t->c_cflag = CS8 | CREAD | CLOCAL;
	t->c_lflag = ISIG | ICANON | IEXTEN;
	t->c_cc[VINTR] = 3;
	t->c_cc[VQUIT] = 28;
	t->c_cc[VERASE] = 127;
	t->c_cc[VKILL] = 21;
	t->c_cc[VEOF] = 4;
	t->c_cc[VMIN] = 1;
	t->c_cc[VSUSP] = 26;
	t->c_cc[VWERASE] = 23;
	cfsetispeed(t, B38400);
	cfsetospeed(t, B38400);
}

// Open the terminal in canonical mode without echo. With ctty the caller, a session leader,
// makes it its controlling terminal (its group becomes the foreground group).
static inline void term_open(struct term *tm, bool ctty)
{
	struct termios t;

	tm->master = posix_openpt(O_RDWR | O_NOCTTY);
	if (tm->master >= 0) {
		TAP_REQUIRE(grantpt(tm->master) == 0 && unlockpt(tm->master) == 0);
		tm->fd = open(ptsname(tm->master), O_RDWR | O_NOCTTY);
	} else {
		tm->fd = open("/dev/console", O_RDWR | O_NOCTTY);
		if (tm->fd >= 0 && tcgetattr(tm->fd, &term_saved) == 0) {
			term_saved_fd = tm->fd;
			atexit(term_restore);
		}
	}
	TAP_REQUIRE(tm->fd >= 0);
	if (ctty)
		TAP_REQUIRE(ioctl(tm->fd, TIOCSCTTY, 0) == 0);
	term_defaults(&t);
	TAP_REQUIRE(tcsetattr(tm->fd, TCSAFLUSH, &t) == 0);
}

// Change the settings: lflag bits on and off, VMIN and VTIME (-1: leave).
static inline void term_mode(struct term *tm, tcflag_t on, tcflag_t off, int vmin, int vtime)
{
	struct termios t;

	TAP_REQUIRE(tcgetattr(tm->fd, &t) == 0);
	t.c_lflag = (t.c_lflag | on) & ~off;
	if (vmin >= 0)
		t.c_cc[VMIN] = (cc_t)vmin;
	if (vtime >= 0)
		t.c_cc[VTIME] = (cc_t)vtime;
	TAP_REQUIRE(tcsetattr(tm->fd, TCSANOW, &t) == 0);
}

static inline void term_type(struct term *tm, const char *s)
{
	for (; *s; s++) {
		if (tm->master >= 0)
			TAP_REQUIRE(write(tm->master, s, 1) == 1);
		else
			TAP_REQUIRE(ioctl(tm->fd, TIOCSTI, s) == 0);
	}
}

// Wait until FIONREAD says n bytes are queued (a pseudo-terminal moves input to the
// slave side asynchronously).
static inline void term_wait_queued(struct term *tm, int n)
{
	for (int i = 0; i < 200; i++) {
		int queued = -1;

		TAP_REQUIRE(ioctl(tm->fd, FIONREAD, &queued) == 0);
		if (queued >= n)
			return;
		usleep(10000);
	}
	TAP_REQUIRE(!"typed input never arrived");
}

static inline long ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

#endif // FS_TERM_H
