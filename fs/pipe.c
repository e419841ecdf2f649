// Pipes: a 64 KiB ring buffer between a read end and a write end, each a struct file
// on one anonymous pipefs inode (so fstat reports S_IFIFO and both ends share st_ino).
//
// Rules, as Linux: a read blocks until there are bytes or no writers (then 0, EOF); a write
// of at most PIPE_BUF bytes goes in whole or waits, a larger one may be split; writing
// with no readers sends SIGPIPE and fails with EPIPE; O_NONBLOCK turns a wait into
// -EAGAIN; a signal during a wait returns -ERESTARTSYS, or the bytes already moved.
// Lock: pipe->mutex (a mutex, held across user copies but never while sleeping for
// room or data) for the ring; pipe->lock (leaf spinlock) for the reader/writer counts.
// Wait conditions read head, tail and the counts without locks (single words).

#include <asm/cpu.h>
#include <trapeze/err.h>
#include <trapeze/format.h>
#include <trapeze/fs.h>
#include <trapeze/kmalloc.h>
#include <trapeze/signal.h>
#include <trapeze/string.h>
#include <trapeze/uaccess.h>
#include <uapi/ioctl.h>

#define PIPE_SIZE (64 * 1024)
#define PIPE_BUF 4096

struct pipe {
	struct mutex mutex;
	char *buf;              // PIPE_SIZE bytes
	size_t head, tail;      // under mutex: bytes ever written / read; head - tail are queued
	struct spinlock lock;
	int readers, writers;   // under lock: open ends
	struct wait_queue rd_wait; // readers waiting for data or the last writer's close
	struct wait_queue wr_wait; // writers waiting for room or the last reader's close
};

static size_t pipe_avail(struct pipe *p)
{
	return READ_ONCE(p->head) - READ_ONCE(p->tail);
}

static const struct file_operations pipe_fops;

static bool pipe_nonblock(struct file *f)
{
	return READ_ONCE(f->f_flags) & O_NONBLOCK;
}

// Move up to n queued bytes out to the iterator. Returns bytes moved or -EFAULT.
// n never exceeds the iterator's count, so a short copy always means a fault.
static long pipe_copy_out(struct pipe *p, struct iov_iter *to, size_t n)
{
	size_t done = 0;

	while (done < n) {
		size_t off = p->tail % PIPE_SIZE, c = MIN(n - done, PIPE_SIZE - off);
		long r = iov_iter_copy_to(to, p->buf + off, c);

		// A fault part-way through a chunk moves nothing, as on Linux: the bytes
		// stay in the pipe and only whole chunks count.
		if (r < 0 || (size_t)r < c)
			return done ? (long)done : -EFAULT;
		p->tail += r;
		done += r;
	}
	return done;
}

static long pipe_copy_in(struct pipe *p, struct iov_iter *from, size_t n)
{
	size_t done = 0;

	while (done < n) {
		size_t off = p->head % PIPE_SIZE, c = MIN(n - done, PIPE_SIZE - off);
		long r = iov_iter_copy_from(from, p->buf + off, c);

		// A fault part-way through a chunk moves nothing, as on Linux: the bytes
		// stay in the pipe and only whole chunks count.
		if (r < 0 || (size_t)r < c)
			return done ? (long)done : -EFAULT;
		p->head += r;
		done += r;
	}
	return done;
}

static ssize_t pipe_read(struct file *f, struct iov_iter *to, off_t *pos)
{
	struct pipe *p = f->private_data;
	long ret;

	mutex_lock(&p->mutex);
	while (p->head == p->tail) {
		mutex_unlock(&p->mutex);
		if (!READ_ONCE(p->writers))
			return 0;
		if (pipe_nonblock(f))
			return -EAGAIN;
		ret = wait_event_interruptible(p->rd_wait, pipe_avail(p) || !READ_ONCE(p->writers));
		if (ret)
			return ret;
		mutex_lock(&p->mutex);
	}
	ret = pipe_copy_out(p, to, MIN(p->head - p->tail, to->count));
	mutex_unlock(&p->mutex);
	wake_up(&p->wr_wait);
	return ret;
}

