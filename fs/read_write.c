// The data system calls: read, write, readv, writev, pread64, pwrite64, lseek, sendfile,
// truncate, ftruncate, fsync, fdatasync. Each turns its user buffers into an iov_iter and
// calls the file's read or write method at the right position.
// Position rule: a seekable file (FMODE_LSEEK) is read and written under its f_pos_lock,
// so two tasks sharing an open file never use the same offset twice; pipes and terminals
// have no position and do not take it (a reader blocked on a pipe must not block others).

#include <trapeze/err.h>
#include <trapeze/fs.h>
#include <trapeze/kmalloc.h>
#include <trapeze/page_alloc.h>
#include <trapeze/rlimit.h>
#include <trapeze/uaccess.h>

ssize_t vfs_read(struct file *f, struct iov_iter *to, off_t *pos)
{
	if (!(f->f_mode & FMODE_READ))
		return -EBADF;
	if (S_ISDIR(f->f_inode->i_mode))
		return -EISDIR;
	if (!f->f_op->read)
		return -EINVAL;
	if (to->count > MAX_RW_COUNT)
		to->count = MAX_RW_COUNT;
	if (to->count == 0)
		return 0;
	return f->f_op->read(f, to, pos);
}

ssize_t vfs_write(struct file *f, struct iov_iter *from, off_t *pos)
{
	int ret;

	if (!(f->f_mode & FMODE_WRITE))
		return -EBADF;
	if (!f->f_op->write)
		return -EINVAL;
	if (from->count > MAX_RW_COUNT)
		from->count = MAX_RW_COUNT;
	if (from->count == 0 && !S_ISREG(f->f_inode->i_mode))
		return 0;
	// RLIMIT_FSIZE: a regular file grows only up to the limit (SIGXFSZ and EFBIG past it).
	ret = rlimit_fsize_clamp(f, *pos, &from->count);
	if (ret)
		return ret;
	return f->f_op->write(f, from, pos);
}

// Read or write at the file position, advancing it.
static ssize_t file_rw(struct file *f, struct iov_iter *it, bool write)
{
	ssize_t ret;
	off_t pos = 0;

	if (!(f->f_mode & FMODE_LSEEK))
		return write ? vfs_write(f, it, &pos) : vfs_read(f, it, &pos);
	mutex_lock(&f->f_pos_lock);
	pos = f->f_pos;
	ret = write ? vfs_write(f, it, &pos) : vfs_read(f, it, &pos);
	if (ret >= 0)
		f->f_pos = pos;
	mutex_unlock(&f->f_pos_lock);
	return ret;
}

static long do_rw(int fd, struct iov_iter *it, bool write)
{
	struct file *f = fd_get_file(fd);
	long ret;

	if (!f)
		return -EBADF;
	ret = file_rw(f, it, write);
	file_put(f);
	return ret;
}

long sys_read(int fd, void __user *buf, size_t n)
{
	struct iov_iter it;

	iov_iter_user(&it, buf, n);
	return do_rw(fd, &it, false);
}

long sys_write(int fd, const void __user *buf, size_t n)
{
	struct iov_iter it;

	iov_iter_user(&it, (void __user *)buf, n);
	return do_rw(fd, &it, true);
}

// Copy a user iovec array in; returns the kernel copy (kfree it) or ERR_PTR.
static struct iovec *iovec_import(const struct iovec __user *uiov, unsigned long nr,
				  struct iov_iter *it)
{
	struct iovec *iov;
	size_t total = 0;

	if (nr > IOV_MAX)
		return ERR_PTR(-EINVAL);
	iov = kmalloc(MAX(nr, 1UL) * sizeof(*iov));
	if (!iov)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(iov, uiov, nr * sizeof(*iov))) {
		kfree(iov);
		return ERR_PTR(-EFAULT);
	}
	for (unsigned long i = 0; i < nr; i++) {
		if (iov[i].iov_len > (size_t)INT64_MAX - total) {
			kfree(iov);
			return ERR_PTR(-EINVAL);
		}
		total += iov[i].iov_len;
	}
	iov_iter_init(it, iov, nr, total);
	return iov;
}

