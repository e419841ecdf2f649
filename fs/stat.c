// The stat family: stat, lstat, fstat, newfstatat and statx, all filling the Linux
// x86-64 layouts of include/uapi/stat.h from an inode.
// Context: process context. Inode fields are read without i_mutex: each is one aligned
// word, and stat has never promised a consistent snapshot across fields.

#include <trapeze/err.h>
#include <trapeze/fs.h>
#include <trapeze/kmalloc.h>
#include <trapeze/string.h>
#include <trapeze/uaccess.h>

#define STAT_BLKSIZE 4096

static void inode_fill_stat(struct inode *inode, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = inode->i_sb->s_dev;
	st->st_ino = inode->i_ino;
	st->st_nlink = READ_ONCE(inode->i_nlink);
	st->st_mode = READ_ONCE(inode->i_mode);
	st->st_uid = inode->i_uid;
	st->st_gid = inode->i_gid;
	st->st_rdev = inode->i_rdev;
	st->st_size = READ_ONCE(inode->i_size);
	st->st_blksize = STAT_BLKSIZE;
	st->st_blocks = READ_ONCE(inode->i_nr_pages) * (PAGE_SIZE / 512);
	st->st_atime = inode->i_atime.sec;
	st->st_atime_nsec = inode->i_atime.nsec;
	st->st_mtime = inode->i_mtime.sec;
	st->st_mtime_nsec = inode->i_mtime.nsec;
	st->st_ctime = inode->i_ctime.sec;
	st->st_ctime_nsec = inode->i_ctime.nsec;
}

// Look up a user path for the *at() calls: AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH.
static int user_path_at(int dirfd, const char __user *upath, int flags, struct dentry **out)
{
	unsigned int lookup = (flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW;
	char *path;
	int err;

	if (flags & AT_EMPTY_PATH)
		lookup |= LOOKUP_EMPTY;
	path = path_from_user(upath);
	if (IS_ERR(path))
		return PTR_ERR(path);
	err = path_lookupat(dirfd, path, lookup, out);
	kfree(path);
	return err;
}

static long stat_to_user(struct inode *inode, struct stat __user *ust)
{
	struct stat st;

	inode_fill_stat(inode, &st);
	return copy_to_user(ust, &st, sizeof(st)) ? -EFAULT : 0;
}

long sys_newfstatat(int dirfd, const char __user *path, struct stat __user *ust, int flags)
{
	struct dentry *d;
	long err;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
		return -EINVAL;
	err = user_path_at(dirfd, path, flags, &d);
	if (err)
		return err;
	err = stat_to_user(d->d_inode, ust);
	dentry_put(d);
	return err;
}

long sys_stat(const char __user *path, struct stat __user *ust)
{
	return sys_newfstatat(AT_FDCWD, path, ust, 0);
}

long sys_lstat(const char __user *path, struct stat __user *ust)
{
	return sys_newfstatat(AT_FDCWD, path, ust, AT_SYMLINK_NOFOLLOW);
}

long sys_fstat(int fd, struct stat __user *ust)
{
	struct file *f = fd_get_file(fd);
	long err;

	if (!f)
		return -EBADF;
	err = stat_to_user(f->f_inode, ust);
	file_put(f);
	return err;
}

static struct statx_timestamp statx_time(struct fs_time t)
{
	return (struct statx_timestamp){ .tv_sec = t.sec, .tv_nsec = (uint32_t)t.nsec };
}

static void inode_fill_statx(struct inode *inode, struct statx *sx)
{
	struct stat st;

	inode_fill_stat(inode, &st);
	memset(sx, 0, sizeof(*sx));
	sx->stx_mask = STATX_BASIC_STATS;
	sx->stx_blksize = st.st_blksize;
	sx->stx_nlink = st.st_nlink;
	sx->stx_uid = st.st_uid;
	sx->stx_gid = st.st_gid;
	sx->stx_mode = st.st_mode;
	sx->stx_ino = st.st_ino;
	sx->stx_size = st.st_size;
	sx->stx_blocks = st.st_blocks;
	sx->stx_atime = statx_time(inode->i_atime);
	sx->stx_mtime = statx_time(inode->i_mtime);
	sx->stx_ctime = statx_time(inode->i_ctime);
	sx->stx_rdev_major = MAJOR(st.st_rdev);
	sx->stx_rdev_minor = MINOR(st.st_rdev);
	sx->stx_dev_major = MAJOR(st.st_dev);
	sx->stx_dev_minor = MINOR(st.st_dev);
}

long sys_statx(int dirfd, const char __user *path, int flags, unsigned int mask,
	       struct statx __user *usx)
{
	struct statx *sx;
	struct dentry *d;
	long err;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE))
		return -EINVAL;
	if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE || (mask & STATX__RESERVED))
		return -EINVAL;
	err = user_path_at(dirfd, path, flags, &d);
	if (err)
		return err;
	sx = kmalloc(sizeof(*sx));
	if (!sx) {
		err = -ENOMEM;
	} else {
		inode_fill_statx(d->d_inode, sx);
		err = copy_to_user(usx, sx, sizeof(*sx)) ? -EFAULT : 0;
		kfree(sx);
	}
	dentry_put(d);
	return err;
}

