// select(2) and pselect6(2), on top of poll (fs/poll.c): the descriptor bitmaps become an
// array of struct pollfd, one poll runs, and the results go back into the bitmaps.
//
// As on Linux, the timeout is written back with the time that was left, so that a call
// restarted after a stop (-ERESTARTNOHAND, no handler ran) waits only for the rest; a
// handled signal makes it EINTR. pselect6's temporary signal mask stays in force until the
// handler of the signal that ended the wait has run (restore_sigmask), as for sigsuspend.
// Context: process context.
#include <trapeze/fs.h>
#include <trapeze/kmalloc.h>
#include <trapeze/sched.h>
#include <trapeze/signal.h>
#include <trapeze/string.h>
#include <trapeze/task.h>
#include <trapeze/uaccess.h>
#include <asm/cpu.h>
#include <asm/irq.h>

#define BITS_PER_WORD 64
#define FDSET_WORDS (FILES_MAX / BITS_PER_WORD)
#define NSEC_PER_SEC 1000000000ULL

// What select reports for each poll event, as Linux's POLLIN_SET and friends.
#define SELECT_IN (POLLIN | POLLRDNORM | POLLHUP | POLLERR)
#define SELECT_OUT (POLLOUT | POLLWRNORM | POLLERR)
#define SELECT_EX POLLPRI

struct fd_sets {
	uint64_t in[FDSET_WORDS], out[FDSET_WORDS], ex[FDSET_WORDS];
};

static bool fd_isset(const uint64_t *set, int fd)
{
	return set[fd / BITS_PER_WORD] & (1ULL << (fd % BITS_PER_WORD));
}

static void fd_set_bit(uint64_t *set, int fd)
{
	set[fd / BITS_PER_WORD] |= 1ULL << (fd % BITS_PER_WORD);
}

// Copy in the first n bits of a user fd_set (NULL: an empty set). Bits past n are cleared.
static int fdset_get(uint64_t *set, const uint64_t __user *uset, int n)
{
	size_t words = DIV_ROUND_UP((size_t)n, BITS_PER_WORD);

	memset(set, 0, FDSET_WORDS * sizeof(uint64_t));
	if (!uset || !n)
		return 0;
	if (copy_from_user(set, uset, words * sizeof(uint64_t)))
		return -EFAULT;
	if (n % BITS_PER_WORD)
		set[words - 1] &= (1ULL << (n % BITS_PER_WORD)) - 1;
	return 0;
}

static int fdset_put(uint64_t __user *uset, const uint64_t *set, int n)
{
	size_t words = DIV_ROUND_UP((size_t)n, BITS_PER_WORD);

	if (!uset || !n)
		return 0;
	return copy_to_user(uset, set, words * sizeof(uint64_t));
}

// One pollfd per descriptor named in any set; returns how many, in fds.
static unsigned int select_to_poll(const struct fd_sets *s, int n, struct pollfd *fds)
{
	unsigned int count = 0;

	for (int fd = 0; fd < n; fd++) {
		short events = (fd_isset(s->in, fd) ? POLLIN : 0) |
			       (fd_isset(s->out, fd) ? POLLOUT : 0) |
			       (fd_isset(s->ex, fd) ? POLLPRI : 0);

		if (events)
			fds[count++] = (struct pollfd){ fd, events, 0 };
	}
	return count;
}

// The result sets from poll's answers: the number of bits set, or -EBADF.
static long poll_to_select(const struct pollfd *fds, unsigned int count, struct fd_sets *res)
{
	long bits = 0;

	memset(res, 0, sizeof(*res));
	for (unsigned int i = 0; i < count; i++) {
		short ev = fds[i].events, rev = fds[i].revents;

		if (rev & POLLNVAL)
			return -EBADF;
		if ((ev & POLLIN) && (rev & SELECT_IN))
			fd_set_bit(res->in, fds[i].fd), bits++;
		if ((ev & POLLOUT) && (rev & SELECT_OUT))
			fd_set_bit(res->out, fds[i].fd), bits++;
		if ((ev & POLLPRI) && (rev & SELECT_EX))
			fd_set_bit(res->ex, fds[i].fd), bits++;
	}
	return bits;
}

// The common body: wait until deadline (0: one pass; POLL_FOREVER: none). Returns the
// number of ready bits, 0 at the deadline, or -ERESTARTNOHAND for a signal.
static long do_select(int n, uint64_t __user *uin, uint64_t __user *uout, uint64_t __user *uex,
		      uint64_t deadline)
{
	struct fd_sets *s;
	struct pollfd *fds;
	unsigned int count;
	long ret;

	if (n < 0 || n > FILES_MAX)
		return -EINVAL;
	s = kmalloc(sizeof(*s));
	fds = kmalloc(MAX(n, 1) * sizeof(*fds));
	ret = -ENOMEM;
	if (!s || !fds)
		goto out;
	ret = fdset_get(s->in, uin, n);
	if (!ret)
		ret = fdset_get(s->out, uout, n);
	if (!ret)
		ret = fdset_get(s->ex, uex, n);
	if (ret)
		goto out;
	count = select_to_poll(s, n, fds);
	ret = poll_wait_fds(fds, count, deadline);
	if (ret == -EINTR) {
		ret = -ERESTARTNOHAND;
		goto out;
	}
	if (ret < 0)
		goto out;
	ret = poll_to_select(fds, count, s);
	if (ret >= 0 && (fdset_put(uin, s->in, n) || fdset_put(uout, s->out, n) ||
			 fdset_put(uex, s->ex, n)))
		ret = -EFAULT;
out:
	kfree(fds);
	kfree(s);
	return ret;
}

