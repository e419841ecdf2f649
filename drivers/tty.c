// The console tty: the line discipline between COM1 and the programs that read and write
// /dev/console, /dev/tty and /dev/ttyS0 (one device under three names).
//
// Input arrives one byte at a time from the serial interrupt (tty_receive_char). It is
// mapped (ICRNL, INLCR, IGNCR, ISTRIP), checked for signal characters (ISIG: ^C, ^\, ^Z to
// the foreground process group), then either edited into the current line (ICANON: erase,
// word erase, kill, EOF; the line moves to the read queue when it ends) or queued at once
// (raw mode, read back under VMIN). Echo goes straight to the port from the interrupt.
// Output from write() goes through OPOST processing (ONLCR: "\n" -> "\r\n") to
// serial_write(), synchronously: nothing is ever queued for output.
//
// The read queue is a ring of bytes with a flag byte each: a line delimiter, or an EOF
// marker (^D) that ends a read without being returned. In canonical mode the queue only
// ever holds complete lines, counted in tty->lines. Raw reads follow VMIN and VTIME.
// Job control (drivers/tty_jobctrl.c): the tty is the controlling terminal of at most one
// session; a read from a background group of that session raises SIGTTIN.
// Lock: tty->lock, taken with interrupts off (the receive interrupt shares it). Never held
// across a user copy: reads move bytes to a kernel buffer under the lock first.

#include <trapeze/err.h>
#include <trapeze/fs.h>
#include <trapeze/sched.h>
#include <trapeze/serial.h>
#include <trapeze/signal.h>
#include <trapeze/string.h>
#include <trapeze/tty.h>
#include <trapeze/uaccess.h>
#include <uapi/ioctl.h>
#include <uapi/termios.h>

#define TTY_CHUNK 256     // bytes moved per lock hold / per serial_write
#define CTRL(c) ((c) & 0x1f)
#define TTY_DEL 0x7f
#define TTY_VTIME_NS 100000000ULL // VTIME counts tenths of a second

enum tty_flag { TTY_DATA, TTY_DELIM, TTY_EOF };

static struct tty console_tty = {
	.lock = SPINLOCK_INIT("console_tty"),
	.read_wait = WAIT_QUEUE_INIT(console_tty.read_wait),
	.winsize = { .ws_row = 24, .ws_col = 80 },
	.termios = {
		.c_iflag = ICRNL | IXON,
		.c_oflag = OPOST | ONLCR,
		.c_cflag = B115200 | CS8 | CREAD | HUPCL | CLOCAL,
		.c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
		.c_cc = {
			[VINTR] = CTRL('C'), [VQUIT] = CTRL('\\'), [VERASE] = TTY_DEL,
			[VKILL] = CTRL('U'), [VEOF] = CTRL('D'), [VTIME] = 0, [VMIN] = 1,
			[VSTART] = CTRL('Q'), [VSTOP] = CTRL('S'), [VSUSP] = CTRL('Z'),
			[VREPRINT] = CTRL('R'), [VDISCARD] = CTRL('O'), [VWERASE] = CTRL('W'),
			[VLNEXT] = CTRL('V'),
		},
	},
};

// pgrp 0 means no foreground group has been set: the signal has nobody to go to.
static void tty_signal_pgrp(int pgrp, int sig)
{
	if (pgrp > 0)
		signal_send_pgrp(pgrp, sig);
}

// --- output ------------------------------------------------------------------------------------

