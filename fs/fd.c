// Descriptor tables: what a file descriptor number means for a task. A table holds up to
// FILES_MAX file references and a close-on-exec bit per slot; fork copies it (files_dup),
// and tasks could share one by reference count. The system calls that only shuffle
// descriptors live here too: close, dup, dup2, dup3, fcntl, ioctl.
// New descriptor numbers stay below the task's RLIMIT_NOFILE soft limit (EMFILE when none
// is free; dup2/dup3 to a number beyond it: EBADF; F_DUPFD from one: EINVAL), and below
// FILES_MAX, the fixed size of the table, whatever the limit says: root may raise the
// limit up to Linux's nr_open, but numbers from FILES_MAX on are EMFILE (docs/rlimits.md).
// Descriptors already open above a lowered limit stay usable, as on Linux.
// Lock: files->lock, a leaf spinlock. A file is never released under it: slots are
// cleared under the lock and the reference is dropped after unlocking.

#include <asm/cpu.h>
#include <trapeze/err.h>
#include <trapeze/fs.h>
#include <trapeze/kmalloc.h>
#include <trapeze/rlimit.h>
#include <trapeze/string.h>
#include <trapeze/task.h>
#include <trapeze/uaccess.h>
#include <uapi/ioctl.h>

#define FILES_SETTABLE_FLAGS (O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME)

struct files *files_alloc(void)
{
	struct files *files = kzalloc(sizeof(*files));

	if (!files)
		return NULL;
	spin_init(&files->lock, "files");
	files->count = 1;
	return files;
}

struct files *files_dup(struct files *old)
{
	struct files *files = files_alloc();

	if (!files)
		return NULL;
	spin_lock(&old->lock);
	for (int fd = 0; fd < FILES_MAX; fd++) {
		if (old->fd[fd])
			files->fd[fd] = file_get(old->fd[fd]);
	}
	memcpy(files->cloexec, old->cloexec, sizeof(files->cloexec));
	spin_unlock(&old->lock);
	return files;
}

struct files *files_get(struct files *files)
{
	__atomic_add_fetch(&files->count, 1, __ATOMIC_RELAXED);
	return files;
}