// --- attributes: access, chmod, chown, utimensat ------------------------------------------------

// Everything runs as root: read and write are always allowed; execute needs a directory
// or at least one x bit, as Linux grants root.
static long do_faccessat(int dirfd, const char __user *path, int mode, int flags)
{
	struct dentry *d;
	long err;

	if (mode & ~(R_OK | W_OK | X_OK))
		return -EINVAL;
	if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	err = user_path_at(dirfd, path, flags, &d);
	if (err)
		return err;
	if ((mode & X_OK) && !S_ISDIR(d->d_inode->i_mode) && !(d->d_inode->i_mode & S_IXUGO))
		err = -EACCES;
	dentry_put(d);
	return err;
}

long sys_faccessat2(int dirfd, const char __user *path, int mode, int flags)
{
	return do_faccessat(dirfd, path, mode, flags);
}

long sys_faccessat(int dirfd, const char __user *path, int mode)
{
	return do_faccessat(dirfd, path, mode, 0);
}

long sys_access(const char __user *path, int mode)
{
	return do_faccessat(AT_FDCWD, path, mode, 0);
}

static long inode_chmod(struct inode *inode, mode_t mode)
{
	mutex_lock(&inode->i_mutex);
	inode->i_mode = (inode->i_mode & S_IFMT) | (mode & S_IALLUGO);
	inode_touch_ctime(inode);
	mutex_unlock(&inode->i_mutex);
	return 0;
}

long sys_fchmodat(int dirfd, const char __user *path, mode_t mode)
{
	struct dentry *d;
	long err = user_path_at(dirfd, path, 0, &d);

	if (err)
		return err;
	err = inode_chmod(d->d_inode, mode);
	dentry_put(d);
	return err;
}

long sys_chmod(const char __user *path, mode_t mode)
{
	return sys_fchmodat(AT_FDCWD, path, mode);
}

long sys_fchmod(int fd, mode_t mode)
{
	struct file *f = fd_get_file(fd);
	long err;

	if (!f)
		return -EBADF;
	err = (f->f_mode & FMODE_PATH) ? -EBADF : inode_chmod(f->f_inode, mode);
	file_put(f);
	return err;
}

// (uid_t)-1 leaves an id unchanged. A change by root keeps set-id bits of non-executables.
static long inode_chown(struct inode *inode, uid_t uid, gid_t gid)
{
	mutex_lock(&inode->i_mutex);
	if (uid != (uid_t)-1)
		inode->i_uid = uid;
	if (gid != (gid_t)-1)
		inode->i_gid = gid;
	if (!S_ISDIR(inode->i_mode) && (inode->i_mode & S_IXUGO))
		inode->i_mode &= ~(S_ISUID | S_ISGID);
	inode_touch_ctime(inode);
	mutex_unlock(&inode->i_mutex);
	return 0;
}

long sys_fchownat(int dirfd, const char __user *path, uid_t uid, gid_t gid, int flags)
{
	struct dentry *d;
	long err;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	err = user_path_at(dirfd, path, flags, &d);
	if (err)
		return err;
	err = inode_chown(d->d_inode, uid, gid);
	dentry_put(d);
	return err;
}

long sys_chown(const char __user *path, uid_t uid, gid_t gid)
{
	return sys_fchownat(AT_FDCWD, path, uid, gid, 0);
}

long sys_lchown(const char __user *path, uid_t uid, gid_t gid)
{
	return sys_fchownat(AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW);
}