static long do_rwv(int fd, const struct iovec __user *uiov, unsigned long nr, bool write)
{
	struct iov_iter it;
	struct iovec *iov = iovec_import(uiov, nr, &it);
	long ret;

	if (IS_ERR(iov))
		return PTR_ERR(iov);
	ret = do_rw(fd, &it, write);
	kfree(iov);
	return ret;
}

long sys_readv(int fd, const struct iovec __user *iov, int nr)
{
	return nr < 0 ? -EINVAL : do_rwv(fd, iov, nr, false);
}

long sys_writev(int fd, const struct iovec __user *iov, int nr)
{
	return nr < 0 ? -EINVAL : do_rwv(fd, iov, nr, true);
}

static long do_prw(int fd, void __user *buf, size_t n, off_t pos, bool write)
{
	struct file *f;
	struct iov_iter it;
	long ret;

	if (pos < 0)
		return -EINVAL;
	f = fd_get_file(fd);
	if (!f)
		return -EBADF;
	iov_iter_user(&it, buf, n);
	if (!(f->f_mode & FMODE_LSEEK))
		ret = (f->f_mode & (write ? FMODE_WRITE : FMODE_READ)) ? -ESPIPE : -EBADF;
	else
		ret = write ? vfs_write(f, &it, &pos) : vfs_read(f, &it, &pos);
	file_put(f);
	return ret;
}

long sys_pread64(int fd, void __user *buf, size_t n, off_t pos)
{
	return do_prw(fd, buf, n, pos, false);
}

long sys_pwrite64(int fd, const void __user *buf, size_t n, off_t pos)
{
	return do_prw(fd, (void __user *)buf, n, pos, true);
}

off_t generic_file_lseek(struct file *f, off_t off, int whence)
{
	off_t base, size = (off_t)READ_ONCE(f->f_inode->i_size), res;

	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = f->f_pos;
		break;
	case SEEK_END:
		base = size;
		break;
	case SEEK_DATA: // a file is all data as far as callers can tell
	case SEEK_HOLE:
		if (off < 0 || off >= size)
			return -ENXIO;
		res = whence == SEEK_DATA ? off : size;
		f->f_pos = res;
		return res;
	default:
		return -EINVAL;
	}
	if (__builtin_add_overflow(base, off, &res))
		return -EOVERFLOW;
	if (res < 0)
		return -EINVAL;
	f->f_pos = res;
	return res;
}

off_t generic_nosize_lseek(struct file *f, off_t off, int whence)
{
	off_t res = off;

	if (whence == SEEK_CUR && __builtin_add_overflow(f->f_pos, off, &res))
		return -EINVAL;
	if ((whence != SEEK_SET && whence != SEEK_CUR) || res < 0)
		return -EINVAL;
	f->f_pos = res;
	return res;
}

long sys_lseek(int fd, off_t off, unsigned int whence)
{
	struct file *f = fd_get_file(fd);
	long ret;

	if (!f)
		return -EBADF;
	if (f->f_mode & FMODE_PATH) {
		ret = -EBADF;
	} else if (!f->f_op->lseek) {
		ret = -ESPIPE;
	} else {
		mutex_lock(&f->f_pos_lock);
		ret = f->f_op->lseek(f, off, whence);
		mutex_unlock(&f->f_pos_lock);
	}
	file_put(f);
	return ret;
}

// Write all n bytes of kbuf to out (short only on error or a full device); returns the
// count written or -errno if nothing was.
static ssize_t sendfile_write(struct file *out, char *kbuf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		struct iov_iter it;
		ssize_t w;

		iov_iter_kernel(&it, kbuf + done, n - done);
		w = file_rw(out, &it, true);
		if (w <= 0)
			return done ? (ssize_t)done : (w ? w : -EIO);
		done += w;
	}
	return done;
}

// One chunk of sendfile: read at *pos (or at in's own position when pos is NULL).
static ssize_t sendfile_read(struct file *in, char *kbuf, size_t n, off_t *pos)
{
	struct iov_iter it;

	iov_iter_kernel(&it, kbuf, n);
	if (pos)
		return vfs_read(in, &it, pos);
	return file_rw(in, &it, false);
}