// Room a write must wait for: all of it when it is atomic, else any.
static bool pipe_writable(struct pipe *p, size_t need)
{
	return PIPE_SIZE - pipe_avail(p) >= need || !READ_ONCE(p->readers);
}

static ssize_t pipe_write(struct file *f, struct iov_iter *from, off_t *pos)
{
	struct pipe *p = f->private_data;
	bool atomic = from->count <= PIPE_BUF;
	size_t done = 0;
	long ret = 0;

	mutex_lock(&p->mutex);
	while (from->count) {
		size_t room = PIPE_SIZE - (p->head - p->tail), need = atomic ? from->count : 1;

		if (!READ_ONCE(p->readers)) {
			ret = -EPIPE;
			break;
		}
		if (room >= need) {
			ret = pipe_copy_in(p, from, MIN(room, from->count));
			if (ret < 0)
				break;
			done += ret;
			wake_up(&p->rd_wait);
			continue;
		}
		ret = -EAGAIN;
		if (pipe_nonblock(f))
			break;
		mutex_unlock(&p->mutex);
		ret = wait_event_interruptible(p->wr_wait, pipe_writable(p, need));
		mutex_lock(&p->mutex);
		if (ret)
			break;
	}
	mutex_unlock(&p->mutex);
	if (done) {
		wake_up(&p->rd_wait);
		return done;
	}
	if (ret == -EPIPE)
		signal_send(current, SIGPIPE);
	return ret;
}

static long pipe_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct pipe *p = f->private_data;

	if (cmd != FIONREAD)
		return -ENOTTY;
	return put_user((int)pipe_avail(p), (int __user *)arg);
}

// The capacity is fixed at PIPE_SIZE (Linux's default). F_SETPIPE_SZ is granted when that
// is at least what was asked for, which Linux allows ("may be larger than requested"); a
// larger pipe is refused as Linux refuses one over pipe-max-size (1 MiB) to a user.
long pipe_fcntl(struct file *f, unsigned int cmd, unsigned long arg)
{
	if (f->f_op != &pipe_fops)
		return -EBADF;
	if (cmd == F_SETPIPE_SZ && arg > PIPE_SIZE)
		return arg > INT32_MAX ? -EINVAL : -EPERM;
	return PIPE_SIZE;
}

static void pipe_release(struct inode *inode, struct file *f)
{
	struct pipe *p = f->private_data;

	spin_lock(&p->lock);
	if (f->f_mode & FMODE_READ)
		p->readers--;
	if (f->f_mode & FMODE_WRITE)
		p->writers--;
	spin_unlock(&p->lock);
	wake_up(&p->rd_wait);
	wake_up(&p->wr_wait);
}

// Lock-free: head, tail and the counts are single words.
static unsigned int pipe_poll(struct file *f, struct poll_table *pt)
{
	struct pipe *p = f->private_data;
	unsigned int mask = 0;

	if (f->f_mode & FMODE_READ) {
		poll_wait(f, &p->rd_wait, pt);
		if (pipe_avail(p))
			mask |= POLLIN | POLLRDNORM;
		if (!READ_ONCE(p->writers))
			mask |= POLLHUP;
	}
	if (f->f_mode & FMODE_WRITE) {
		poll_wait(f, &p->wr_wait, pt);
		if (PIPE_SIZE - pipe_avail(p) >= PIPE_BUF)
			mask |= POLLOUT | POLLWRNORM;
		if (!READ_ONCE(p->readers))
			mask |= POLLERR;
	}
	return mask;
}

static const struct file_operations pipe_fops = {
	.poll = pipe_poll,
	.read = pipe_read,
	.write = pipe_write,
	.ioctl = pipe_ioctl,
	.release = pipe_release,
};

// --- pipefs: where pipe inodes live ---------------------------------------------------------------

// The pipe goes with its inode, after both ends are closed.
static void pipefs_evict(struct inode *inode)
{
	struct pipe *p = inode->i_private;

	if (!p)
		return; // pipe_dentry_alloc failed before attaching one
	kfree(p->buf);
	kfree(p);
}