long sys_fchown(int fd, uid_t uid, gid_t gid)
{
	struct file *f = fd_get_file(fd);
	long err;

	if (!f)
		return -EBADF;
	err = (f->f_mode & FMODE_PATH) ? -EBADF : inode_chown(f->f_inode, uid, gid);
	file_put(f);
	return err;
}

// Apply one utimensat time: UTIME_OMIT keeps it, UTIME_NOW takes now.
static int utime_pick(struct fs_time *dst, const struct fs_time *src, struct fs_time now)
{
	if (src->nsec == UTIME_OMIT)
		return 0;
	if (src->nsec == UTIME_NOW) {
		*dst = now;
		return 0;
	}
	if (src->nsec < 0 || src->nsec >= 1000000000L)
		return -EINVAL;
	*dst = *src;
	return 0;
}

static long inode_utimens(struct inode *inode, const struct fs_time *times)
{
	struct fs_time now = fs_time_now(), a = inode->i_atime, m = inode->i_mtime;
	long err = 0;

	if (times) {
		err = utime_pick(&a, &times[0], now);
		if (!err)
			err = utime_pick(&m, &times[1], now);
	} else {
		a = m = now;
	}
	if (err)
		return err;
	mutex_lock(&inode->i_mutex);
	inode->i_atime = a;
	inode->i_mtime = m;
	inode->i_ctime = now;
	mutex_unlock(&inode->i_mutex);
	return 0;
}

_Static_assert(sizeof(struct fs_time) == 16, "fs_time has struct timespec's layout");

// A NULL path means dirfd itself (futimens).
long sys_utimensat(int dirfd, const char __user *path, const struct fs_time __user *utimes,
		   int flags)
{
	struct fs_time times[2];
	struct dentry *d;
	long err;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	if (utimes && copy_from_user(times, utimes, sizeof(times)))
		return -EFAULT;
	if (path) {
		err = user_path_at(dirfd, path, flags, &d);
	} else {
		struct file *f = fd_get_file(dirfd);

		err = f ? 0 : -EBADF;
		if (f) {
			d = dentry_get(f->f_dentry);
			file_put(f);
		}
	}
	if (err)
		return err;
	err = inode_utimens(d->d_inode, utimes ? times : NULL);
	dentry_put(d);
	return err;
}

// statfs(2) and fstatfs(2): what file system holds a file, and its size. Memory file
// systems that may grow into any free page (ramfs) report all of RAM as their size and
// the free pages as free, as tmpfs does for its limit; the others report 0 blocks.
struct linux_statfs {
	int64_t f_type, f_bsize;
	uint64_t f_blocks, f_bfree, f_bavail, f_files, f_ffree;
	int32_t f_fsid[2];
	int64_t f_namelen, f_frsize, f_flags;
	int64_t f_spare[4];
};
_Static_assert(sizeof(struct linux_statfs) == 120, "struct statfs is 120 bytes on x86-64");

#define ST_VALID 0x0020 // f_flags is valid (Linux always sets it)

static long statfs_to_user(const struct super_block *sb, struct linux_statfs __user *ubuf)
{
	struct linux_statfs st;

	memset(&st, 0, sizeof(st));
	st.f_type = (int64_t)sb->s_type->magic;
	st.f_bsize = st.f_frsize = PAGE_SIZE;
	st.f_namelen = NAME_MAX;
	st.f_flags = ST_VALID;
	st.f_fsid[0] = (int32_t)sb->s_dev;
	st.f_fsid[1] = (int32_t)(sb->s_dev >> 32);
	if (sb->s_type->statfs_ram) {
		st.f_blocks = mm_total_pages();
		st.f_bfree = st.f_bavail = mm_free_pages();
	}
	return copy_to_user(ubuf, &st, sizeof(st)) ? -EFAULT : 0;
}

long sys_statfs(const char __user *path, struct linux_statfs __user *ubuf)
{
	struct dentry *d;
	long err = user_path_at(AT_FDCWD, path, 0, &d);

	if (err)
		return err;
	err = statfs_to_user(d->d_sb, ubuf);
	dentry_put(d);
	return err;
}

long sys_fstatfs(int fd, struct linux_statfs __user *ubuf)
{
	struct file *f = fd_get_file(fd);
	long err;

	if (!f)
		return -EBADF;
	err = statfs_to_user(f->f_inode->i_sb, ubuf);
	file_put(f);
	return err;
}