// Write n bytes through OPOST processing. Context: any; busy-waits on the UART.
static void tty_output(const struct termios *tio, const char *s, size_t n)
{
	char out[2 * TTY_CHUNK];
	size_t o = 0;

	if (!(tio->c_oflag & OPOST)) {
		serial_write(s, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (o + 2 > sizeof(out)) {
			serial_write(out, o);
			o = 0;
		}
		if (c == '\n' && (tio->c_oflag & ONLCR))
			out[o++] = '\r';
		else if (c == '\r' && (tio->c_oflag & OCRNL))
			c = '\n';
		out[o++] = c;
	}
	serial_write(out, o);
}

static bool is_ctl(char c)
{
	return ((unsigned char)c < ' ' && c != '\t' && c != '\n') || c == TTY_DEL;
}

// Echo one input character (ECHOCTL shows control characters as ^X). Under tty->lock.
static void tty_echo(struct tty *t, char c)
{
	tcflag_t l = t->termios.c_lflag;
	char ctl[2] = { '^', (char)(c ^ 0x40) };

	if (!(l & ECHO) && !(c == '\n' && (l & ECHONL)))
		return;
	if (is_ctl(c) && (l & ECHOCTL))
		tty_output(&t->termios, ctl, 2);
	else
		tty_output(&t->termios, &c, 1);
}

// --- input -------------------------------------------------------------------------------------

static size_t tty_room(struct tty *t)
{
	return TTY_BUF_SIZE - (t->rhead - t->rtail);
}

static void tty_queue(struct tty *t, char c, enum tty_flag flag)
{
	t->rbuf[t->rhead % TTY_BUF_SIZE] = c;
	t->rflag[t->rhead % TTY_BUF_SIZE] = flag;
	t->rhead++;
	if (flag != TTY_DATA)
		t->lines++;
}

// Move the edited line to the read queue, ended by a delimiter (its last byte) or an
// EOF marker. A line that does not fit is dropped, as a full Linux tty drops input.
static void tty_push_line(struct tty *t, bool eof)
{
	size_t n = t->line_len;

	if (tty_room(t) >= n + (eof ? 1 : 0) && (n || eof)) {
		for (size_t i = 0; i < n; i++)
			tty_queue(t, t->line[i], (!eof && i == n - 1) ? TTY_DELIM : TTY_DATA);
		if (eof)
			tty_queue(t, 0, TTY_EOF);
	}
	t->line_len = 0;
}

// Erase the last character of the line, on the screen too when ECHOE.
static bool tty_erase_one(struct tty *t)
{
	tcflag_t l = t->termios.c_lflag;
	char c;

	if (t->line_len == 0)
		return false;
	c = t->line[--t->line_len];
	if ((l & ECHO) && (l & ECHOE)) {
		serial_write("\b \b", 3);
		if (is_ctl(c) && (l & ECHOCTL))
			serial_write("\b \b", 3);
	}
	return true;
}

static void tty_erase_word(struct tty *t)
{
	while (t->line_len && t->line[t->line_len - 1] == ' ')
		tty_erase_one(t);
	while (t->line_len && t->line[t->line_len - 1] != ' ')
		tty_erase_one(t);
}

static void tty_kill_line(struct tty *t)
{
	tcflag_t l = t->termios.c_lflag;

	if ((l & ECHO) && (l & ECHOKE)) {
		while (tty_erase_one(t))
			;
		return;
	}
	t->line_len = 0;
	if ((l & ECHO) && (l & ECHOK))
		tty_output(&t->termios, "\n", 1);
}

static bool cc_is(const struct tty *t, int idx, char c)
{
	return t->termios.c_cc[idx] != 0 && (char)t->termios.c_cc[idx] == c;
}

// ICANON: line editing. Under tty->lock.
static void tty_canon_char(struct tty *t, char c)
{
	bool iexten = t->termios.c_lflag & IEXTEN;

	if (cc_is(t, VERASE, c) || c == '\b') {
		tty_erase_one(t);
	} else if (cc_is(t, VWERASE, c) && iexten) {
		tty_erase_word(t);
	} else if (cc_is(t, VKILL, c)) {
		tty_kill_line(t);
	} else if (cc_is(t, VEOF, c)) {
		tty_push_line(t, true);
	} else if (c == '\n' || cc_is(t, VEOL, c) || (cc_is(t, VEOL2, c) && iexten)) {
		if (t->line_len < TTY_BUF_SIZE)
			t->line[t->line_len++] = c;
		tty_echo(t, c);
		tty_push_line(t, false);
	} else if (t->line_len < TTY_BUF_SIZE - 1) { // keep room for the newline
		t->line[t->line_len++] = c;
		tty_echo(t, c);
	}
}

// c_iflag mapping. Returns false to drop the character.
static bool tty_map_input(const struct tty *t, char *c)
{
	tcflag_t i = t->termios.c_iflag;

	if (i & ISTRIP)
		*c &= 0x7f;
	if (*c == '\r') {
		if (i & IGNCR)
			return false;
		if (i & ICRNL)
			*c = '\n';
	} else if (*c == '\n' && (i & INLCR)) {
		*c = '\r';
	}
	return true;
}

// ISIG: the signal a character raises, or 0.
static int tty_signal_of(const struct tty *t, char c)
{
	if (!(t->termios.c_lflag & ISIG))
		return 0;
	if (cc_is(t, VINTR, c))
		return SIGINT;
	if (cc_is(t, VQUIT, c))
		return SIGQUIT;
	if (cc_is(t, VSUSP, c))
		return SIGTSTP;
	return 0;
}

static void tty_flush_input(struct tty *t)
{
	t->rtail = t->rhead;
	t->lines = 0;
	t->line_len = 0;
}

void tty_receive_char(char c)
{
	struct tty *t = &console_tty;
	uint64_t flags = spin_lock_irqsave(&t->lock);
	int sig = 0, pgrp = t->pgrp;

	if (!tty_map_input(t, &c)) {
		spin_unlock_irqrestore(&t->lock, flags);
		return;
	}
	sig = tty_signal_of(t, c);
	if (sig) {
		if (!(t->termios.c_lflag & NOFLSH))
			tty_flush_input(t);
		tty_echo(t, c);
	} else if (t->termios.c_lflag & ICANON) {
		tty_canon_char(t, c);
	} else if (tty_room(t) > 0) {
		tty_queue(t, c, TTY_DATA);
		tty_echo(t, c);
	}
	spin_unlock_irqrestore(&t->lock, flags);
	if (sig)
		tty_signal_pgrp(pgrp, sig);
	wake_up(&t->read_wait);
}

// --- reading -----------------------------------------------------------------------------------

// Is there input a read can take: a complete line (or EOF) in canonical mode, any byte in
// raw mode? Lock-free: the wait condition of reads and poll.
static bool tty_input_ready(struct tty *t)
{
	if (READ_ONCE(t->termios.c_lflag) & ICANON)
		return READ_ONCE(t->lines) > 0;
	return READ_ONCE(t->rhead) != READ_ONCE(t->rtail);
}

// Take up to max queued bytes into buf. In canonical mode stop after a delimiter or at an
// EOF marker (consumed, not returned) and set *eol. Under tty->lock.
static size_t tty_take(struct tty *t, char *buf, size_t max, bool *eol)
{
	bool canon = t->termios.c_lflag & ICANON;
	size_t n = 0;

	*eol = false;
	while (n < max && t->rtail != t->rhead) {
		size_t i = t->rtail % TTY_BUF_SIZE;
		enum tty_flag flag = t->rflag[i];

		t->rtail++;
		if (flag != TTY_DATA)
			t->lines--;
		if (flag == TTY_EOF) {
			if (canon) {
				*eol = true;
				break;
			}
			continue;
		}
		buf[n++] = t->rbuf[i];
		if (flag == TTY_DELIM && canon) {
			*eol = true;
			break;
		}
	}
	return n;
}

// Move what is ready into the iterator: one line in canonical mode, else all there is.
// Returns the bytes moved, or -EFAULT.
static ssize_t tty_read_ready(struct tty *t, struct iov_iter *to, bool *eol_out)
{
	char buf[TTY_CHUNK];
	size_t done = 0;
	bool eol = false;

	while (to->count && !eol) {
		uint64_t flags = spin_lock_irqsave(&t->lock);
		size_t n = tty_take(t, buf, MIN(to->count, sizeof(buf)), &eol);

		spin_unlock_irqrestore(&t->lock, flags);
		*eol_out = eol;
		if (n == 0)
			break;
		if (iov_iter_copy_to(to, buf, n) != (long)n)
			return -EFAULT; // the bytes taken are lost, as a fault mid-read loses them
		done += n;
	}
	return done;
}

// Canonical mode: one line, or 0 for an EOF at the start of a line.
static ssize_t tty_read_canon(struct tty *t, struct file *f, struct iov_iter *to)
{
	for (;;) {
		bool eol = false;
		ssize_t ret;

		if (tty_input_ready(t)) {
			ret = tty_read_ready(t, to, &eol);
			// A line another reader took first means waiting again.
			if (ret != 0 || eol)
				return ret;
		}
		if (READ_ONCE(f->f_flags) & O_NONBLOCK)
			return -EAGAIN;
		ret = wait_event_interruptible(t->read_wait, tty_input_ready(t));
		if (ret)
			return ret;
	}
}

// Raw mode, as Linux's n_tty: with VMIN > 0 return once MIN(VMIN, count) bytes have come,
// or, when VTIME > 0 too, VTIME tenths of a second after the last byte once one has come;
// with VMIN 0 return what is there, waiting up to VTIME for the first byte.
static ssize_t tty_read_raw(struct tty *t, struct file *f, struct iov_iter *to)
{
	uint64_t flags = spin_lock_irqsave(&t->lock);
	cc_t vmin = t->termios.c_cc[VMIN], vtime = t->termios.c_cc[VTIME];
	size_t need = vmin ? MIN((size_t)vmin, to->count) : 1, done = 0;
	uint64_t deadline = 0; // 0: no timer running

	spin_unlock_irqrestore(&t->lock, flags);
	if (!vmin && vtime)
		deadline = sched_deadline_ns(vtime * TTY_VTIME_NS);
	for (;;) {
		bool eol;
		ssize_t n = tty_read_ready(t, to, &eol);
		long ret;

		if (n < 0)
			return done ? (ssize_t)done : n;
		done += n;
		if (done >= need || (!vmin && !vtime))
			return done;
		if (n > 0 && vtime)
			deadline = sched_deadline_ns(vtime * TTY_VTIME_NS); // the inter-byte timer
		if (READ_ONCE(f->f_flags) & O_NONBLOCK)
			return done ? (ssize_t)done : -EAGAIN;
		if (deadline)
			ret = wait_event_interruptible_deadline(t->read_wait, tty_input_ready(t),
								deadline);
		else
			ret = wait_event_interruptible(t->read_wait, tty_input_ready(t));
		if (ret == -ETIMEDOUT)
			return done;
		if (ret)
			return done ? (ssize_t)done : ret;
	}
}

static ssize_t tty_read(struct file *f, struct iov_iter *to, off_t *pos)
{
	struct tty *t = f->private_data;
	int err = tty_read_job_check(t);

	if (err)
		return err;
	if (READ_ONCE(t->termios.c_lflag) & ICANON)
		return tty_read_canon(t, f, to);
	return tty_read_raw(t, f, to);
}

// --- writing -----------------------------------------------------------------------------------

static ssize_t tty_write(struct file *f, struct iov_iter *from, off_t *pos)
{
	struct tty *t = f->private_data;
	char buf[TTY_CHUNK];
	size_t done = 0;

	while (from->count) {
		long n = iov_iter_copy_from(from, buf, MIN(from->count, sizeof(buf)));
		struct termios tio;
		uint64_t flags;

		if (n <= 0)
			return done ? (ssize_t)done : n;
		flags = spin_lock_irqsave(&t->lock);
		tio = t->termios;
		spin_unlock_irqrestore(&t->lock, flags);
		tty_output(&tio, buf, n);
		done += n;
	}
	return done;
}

// --- ioctl -------------------------------------------------------------------------------------

// Install new termios. Leaving canonical mode hands the half-edited line to readers as
// raw bytes; entering it makes queued raw bytes a line and starts a fresh one. Under
// tty->lock.
static void tty_set_termios_locked(struct tty *t, const struct termios *tio)
{
	bool was_canon = t->termios.c_lflag & ICANON;

	t->termios = *tio;
	if (was_canon && !(tio->c_lflag & ICANON)) {
		for (size_t i = 0; i < t->line_len && tty_room(t); i++)
			tty_queue(t, t->line[i], TTY_DATA);
		t->line_len = 0;
	} else if (!was_canon && (tio->c_lflag & ICANON) && t->rhead != t->rtail) {
		// Raw input still queued is one line a canonical reader takes at once, as
		// Linux pushes it, rather than the start of the next line.
		uint8_t *last = &t->rflag[(t->rhead - 1) % TTY_BUF_SIZE];

		if (*last == TTY_DATA) {
			*last = TTY_DELIM;
			t->lines++;
		}
	}
}

static long tty_set_termios(struct tty *t, unsigned int cmd, unsigned long arg)
{
	struct termios tio;
	uint64_t flags;

	if (copy_from_user(&tio, (void __user *)arg, sizeof(tio)))
		return -EFAULT;
	// TCSETSW would wait for output to drain: output is synchronous, so it has.
	flags = spin_lock_irqsave(&t->lock);
	if (cmd == TCSETSF)
		tty_flush_input(t);
	tty_set_termios_locked(t, &tio);
	spin_unlock_irqrestore(&t->lock, flags);
	wake_up(&t->read_wait);
	return 0;
}

static long tty_get_termios(struct tty *t, unsigned long arg)
{
	struct termios tio;
	uint64_t flags = spin_lock_irqsave(&t->lock);

	tio = t->termios;
	spin_unlock_irqrestore(&t->lock, flags);
	return copy_to_user((void __user *)arg, &tio, sizeof(tio)) ? -EFAULT : 0;
}

static long tty_set_winsize(struct tty *t, unsigned long arg)
{
	struct winsize ws;
	uint64_t flags;
	bool changed;
	int pgrp;

	if (copy_from_user(&ws, (void __user *)arg, sizeof(ws)))
		return -EFAULT;
	flags = spin_lock_irqsave(&t->lock);
	changed = memcmp(&ws, &t->winsize, sizeof(ws)) != 0;
	t->winsize = ws;
	pgrp = t->pgrp;
	spin_unlock_irqrestore(&t->lock, flags);
	if (changed)
		tty_signal_pgrp(pgrp, SIGWINCH);
	return 0;
}

// Reads of one int-sized field under the lock.
static int tty_read_int(struct tty *t, int which)
{
	uint64_t flags = spin_lock_irqsave(&t->lock);
	int v = which == FIONREAD ? (int)(t->rhead - t->rtail) : t->pgrp;

	spin_unlock_irqrestore(&t->lock, flags);
	return v;
}

// TIOCSTI: the byte at arg arrives as if typed (everyone is root: Linux allows it to
// CAP_SYS_ADMIN). Tests use it to drive the line discipline.
static long tty_simulate_input(unsigned long arg)
{
	char c;

	if (get_user(c, (char __user *)arg))
		return -EFAULT;
	tty_receive_char(c);
	return 0;
}

static long tty_flush(struct tty *t, unsigned long arg)
{
	uint64_t flags;

	if (arg != TCIFLUSH && arg != TCOFLUSH && arg != TCIOFLUSH)
		return -EINVAL;
	if (arg != TCOFLUSH) {
		flags = spin_lock_irqsave(&t->lock);
		tty_flush_input(t);
		spin_unlock_irqrestore(&t->lock, flags);
	}
	return 0; // nothing is ever queued for output
}

static long tty_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct tty *t = f->private_data;
	int pgrp;

	switch (cmd) {
	case TCGETS:
		return tty_get_termios(t, arg);
	case TCSETS:
	case TCSETSW:
	case TCSETSF:
		return tty_set_termios(t, cmd, arg);
	case TIOCGWINSZ:
		return copy_to_user((void __user *)arg, &t->winsize, sizeof(t->winsize)) ? -EFAULT
											: 0;
	case TIOCSWINSZ:
		return tty_set_winsize(t, arg);
	case TIOCGPGRP:
		// No foreground group has been set: this is nobody's controlling tty yet.
		pgrp = tty_read_int(t, TIOCGPGRP);
		return pgrp > 0 ? put_user(pgrp, (int __user *)arg) : -ENOTTY;
	case TIOCSPGRP:
		return tty_set_pgrp(t, arg);
	case TIOCSCTTY:
		return tty_set_ctty(t, arg);
	case TIOCSTI:
		return tty_simulate_input(arg);
	case FIONREAD:
		return put_user(tty_read_int(t, FIONREAD), (int __user *)arg);
	case TIOCOUTQ:
		return put_user(0, (int __user *)arg);
	case TCFLSH:
		return tty_flush(t, arg);
	}
	return -ENOTTY;
}

static int tty_open(struct inode *inode, struct file *f)
{
	f->private_data = &console_tty;
	return 0;
}

static unsigned int tty_poll(struct file *f, struct poll_table *pt)
{
	struct tty *t = f->private_data;

	poll_wait(f, &t->read_wait, pt);
	// Output never blocks: it goes to the port synchronously. A line, or an EOF that
	// reads as 0, or in raw mode any byte, is input.
	return POLLOUT | POLLWRNORM | (tty_input_ready(t) ? POLLIN | POLLRDNORM : 0);
}

static const struct file_operations tty_fops = {
	.poll = tty_poll,
	.open = tty_open,
	.read = tty_read,
	.write = tty_write,
	.ioctl = tty_ioctl,
};

void tty_init(void)
{
	chrdev_register(MKDEV(TTYAUX_MAJOR, 0), "tty", 0666, &tty_fops);
	chrdev_register(MKDEV(TTYAUX_MAJOR, 1), "console", 0600, &tty_fops);
	chrdev_register(MKDEV(TTY_MAJOR, TTYS0_MINOR), "ttyS0", 0660, &tty_fops);
}
