// Open files: struct file's life (alloc, get, put), opening by path (open, openat, creat
// and the kernel's file_open), truncation, and the iov_iter that carries every read and
// write between a file and user (or kernel) buffers.
// A struct file is shared by every descriptor dup'ed or inherited from one open; its
// reference count is atomic and the last file_put calls the driver's release.

#include <trapeze/err.h>
#include <trapeze/fs.h>
#include <trapeze/kmalloc.h>
#include <trapeze/string.h>
#include <trapeze/uaccess.h>

// --- iov_iter --------------------------------------------------------------------------------

void iov_iter_init(struct iov_iter *it, const struct iovec *iov, unsigned long nr, size_t count)
{
	it->iov = iov;
	it->nr_segs = nr;
	it->seg_off = 0;
	it->count = count;
	it->kernel = false;
}

void iov_iter_user(struct iov_iter *it, void __user *buf, size_t n)
{
	it->one.iov_base = buf;
	it->one.iov_len = n;
	iov_iter_init(it, &it->one, 1, n);
}

void iov_iter_kernel(struct iov_iter *it, void *buf, size_t n)
{
	iov_iter_user(it, (void __user *)buf, n);
	it->kernel = true;
}

enum iter_dir { ITER_TO, ITER_FROM, ITER_ZERO };

// Copy one segment; returns the bytes moved, fewer than n when a user page faulted.
static size_t iter_copy_seg(struct iov_iter *it, char __user *seg, char *kbuf, size_t n,
			    enum iter_dir dir)
{
	if (it->kernel) {
		if (dir == ITER_TO)
			memcpy((__force char *)seg, kbuf, n);
		else if (dir == ITER_FROM)
			memcpy(kbuf, (__force char *)seg, n);
		else
			memset((__force char *)seg, 0, n);
		return n;
	}
	if (dir == ITER_TO)
		return copy_to_user_partial(seg, kbuf, n);
	if (dir == ITER_FROM)
		return copy_from_user_partial(kbuf, seg, n);
	return clear_user_partial(seg, n);
}

// Move up to n bytes; returns the count moved, or -EFAULT if a fault came first. Like
// Linux's copy_to_iter, a fault part-way through stops the copy after the bytes that made
// it, so callers (file reads and writes) can return a short count.
static long iter_move(struct iov_iter *it, char *kbuf, size_t n, enum iter_dir dir)
{
	size_t done = 0;

	while (done < n && it->count && it->nr_segs) {
		const struct iovec *v = it->iov;
		size_t c = MIN(v->iov_len - it->seg_off, n - done), moved;

		c = MIN(c, it->count);
		if (c == 0) {
			it->iov++;
			it->nr_segs--;
			it->seg_off = 0;
			continue;
		}
		moved = iter_copy_seg(it, (char __user *)v->iov_base + it->seg_off,
				      kbuf ? kbuf + done : NULL, c, dir);
		it->seg_off += moved;
		it->count -= moved;
		done += moved;
		if (moved < c)
			return done ? (long)done : -EFAULT;
	}
	return done;
}

long iov_iter_copy_to(struct iov_iter *it, const void *src, size_t n)
{
	return iter_move(it, (char *)src, n, ITER_TO);
}

long iov_iter_copy_from(struct iov_iter *it, void *dst, size_t n)
{
	return iter_move(it, dst, n, ITER_FROM);
}

long iov_iter_zero(struct iov_iter *it, size_t n)
{
	return iter_move(it, NULL, n, ITER_ZERO);
}

// --- struct file -------------------------------------------------------------------------------

// File status flags F_GETFL reports; the open-time-only ones are dropped.
#define FILE_OPEN_ONLY_FLAGS (O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC)

struct file *file_alloc(struct dentry *d, int flags, const struct file_operations *fops)
{
	struct file *f = kzalloc(sizeof(*f));
	int acc = flags & O_ACCMODE;

	if (!f)
		return NULL;
	f->f_count = 1;
	f->f_dentry = dentry_get(d);
	f->f_inode = d->d_inode;
	f->f_op = fops;
	spin_init(&f->f_lock, "file");
	mutex_init(&f->f_pos_lock, "f_pos");
	f->f_flags = (flags & ~FILE_OPEN_ONLY_FLAGS) | O_LARGEFILE;
	if (flags & O_PATH) {
		f->f_mode = FMODE_PATH;
		return f;
	}
	if (acc == O_RDONLY || acc == O_RDWR)
		f->f_mode |= FMODE_READ;
	if (acc == O_WRONLY || acc == O_RDWR)
		f->f_mode |= FMODE_WRITE;
	if (fops && fops->lseek)
		f->f_mode |= FMODE_LSEEK;
	return f;
}

struct file *file_get(struct file *f)
{
	__atomic_add_fetch(&f->f_count, 1, __ATOMIC_RELAXED);
	return f;
}