// Move in's position back over n bytes that were read but could not be written.
static void file_unread(struct file *in, size_t n)
{
	mutex_lock(&in->f_pos_lock);
	in->f_pos -= n;
	mutex_unlock(&in->f_pos_lock);
}

static long do_sendfile(struct file *out, struct file *in, off_t *pos, size_t count)
{
	char *kbuf = page_alloc_virt();
	size_t done = 0;
	long err = 0;

	if (!kbuf)
		return -ENOMEM;
	count = MIN(count, (size_t)MAX_RW_COUNT);
	while (done < count) {
		ssize_t r = sendfile_read(in, kbuf, MIN(PAGE_SIZE, count - done), pos);
		ssize_t w;

		if (r <= 0) {
			err = r;
			break;
		}
		w = sendfile_write(out, kbuf, r);
		if (w < 0) {
			err = w;
			w = 0;
		}
		done += w;
		if (w < r) { // give back what was read but not written
			if (pos)
				*pos -= r - w;
			else
				file_unread(in, r - w);
			break;
		}
	}
	page_free_virt(kbuf);
	return done ? (long)done : err;
}

long sys_sendfile(int out_fd, int in_fd, off_t __user *uoff, size_t count)
{
	struct file *in = fd_get_file(in_fd), *out = fd_get_file(out_fd);
	off_t pos = 0;
	long ret = -EBADF;

	if (!in || !out || !(in->f_mode & FMODE_READ) || !(out->f_mode & FMODE_WRITE))
		goto out;
	ret = -EINVAL;
	if (READ_ONCE(out->f_flags) & O_APPEND)
		goto out;
	if (uoff) {
		ret = -EFAULT;
		if (get_user(pos, uoff))
			goto out;
		ret = -ESPIPE;
		if (!(in->f_mode & FMODE_LSEEK))
			goto out;
		ret = -EINVAL;
		if (pos < 0)
			goto out;
	}
	// Like Linux, only from files with a position (not pipes, not terminals): the copy
	// loop reads until count or end of file, which a stream would make it wait for.
	ret = -EINVAL;
	if (!(in->f_mode & FMODE_LSEEK))
		goto out;
	ret = do_sendfile(out, in, uoff ? &pos : NULL, count);
	if (uoff && ret >= 0 && put_user(pos, uoff))
		ret = -EFAULT;
out:
	if (in)
		file_put(in);
	if (out)
		file_put(out);
	return ret;
}

// A truncate by the current task: RLIMIT_FSIZE first (SIGXFSZ and EFBIG when it would grow
// the file past the limit), then the file system.
static int do_truncate(struct inode *inode, off_t size)
{
	int err = rlimit_fsize_truncate_check(inode, size);

	return err ? err : vfs_truncate(inode, size);
}

long sys_truncate(const char __user *upath, off_t size)
{
	char *path = path_from_user(upath);
	struct dentry *d;
	int err;

	if (IS_ERR(path))
		return PTR_ERR(path);
	err = path_lookupat(AT_FDCWD, path, LOOKUP_FOLLOW, &d);
	kfree(path);
	if (err)
		return err;
	err = do_truncate(d->d_inode, size);
	dentry_put(d);
	return err;
}

long sys_ftruncate(int fd, off_t size)
{
	struct file *f = fd_get_file(fd);
	int err;

	if (!f)
		return -EBADF;
	if (!(f->f_mode & FMODE_WRITE))
		err = (f->f_mode & FMODE_PATH) ? -EBADF : -EINVAL;
	else
		err = do_truncate(f->f_inode, size);
	file_put(f);
	return err;
}

// Memory file systems have nothing to write back; pipes and devices cannot sync.
static long do_fsync(int fd)
{
	struct file *f = fd_get_file(fd);
	mode_t mode;

	if (!f)
		return -EBADF;
	mode = f->f_inode->i_mode;
	file_put(f);
	return (S_ISREG(mode) || S_ISDIR(mode)) ? 0 : -EINVAL;
}

long sys_fsync(int fd)
{
	return do_fsync(fd);
}

long sys_fdatasync(int fd)
{
	return do_fsync(fd);
}