// Context: process context (closing may release files).
void files_put(struct files *files)
{
	if (!files || __atomic_sub_fetch(&files->count, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (int fd = 0; fd < FILES_MAX; fd++) {
		if (files->fd[fd])
			file_put(files->fd[fd]);
	}
	kfree(files);
}

static bool cloexec_test(struct files *files, int fd)
{
	return files->cloexec[fd / 64] & (1ULL << (fd % 64));
}

static void cloexec_set(struct files *files, int fd, bool on)
{
	if (on)
		files->cloexec[fd / 64] |= 1ULL << (fd % 64);
	else
		files->cloexec[fd / 64] &= ~(1ULL << (fd % 64));
}

// Take slot fd out of the table; returns the file reference it held, or NULL.
static struct file *files_take_locked(struct files *files, int fd)
{
	struct file *f = files->fd[fd];

	assert_held(&files->lock);
	files->fd[fd] = NULL;
	cloexec_set(files, fd, false);
	return f;
}

void files_close_on_exec(struct files *files)
{
	for (int fd = 0; fd < FILES_MAX; fd++) {
		struct file *f = NULL;

		spin_lock(&files->lock);
		if (cloexec_test(files, fd))
			f = files_take_locked(files, fd);
		spin_unlock(&files->lock);
		if (f)
			file_put(f);
	}
}

// One more than the highest descriptor number the current task may create.
static int files_limit(void)
{
	uint64_t lim = rlimit(RLIMIT_NOFILE);

	return lim < FILES_MAX ? (int)lim : FILES_MAX;
}

// Put f into the lowest free slot >= min below the current task's limit. Consumes the
// reference on success.
static int files_install(struct files *files, struct file *f, int min, bool cloexec)
{
	int ret = -EMFILE;
	int limit = files_limit();

	spin_lock(&files->lock);
	for (int fd = min; fd < limit; fd++) {
		if (!files->fd[fd]) {
			files->fd[fd] = f;
			cloexec_set(files, fd, cloexec);
			ret = fd;
			break;
		}
	}
	spin_unlock(&files->lock);
	return ret;
}

// The caller's reference to f moves into the table on success; on -EMFILE it stays the
// caller's.
int fd_install(struct file *f)
{
	return files_install(current->files, f, 0, false);
}

// Same, with O_CLOEXEC honoured (open, pipe2).
int fd_install_flags(struct file *f, int flags)
{
	return files_install(current->files, f, 0, flags & O_CLOEXEC);
}

struct file *fd_get_file(int fd)
{
	struct files *files = current->files;
	struct file *f = NULL;

	if (!files || fd < 0 || fd >= FILES_MAX)
		return NULL;
	spin_lock(&files->lock);
	if (files->fd[fd])
		f = file_get(files->fd[fd]);
	spin_unlock(&files->lock);
	return f;
}

long sys_close(int fd)
{
	struct files *files = current->files;
	struct file *f = NULL;

	if (fd < 0 || fd >= FILES_MAX)
		return -EBADF;
	spin_lock(&files->lock);
	f = files_take_locked(files, fd);
	spin_unlock(&files->lock);
	if (!f)
		return -EBADF;
	file_put(f);
	return 0;
}

static long do_dupfd(int oldfd, unsigned long min, bool cloexec)
{
	struct file *f = fd_get_file(oldfd);
	int fd;

	if (!f)
		return -EBADF;
	if (min >= rlimit(RLIMIT_NOFILE)) {
		file_put(f);
		return -EINVAL;
	}
	fd = files_install(current->files, f, min, cloexec);
	if (fd < 0)
		file_put(f);
	return fd;
}

long sys_dup(int oldfd)
{
	return do_dupfd(oldfd, 0, false);
}

// Make newfd refer to oldfd's file, closing what newfd held (atomically for other users
// of the table). A newfd the limit allows but the table cannot hold is EMFILE (Linux says
// the same for numbers past nr_open).
static long do_dup3(int oldfd, int newfd, bool cloexec)
{
	struct files *files = current->files;
	struct file *f, *old;

	if (newfd < 0 || (uint64_t)newfd >= rlimit(RLIMIT_NOFILE))
		return -EBADF;
	if (newfd >= FILES_MAX)
		return -EMFILE;
	f = fd_get_file(oldfd);
	if (!f)
		return -EBADF;
	spin_lock(&files->lock);
	old = files->fd[newfd];
	files->fd[newfd] = f;
	cloexec_set(files, newfd, cloexec);
	spin_unlock(&files->lock);
	if (old)
		file_put(old);
	return newfd;
}

long sys_dup2(int oldfd, int newfd)
{
	if (oldfd == newfd) {
		struct file *f = fd_get_file(oldfd);

		if (!f)
			return -EBADF;
		file_put(f);
		return newfd;
	}
	return do_dup3(oldfd, newfd, false);
}

long sys_dup3(int oldfd, int newfd, int flags)
{
	if (flags & ~O_CLOEXEC)
		return -EINVAL;
	if (oldfd == newfd)
		return -EINVAL;
	return do_dup3(oldfd, newfd, flags & O_CLOEXEC);
}

static long fcntl_fd_flags(int fd, bool set, unsigned long arg)
{
	struct files *files = current->files;
	long ret = -EBADF;

	if (fd < 0 || fd >= FILES_MAX)
		return -EBADF;
	spin_lock(&files->lock);
	if (files->fd[fd]) {
		if (set)
			cloexec_set(files, fd, arg & FD_CLOEXEC);
		ret = set ? 0 : (cloexec_test(files, fd) ? FD_CLOEXEC : 0);
	}
	spin_unlock(&files->lock);
	return ret;
}

static long fcntl_setfl(struct file *f, unsigned long arg)
{
	if (f->f_mode & FMODE_PATH)
		return -EBADF;
	spin_lock(&f->f_lock);
	f->f_flags = (f->f_flags & ~FILES_SETTABLE_FLAGS) | (arg & FILES_SETTABLE_FLAGS);
	spin_unlock(&f->f_lock);
	return 0;
}

long sys_fcntl(int fd, unsigned int cmd, unsigned long arg)
{
	struct file *f;
	long ret;

	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		return do_dupfd(fd, arg, cmd == F_DUPFD_CLOEXEC);
	case F_GETFD:
	case F_SETFD:
		return fcntl_fd_flags(fd, cmd == F_SETFD, arg);
	}
	f = fd_get_file(fd);
	if (!f)
		return -EBADF;
	switch (cmd) {
	case F_GETFL:
		ret = READ_ONCE(f->f_flags);
		break;
	case F_SETFL:
		ret = fcntl_setfl(f, arg);
		break;
	case F_GETPIPE_SZ:
	case F_SETPIPE_SZ:
		ret = pipe_fcntl(f, cmd, arg);
		break;
	default:
		ret = -EINVAL; // record locks, owners, leases: not supported
		break;
	}
	file_put(f);
	return ret;
}

// Generic ioctls every descriptor understands; the rest go to the file's driver.
long sys_ioctl(int fd, unsigned int cmd, unsigned long arg)
{
	struct file *f = fd_get_file(fd);
	long ret;
	int on;

	if (!f)
		return -EBADF;
	if (f->f_mode & FMODE_PATH) {
		ret = -EBADF;
	} else if (cmd == FIOCLEX || cmd == FIONCLEX) {
		ret = fcntl_fd_flags(fd, true, cmd == FIOCLEX ? FD_CLOEXEC : 0);
	} else if (cmd == FIONBIO) {
		ret = get_user(on, (int __user *)arg);
		if (!ret) {
			spin_lock(&f->f_lock);
			f->f_flags = on ? f->f_flags | O_NONBLOCK : f->f_flags & ~O_NONBLOCK;
			spin_unlock(&f->f_lock);
		}
	} else if (f->f_op && f->f_op->ioctl) {
		ret = f->f_op->ioctl(f, cmd, arg);
	} else {
		ret = -ENOTTY;
	}
	file_put(f);
	return ret;
}