// Context: process context (release may sleep).
void file_put(struct file *f)
{
	if (!f || __atomic_sub_fetch(&f->f_count, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (f->f_op && f->f_op->release && !(f->f_mode & FMODE_PATH))
		f->f_op->release(f->f_inode, f);
	if (f->f_mode & FMODE_WRITER)
		inode_writer_put(f->f_inode);
	dentry_put(f->f_dentry);
	kfree(f);
}

// O_PATH files: a name and nothing else.
static const struct file_operations path_fops;

static const struct file_operations *file_pick_fops(struct inode *inode, int flags)
{
	if (flags & O_PATH)
		return &path_fops;
	switch (inode->i_mode & S_IFMT) {
	case S_IFCHR:
		return chrdev_fops(inode->i_rdev);
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK:
		return NULL; // no block devices, named pipes or sockets yet
	}
	return inode->i_fop;
}

struct file *file_open_dentry(struct dentry *d, int flags)
{
	struct inode *inode = d->d_inode;
	const struct file_operations *fops = file_pick_fops(inode, flags);
	struct file *f;
	int err;

	if (!fops)
		return ERR_PTR(-ENXIO);
	f = file_alloc(d, flags, fops);
	if (!f)
		return ERR_PTR(-ENOMEM);
	// A regular file open for writing keeps a running program's code from changing.
	if ((f->f_mode & FMODE_WRITE) && S_ISREG(inode->i_mode)) {
		err = inode_writer_get(inode);
		if (err) {
			f->f_op = NULL;
			file_put(f);
			return ERR_PTR(err);
		}
		f->f_mode |= FMODE_WRITER;
	}
	if (!(flags & O_PATH) && fops->open) {
		err = fops->open(inode, f);
		if (err) {
			f->f_op = NULL; // never opened: no release
			file_put(f);
			return ERR_PTR(err);
		}
	}
	return f;
}

int vfs_truncate(struct inode *inode, int64_t size)
{
	int err;

	if (S_ISDIR(inode->i_mode))
		return -EISDIR;
	if (!S_ISREG(inode->i_mode) || size < 0)
		return -EINVAL;
	if ((uint64_t)size > inode->i_sb->s_maxbytes)
		return -EFBIG;
	if (!inode->i_op || !inode->i_op->truncate)
		return -EINVAL;
	// Write access for the duration, as Linux's do_truncate: a program being run
	// cannot be cut short (ETXTBSY). ftruncate's own open already holds it.
	err = inode_writer_get(inode);
	if (err)
		return err;
	mutex_lock(&inode->i_mutex);
	err = inode->i_op->truncate(inode, size);
	if (!err)
		inode_touch_mtime(inode);
	mutex_unlock(&inode->i_mutex);
	inode_writer_put(inode);
	return err;
}

// O_CREAT: find or create the last component of path under the parent's lock, so that two
// O_CREAT|O_EXCL opens cannot both succeed. *last_at gets the offset of that component in
// path. The result may be a symlink; open_create decides whether to follow it.
static int open_create_last(int dirfd, const char *path, int flags, mode_t mode,
			    struct dentry **out, size_t *last_at)
{
	struct path_parent pp;
	struct dentry *d;
	int err = path_lookup_parent(dirfd, path, &pp);

	if (err)
		return err;
	if (pp.type != LAST_NORM || pp.trailing_slash) {
		path_parent_release(&pp);
		return -EISDIR;
	}
	*last_at = strlen(path) - pp.len; // no trailing slash: the name ends the path
	mutex_lock(&pp.dir->d_inode->i_mutex);
	d = lookup_child_locked(pp.dir, pp.last, pp.len);
	if (!d) {
		mode = S_IFREG | (mode & S_IALLUGO & ~fs_context_umask());
		err = vfs_mknod_locked(pp.dir, pp.last, pp.len, mode, 0, &d);
	} else if (IS_ERR(d)) {
		err = PTR_ERR(d);
	} else if (flags & O_EXCL) {
		err = -EEXIST;
		dentry_put(d);
	}
	mutex_unlock(&pp.dir->d_inode->i_mutex);
	path_parent_release(&pp);
	if (!err)
		*out = d;
	return err;
}

// The path a followed symlink leads to: its target, after the directory part of path
// (the first last_at bytes) when the target is relative. A new PATH_MAX buffer, or ERR_PTR.
static char *open_link_path(const char *path, size_t last_at, struct dentry *link)
{
	struct inode *inode = link->d_inode;
	char *next = kmalloc(PATH_MAX);
	long n;

	if (!next)
		return ERR_PTR(-ENOMEM);
	if (!inode->i_op || !inode->i_op->readlink) {
		n = -EINVAL;
		goto fail;
	}
	n = inode->i_op->readlink(link, next, PATH_MAX);
	if (n == 0)
		n = -ENOENT;
	if (n < 0)
		goto fail;
	if (next[0] == '/')
		last_at = 0;
	if (last_at + (size_t)n + 1 > PATH_MAX) {
		n = -ENAMETOOLONG;
		goto fail;
	}
	memmove(next + last_at, next, n);
	memcpy(next, path, last_at);
	next[last_at + n] = '\0';
	return next;
fail:
	kfree(next);
	return ERR_PTR(n);
}

// open(O_CREAT) in full. A symlink in the last component is followed (unless O_NOFOLLOW or
// O_EXCL) and what it names is opened or, as on Linux, created: a dangling link makes its
// target. At most SYMLOOP_MAX links in a row (-ELOOP).
static int open_create(int dirfd, const char *path, int flags, mode_t mode, struct dentry **out)
{
	char *buf = NULL;
	int links = 0, err;

	for (;;) {
		struct dentry *d;
		size_t last_at;
		char *next;

		err = open_create_last(dirfd, path, flags, mode, &d, &last_at);
		if (err)
			break;
		if (!S_ISLNK(d->d_inode->i_mode) || (flags & O_NOFOLLOW)) {
			*out = dentry_follow_mounts(d);
			break;
		}
		next = ++links > SYMLOOP_MAX ? ERR_PTR(-ELOOP) : open_link_path(path, last_at, d);
		dentry_put(d);
		if (IS_ERR(next)) {
			err = PTR_ERR(next);
			break;
		}
		kfree(buf);
		path = buf = next;
	}
	kfree(buf);
	return err;
}

// Type checks open(2) makes once the dentry is known.
static int open_check(struct dentry *d, int flags)
{
	mode_t mode = d->d_inode->i_mode;
	int acc = flags & O_ACCMODE;

	if (S_ISLNK(mode) && (flags & O_NOFOLLOW) && !(flags & O_PATH))
		return -ELOOP;
	if ((flags & O_DIRECTORY) && !S_ISDIR(mode))
		return -ENOTDIR;
	if (S_ISDIR(mode) && !(flags & O_PATH) &&
	    (acc != O_RDONLY || (flags & (O_TRUNC | O_CREAT))))
		return -EISDIR;
	return 0;
}

struct file *do_filp_open(int dirfd, const char *path, int flags, mode_t mode)
{
	struct dentry *d;
	struct file *f;
	int err;

	if (flags & __O_TMPFILE)
		return ERR_PTR(-EOPNOTSUPP);
	if (flags & O_PATH)
		flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	else if ((flags & O_ACCMODE) == O_ACCMODE)
		return ERR_PTR(-EINVAL);
	if (flags & O_CREAT)
		err = open_create(dirfd, path, flags, mode, &d);
	else
		err = path_lookupat(dirfd, path, (flags & O_NOFOLLOW) ? 0 : LOOKUP_FOLLOW, &d);
	if (err)
		return ERR_PTR(err);
	err = open_check(d, flags);
	if (!err && (flags & O_TRUNC) && S_ISREG(d->d_inode->i_mode))
		err = vfs_truncate(d->d_inode, 0);
	f = err ? ERR_PTR(err) : file_open_dentry(d, flags);
	dentry_put(d);
	return f;
}

struct file *file_open(const char *path, int flags, mode_t mode)
{
	return do_filp_open(AT_FDCWD, path, flags, mode);
}

ssize_t kernel_read(struct file *f, void *buf, size_t n, off_t off)
{
	struct iov_iter it;

	if (off < 0)
		return -EINVAL;
	iov_iter_kernel(&it, buf, n);
	return vfs_read(f, &it, &off);
}

mode_t file_mode(const struct file *f)
{
	return READ_ONCE(f->f_inode->i_mode);
}

uint64_t file_size(const struct file *f)
{
	return READ_ONCE(f->f_inode->i_size);
}

static long do_sys_open(int dirfd, const char __user *upath, int flags, mode_t mode)
{
	char *path = path_from_user(upath);
	struct file *f;
	int fd;

	if (IS_ERR(path))
		return PTR_ERR(path);
	f = do_filp_open(dirfd, path, flags, mode);
	kfree(path);
	if (IS_ERR(f))
		return PTR_ERR(f);
	fd = fd_install_flags(f, flags);
	if (fd < 0)
		file_put(f);
	return fd;
}

long sys_open(const char __user *path, int flags, mode_t mode)
{
	return do_sys_open(AT_FDCWD, path, flags, mode);
}

long sys_openat(int dirfd, const char __user *path, int flags, mode_t mode)
{
	return do_sys_open(dirfd, path, flags, mode);
}

long sys_creat(const char __user *path, mode_t mode)
{
	return do_sys_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}
