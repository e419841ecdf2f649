// The memory character devices (major 1, as Linux numbers them): /dev/null swallows
// writes and reads as empty, /dev/zero reads as zeroes, /dev/full reads as zeroes and fails
// every write with ENOSPC, /dev/random and /dev/urandom read as get_random_bytes().
// No state, no locks. Long reads are cut into chunks that stop early for a signal.

#include <trapeze/fs.h>
#include <trapeze/random.h>
#include <trapeze/sched.h>
#include <uapi/errno.h>
#include <uapi/stat.h>

#define MEM_MAJOR 1
#define MEM_CHUNK (64 * 1024)
#define RANDOM_CHUNK 256

static ssize_t null_read(struct file *f, struct iov_iter *to, off_t *pos)
{
	return 0;
}

static ssize_t null_write(struct file *f, struct iov_iter *from, off_t *pos)
{
	size_t n = from->count;

	from->count = 0;
	return n;
}

static ssize_t full_write(struct file *f, struct iov_iter *from, off_t *pos)
{
	return -ENOSPC;
}

// Positions mean nothing here; seeking always lands at 0, as on Linux.
static off_t mem_lseek(struct file *f, off_t off, int whence)
{
	f->f_pos = 0;
	return 0;
}

static ssize_t zero_read(struct file *f, struct iov_iter *to, off_t *pos)
{
	size_t done = 0;

	while (to->count) {
		long n = iov_iter_zero(to, MIN(to->count, (size_t)MEM_CHUNK));

		if (n <= 0)
			return done ? (ssize_t)done : n;
		done += n;
		if (signal_pending_current())
			break;
		cond_resched();
	}
	return done;
}

static ssize_t random_read(struct file *f, struct iov_iter *to, off_t *pos)
{
	char buf[RANDOM_CHUNK];
	size_t done = 0;

	while (to->count) {
		size_t c = MIN(to->count, sizeof(buf));
		long n;

		get_random_bytes(buf, c);
		n = iov_iter_copy_to(to, buf, c);
		if (n <= 0)
			return done ? (ssize_t)done : n;
		done += n;
		if (done % MEM_CHUNK == 0 && signal_pending_current())
			break;
	}
	return done;
}

static const struct file_operations null_fops = {
	.read = null_read,
	.write = null_write,
	.lseek = mem_lseek,
};

static const struct file_operations zero_fops = {
	.read = zero_read,
	.write = null_write,
	.lseek = mem_lseek,
};

static const struct file_operations full_fops = {
	.read = zero_read,
	.write = full_write,
	.lseek = mem_lseek,
};

static const struct file_operations random_fops = {
	.read = random_read,
	.write = null_write, // mixing user data into the pool is not supported; it is dropped
	.lseek = mem_lseek,
};

// Context: boot, from vfs_init().
void mem_devices_init(void)
{
	chrdev_register(MKDEV(MEM_MAJOR, 3), "null", 0666, &null_fops);
	chrdev_register(MKDEV(MEM_MAJOR, 5), "zero", 0666, &zero_fops);
	chrdev_register(MKDEV(MEM_MAJOR, 7), "full", 0666, &full_fops);
	chrdev_register(MKDEV(MEM_MAJOR, 8), "random", 0666, &random_fops);
	chrdev_register(MKDEV(MEM_MAJOR, 9), "urandom", 0666, &random_fops);
}
