// poll(2): wait until one of several descriptors is ready. Each pass asks every file's
// poll method for its ready events; the first pass that finds nothing leaves the task
// queued on every wait queue the methods named (poll_wait), so a wake-up on any of them
// ends the sleep, and the next pass asks again.
// A finite timeout sleeps in slices of at most POLL_SLICE_NS instead (there is no timed
// wait on several queues yet), so such a poll may notice readiness up to 10 ms late.
// Context: process context.

#include <asm/cpu.h>
#include <asm/irq.h>
#include <trapeze/err.h>
#include <trapeze/fs.h>
#include <trapeze/kmalloc.h>
#include <trapeze/sched.h>
#include <trapeze/uaccess.h>

#define POLL_SLICE_NS 10000000ULL // 10 ms
#define POLL_QUEUES_PER_FD 2

struct pollfd {
	int fd;
	short events;
	short revents;
};

struct poll_wait_entry {
	struct wait_queue *wq;
	struct wait_entry we;
};

void poll_wait(struct file *f, struct wait_queue *wq, struct poll_table *pt)
{
	struct poll_wait_entry *e;

	if (!pt || pt->n == pt->max)
		return;
	e = &pt->entries[pt->n++];
	e->wq = wq;
	list_init(&e->we.link);
	e->we.task = NULL;
	prepare_to_wait(wq, &e->we);
}

static void poll_unwait_all(struct poll_table *pt)
{
	for (int i = 0; i < pt->n; i++)
		finish_wait(pt->entries[i].wq, &pt->entries[i].we);
	pt->n = 0;
}

// One descriptor's returned events.
static short poll_one(struct pollfd *p, struct poll_table *pt)
{
	struct file *f;
	unsigned int mask;

	if (p->fd < 0)
		return 0;
	f = fd_get_file(p->fd);
	if (!f)
		return POLLNVAL;
	if (f->f_mode & FMODE_PATH)
		mask = POLLNVAL;
	else if (f->f_op->poll)
		mask = f->f_op->poll(f, pt);
	else
		mask = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
	file_put(f);
	return mask & (p->events | POLLERR | POLLHUP | POLLNVAL);
}

// One pass over all descriptors; returns how many are ready.
static int poll_pass(struct pollfd *fds, unsigned int nfds, struct poll_table *pt)
{
	int ready = 0;

	for (unsigned int i = 0; i < nfds; i++) {
		fds[i].revents = poll_one(&fds[i], ready ? NULL : pt);
		if (fds[i].revents)
			ready++;
	}
	return ready;
}

// timeout_ns < 0: wait forever.
static long do_poll(struct pollfd *fds, unsigned int nfds, int64_t timeout_ns)
{
	struct poll_table pt = { .max = nfds * POLL_QUEUES_PER_FD };
	uint64_t deadline = timeout_ns > 0 ? time_ns() + timeout_ns : 0;
	long ready;

	pt.entries = kmalloc(MAX(pt.max, 1) * sizeof(*pt.entries));
	if (!pt.entries)
		return -ENOMEM;
	for (;;) {
		bool forever = timeout_ns < 0;

		ready = poll_pass(fds, nfds, forever ? &pt : NULL);
		if (ready || timeout_ns == 0 || signal_pending_current()) {
			poll_unwait_all(&pt);
			break;
		}
		if (forever && pt.n > 0) {
			schedule();
			poll_unwait_all(&pt);
			continue;
		}
		if (forever) { // nothing to wait on: sleep until a signal
			sleep_ns(POLL_SLICE_NS * 100, NULL);
			continue;
		}
		if (time_ns() >= deadline)
			break;
		sleep_ns(MIN(deadline - time_ns(), POLL_SLICE_NS), NULL);
		if (time_ns() >= deadline)
			timeout_ns = 0; // one last pass
	}
	kfree(pt.entries);
	if (!ready && signal_pending_current())
		return -EINTR;
	return ready;
}

long sys_poll(struct pollfd __user *ufds, unsigned int nfds, int timeout_ms)
{
	struct pollfd *fds;
	long ret;

	if (nfds > FILES_MAX)
		return -EINVAL;
	fds = kmalloc(MAX(nfds, 1U) * sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	ret = copy_from_user(fds, ufds, nfds * sizeof(*fds));
	if (!ret)
		ret = do_poll(fds, nfds, timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000);
	if (ret >= 0 && copy_to_user(ufds, fds, nfds * sizeof(*fds)))
		ret = -EFAULT;
	kfree(fds);
	return ret;
}