static const struct super_operations pipefs_sops = {
	.inode_evict = pipefs_evict,
};

static const struct fs_type pipefs_type = {
	.name = "pipefs",
	.magic = 0x50495045, // PIPEFS_MAGIC
};

static DEFINE_SPINLOCK(pipefs_lock);
static struct super_block *pipefs_sb; // under pipefs_lock; created on first use

static struct super_block *pipefs_get(void)
{
	struct super_block *sb;

	spin_lock(&pipefs_lock);
	if (!pipefs_sb)
		pipefs_sb = super_alloc(&pipefs_type, &pipefs_sops);
	sb = pipefs_sb;
	spin_unlock(&pipefs_lock);
	return sb;
}

static struct pipe *pipe_alloc(void)
{
	struct pipe *p = kzalloc(sizeof(*p));

	if (!p)
		return NULL;
	p->buf = kmalloc(PIPE_SIZE);
	if (!p->buf) {
		kfree(p);
		return NULL;
	}
	mutex_init(&p->mutex, "pipe");
	spin_init(&p->lock, "pipe");
	wait_queue_init(&p->rd_wait);
	wait_queue_init(&p->wr_wait);
	p->readers = p->writers = 1;
	return p;
}

// An anonymous dentry "pipe:[ino]" over a new S_IFIFO inode owning a new pipe.
static struct dentry *pipe_dentry_alloc(void)
{
	struct super_block *sb = pipefs_get();
	struct inode *inode = sb ? inode_alloc(sb, S_IFIFO | 0600) : NULL;
	struct pipe *p = inode ? pipe_alloc() : NULL;
	struct dentry *d;
	char name[32];

	if (!p) {
		inode_put(inode);
		return NULL;
	}
	inode->i_private = p;
	snprintf(name, sizeof(name), "pipe:[%lu]", (unsigned long)inode->i_ino);
	d = dentry_alloc(NULL, sb, name, strlen(name));
	if (!d) {
		inode_put(inode);
		return NULL;
	}
	dentry_instantiate(d, inode);
	return d;
}

// Open both ends on d with the pipe2 flags; *rf and *wf get one reference each.
static int pipe_open_ends(struct dentry *d, int flags, struct file **rf, struct file **wf)
{
	struct pipe *p = d->d_inode->i_private;

	*rf = file_alloc(d, O_RDONLY | (flags & O_NONBLOCK), &pipe_fops);
	*wf = file_alloc(d, O_WRONLY | (flags & O_NONBLOCK), &pipe_fops);
	if (!*rf || !*wf) {
		// Never opened: drop them without release, which would miscount the ends.
		if (*rf)
			(*rf)->f_op = NULL;
		if (*wf)
			(*wf)->f_op = NULL;
		file_put(*rf);
		file_put(*wf);
		return -ENOMEM;
	}
	(*rf)->private_data = p;
	(*wf)->private_data = p;
	return 0;
}

long sys_pipe2(int __user *ufds, int flags)
{
	struct file *rf, *wf;
	struct dentry *d;
	int fds[2], err;

	if (flags & ~(O_CLOEXEC | O_NONBLOCK))
		return -EINVAL; // O_DIRECT (packet mode) is not supported
	d = pipe_dentry_alloc();
	if (!d)
		return -ENOMEM;
	err = pipe_open_ends(d, flags, &rf, &wf);
	dentry_put(d); // the files hold the dentry now
	if (err)
		return err;
	fds[0] = fd_install_flags(rf, flags);
	if (fds[0] < 0) {
		file_put(rf);
		file_put(wf);
		return fds[0];
	}
	fds[1] = fd_install_flags(wf, flags);
	if (fds[1] < 0) {
		sys_close(fds[0]);
		file_put(wf);
		return fds[1];
	}
	if (copy_to_user(ufds, fds, sizeof(fds))) {
		sys_close(fds[0]);
		sys_close(fds[1]);
		return -EFAULT;
	}
	return 0;
}

long sys_pipe(int __user *ufds)
{
	return sys_pipe2(ufds, 0);
}
