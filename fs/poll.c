// poll(2): wait until one of several descriptors is ready. Each pass asks every file's
// poll method for its ready events; the first pass that finds nothing leaves the task
// queued on every wait queue the methods named (poll_wait), so a wake-up on any of them
// ends the sleep, and the next pass asks again.
// A finite timeout also ends the sleep (schedule_timeout), to the timer tick's precision.
// Context: process context.

#include <asm/cpu.h>
#include <asm/irq.h>
#include <trapeze/err.h>
#include <trapeze/fs.h>
#include <trapeze/kmalloc.h>
#include <trapeze/sched.h>
#include <trapeze/uaccess.h>

#define POLL_QUEUES_PER_FD 2

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

// timeout_ns < 0: wait forever. Each pass registers on the wait queue of every file it
// checks (poll_wait), so a wake-up between the check and the sleep is never lost; the
// sleep ends at a wake-up, a signal or the deadline.
// Poll until a descriptor is ready, a signal arrives, or time_ns() reaches deadline (0: one
// pass only; POLL_FOREVER: no deadline). Returns the ready count, 0 at the deadline, or
// -EINTR when a signal ended the wait.
long poll_wait_fds(struct pollfd *fds, unsigned int nfds, uint64_t deadline)
{
	struct poll_table pt = { .max = nfds * POLL_QUEUES_PER_FD };
	bool timed_out = false;
	long ready;

	pt.entries = kmalloc(MAX(pt.max, 1) * sizeof(*pt.entries));
	if (!pt.entries)
		return -ENOMEM;
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		ready = poll_pass(fds, nfds, &pt);
		if (ready || deadline == 0 || timed_out || signal_pending_current())
			break;
		if (deadline == POLL_FOREVER)
			schedule();
		else
			timed_out = schedule_timeout(deadline);
		poll_unwait_all(&pt);
	}
	poll_unwait_all(&pt);
	set_current_state(TASK_RUNNING);
	kfree(pt.entries);
	if (!ready && !timed_out && deadline != 0 && signal_pending_current())
		return -EINTR;
	return ready;
}

static long poll_restart(void);

// poll on the user's array until deadline. A signal that runs a handler makes the call
// EINTR; one that does not (a stop and a continue, an ignored signal) restarts it, as on
// Linux: without a deadline as it was, with one through restart_syscall for the time left.
static long poll_user(struct pollfd __user *ufds, unsigned int nfds, uint64_t deadline)
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
		ret = poll_wait_fds(fds, nfds, deadline);
	if (ret >= 0 && copy_to_user(ufds, fds, nfds * sizeof(*fds)))
		ret = -EFAULT;
	kfree(fds);
	if (ret != -EINTR)
		return ret;
	if (deadline == POLL_FOREVER)
		return -ERESTARTNOHAND;
	current->restart.fn = poll_restart;
	current->restart.deadline_ns = deadline;
	current->restart.args[0] = (uint64_t)ufds;
	current->restart.args[1] = nfds;
	return -ERESTART_RESTARTBLOCK;
}

static long poll_restart(void)
{
	uint64_t deadline = current->restart.deadline_ns;

	// A deadline already past still gets one last pass, with a deadline of 0.
	return poll_user((struct pollfd __user *)current->restart.args[0],
			 (unsigned int)current->restart.args[1],
			 deadline > time_ns() ? deadline : 0);
}

long sys_poll(struct pollfd __user *ufds, unsigned int nfds, int timeout_ms)
{
	uint64_t deadline;

	if (timeout_ms < 0)
		deadline = POLL_FOREVER;
	else if (timeout_ms == 0)
		deadline = 0;
	else
		deadline = sched_deadline_ns((uint64_t)timeout_ms * 1000000);
	return poll_user(ufds, nfds, deadline);
}