// The deadline for a relative timeout of ns; 0 stays 0 (poll once).
static uint64_t select_deadline(uint64_t ns)
{
	return ns ? sched_deadline_ns(ns) : 0;
}

static uint64_t time_left(uint64_t deadline)
{
	uint64_t now = time_ns();

	return deadline > now ? deadline - now : 0;
}

struct linux_timeval {
	int64_t tv_sec, tv_usec;
};

struct linux_timespec {
	int64_t tv_sec, tv_nsec;
};

long sys_select(int n, uint64_t __user *in, uint64_t __user *out, uint64_t __user *ex,
		struct linux_timeval __user *utv)
{
	struct linux_timeval tv;
	uint64_t deadline = POLL_FOREVER;
	long ret;

	if (utv) {
		if (copy_from_user(&tv, utv, sizeof(tv)))
			return -EFAULT;
		if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
			return -EINVAL;
		deadline = select_deadline(tv.tv_sec > (int64_t)(UINT64_MAX / NSEC_PER_SEC / 2) ?
						   UINT64_MAX / 2 :
						   (uint64_t)tv.tv_sec * NSEC_PER_SEC +
							   (uint64_t)tv.tv_usec * 1000);
	}
	ret = do_select(n, in, out, ex, deadline);
	if (utv && deadline != POLL_FOREVER) {
		uint64_t left = deadline ? time_left(deadline) : 0;

		tv.tv_sec = (int64_t)(left / NSEC_PER_SEC);
		tv.tv_usec = (int64_t)(left % NSEC_PER_SEC / 1000);
		// Linux ignores a failure to write the time back.
		copy_to_user(utv, &tv, sizeof(tv));
	}
	return ret;
}

// pselect6's sixth argument: the mask and its size, in user memory.
struct pselect_sigmask {
	const uint64_t __user *mask;
	size_t size;
};

// Install pselect6's temporary mask (if any); the old one is kept for restore_sigmask.
static int pselect_mask_set(const struct pselect_sigmask __user *usig, bool *masked)
{
	struct pselect_sigmask sig;
	struct task *t = current;
	uint64_t mask;

	*masked = false;
	if (!usig)
		return 0;
	if (copy_from_user(&sig, usig, sizeof(sig)))
		return -EFAULT;
	if (!sig.mask)
		return 0;
	if (sig.size != sizeof(uint64_t))
		return -EINVAL;
	if (copy_from_user(&mask, sig.mask, sizeof(mask)))
		return -EFAULT;
	t->saved_sigmask = t->sig_blocked;
	signal_set_blocked(mask);
	*masked = true;
	return 0;
}

long sys_pselect6(int n, uint64_t __user *in, uint64_t __user *out, uint64_t __user *ex,
		  struct linux_timespec __user *uts, const struct pselect_sigmask __user *usig)
{
	struct linux_timespec ts;
	uint64_t deadline = POLL_FOREVER;
	bool masked;
	long ret;

	if (uts) {
		if (copy_from_user(&ts, uts, sizeof(ts)))
			return -EFAULT;
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= (int64_t)NSEC_PER_SEC)
			return -EINVAL;
		deadline = select_deadline(ts.tv_sec > (int64_t)(UINT64_MAX / NSEC_PER_SEC / 2) ?
						   UINT64_MAX / 2 :
						   (uint64_t)ts.tv_sec * NSEC_PER_SEC +
							   (uint64_t)ts.tv_nsec);
	}
	ret = pselect_mask_set(usig, &masked);
	if (ret)
		return ret;
	ret = do_select(n, in, out, ex, deadline);
	if (masked) {
		// A signal about to be handled: its handler runs with the temporary mask and the
		// old one comes back through its frame. Otherwise restore it now.
		if (ret == -ERESTARTNOHAND)
			current->restore_sigmask = true;
		else
			signal_set_blocked(current->saved_sigmask);
	}
	if (uts && deadline != POLL_FOREVER) {
		uint64_t left = deadline ? time_left(deadline) : 0;

		ts.tv_sec = (int64_t)(left / NSEC_PER_SEC);
		ts.tv_nsec = (int64_t)(left % NSEC_PER_SEC);
		copy_to_user(uts, &ts, sizeof(ts));
	}
	return ret;
}
