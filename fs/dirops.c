// Name-space operations: creating and removing names in directories (mknod, mkdir,
// symlink, link, unlink, rmdir) and the system calls built on them. The VFS does the
// checks every file system shares (existence, types, mount points, dead directories) under
// the parent directory's i_mutex, then calls the file system's inode operation and links
// or unlinks the dentry.
// Lock: parent dir i_mutex, then (rmdir) the victim directory's i_mutex.

#include <trapeze/err.h>
#include <trapeze/fs.h>
#include <trapeze/kmalloc.h>
#include <trapeze/string.h>
#include <trapeze/uaccess.h>

// Create one node of any kind (target for symlinks) under the locked dir.
static int create_locked(struct dentry *dir, const char *name, size_t len, mode_t mode,
			 dev_t rdev, const char *target, struct dentry **out)
{
	struct inode *di = dir->d_inode;
	const struct inode_operations *op = di->i_op;
	struct dentry *d;
	int err = -EPERM;

	assert(mutex_is_held(&di->i_mutex));
	if (READ_ONCE(di->i_nlink) == 0)
		return -ENOENT; // the directory was removed while we looked it up
	d = lookup_child_locked(dir, name, len);
	if (IS_ERR(d))
		return PTR_ERR(d);
	if (d) {
		dentry_put(d);
		return -EEXIST;
	}
	d = dentry_alloc(dir, dir->d_sb, name, len);
	if (!d)
		return -ENOMEM;
	if (S_ISREG(mode) && op->create)
		err = op->create(di, d, mode);
	else if (S_ISDIR(mode) && op->mkdir)
		err = op->mkdir(di, d, mode);
	else if (S_ISLNK(mode) && op->symlink)
		err = op->symlink(di, d, target);
	else if (!S_ISREG(mode) && !S_ISDIR(mode) && !S_ISLNK(mode) && op->mknod)
		err = op->mknod(di, d, mode, rdev);
	if (err) {
		dentry_put(d);
		return err;
	}
	dentry_link(d);
	inode_touch_mtime(di);
	if (out)
		*out = d;
	else
		dentry_put(d);
	return 0;
}

int vfs_mknod_locked(struct dentry *dir, const char *name, size_t len, mode_t mode, dev_t rdev,
		     struct dentry **out)
{
	return create_locked(dir, name, len, mode, rdev, NULL, out);
}

int vfs_mknod(struct dentry *dir, const char *name, size_t len, mode_t mode, dev_t rdev,
	      struct dentry **out)
{
	struct inode *di = dir->d_inode;
	int err;

	mutex_lock(&di->i_mutex);
	err = create_locked(dir, name, len, mode, rdev, NULL, out);
	mutex_unlock(&di->i_mutex);
	return err;
}

int vfs_symlink(struct dentry *dir, const char *name, size_t len, const char *target,
		struct dentry **out)
{
	struct inode *di = dir->d_inode;
	int err;

	mutex_lock(&di->i_mutex);
	err = create_locked(dir, name, len, S_IFLNK | 0777, 0, target, out);
	mutex_unlock(&di->i_mutex);
	return err;
}

int vfs_link(struct dentry *old, struct dentry *dir, const char *name, size_t len)
{
	struct inode *di = dir->d_inode, *inode = old->d_inode;
	struct dentry *d;
	int err;

	if (S_ISDIR(inode->i_mode))
		return -EPERM;
	if (old->d_sb != dir->d_sb)
		return -EXDEV;
	if (!di->i_op->link)
		return -EPERM;
	mutex_lock(&di->i_mutex);
	err = -ENOENT;
	if (READ_ONCE(di->i_nlink) == 0 || READ_ONCE(inode->i_nlink) == 0)
		goto unlock;
	d = lookup_child_locked(dir, name, len);
	err = IS_ERR(d) ? PTR_ERR(d) : -EEXIST;
	if (d) {
		if (!IS_ERR(d))
			dentry_put(d);
		goto unlock;
	}
	err = -ENOMEM;
	d = dentry_alloc(dir, dir->d_sb, name, len);
	if (!d)
		goto unlock;
	err = di->i_op->link(old, di, d);
	if (!err) {
		dentry_link(d);
		inode_touch_mtime(di);
	}
	dentry_put(d);
unlock:
	mutex_unlock(&di->i_mutex);
	return err;
}

static bool dentry_is_busy(struct dentry *d)
{
	return READ_ONCE(d->d_mounted) || d == d->d_sb->s_root;
}

// The checks and the call for removing d from the locked directory dir.
static int remove_locked(struct dentry *dir, struct dentry *d, bool rmdir, bool must_be_dir)
{
	struct inode *di = dir->d_inode, *inode = d->d_inode;
	int err;

	if (rmdir) {
		if (!S_ISDIR(inode->i_mode))
			return -ENOTDIR;
		if (dentry_is_busy(d))
			return -EBUSY;
		if (!di->i_op->rmdir)
			return -EPERM;
		mutex_lock(&inode->i_mutex);
		err = di->i_op->rmdir(di, d);
		mutex_unlock(&inode->i_mutex);
	} else {
		if (S_ISDIR(inode->i_mode))
			return -EISDIR;
		if (must_be_dir)
			return -ENOTDIR;
		if (!di->i_op->unlink)
			return -EPERM;
		err = di->i_op->unlink(di, d);
	}
	if (err)
		return err;
	dentry_unlink(d);
	inode_touch_mtime(di);
	return 0;
}

int vfs_remove(struct dentry *dir, const char *name, size_t len, bool rmdir, bool must_be_dir)
{
	struct inode *di = dir->d_inode;
	struct dentry *d;
	int err;

	mutex_lock(&di->i_mutex);
	d = lookup_child_locked(dir, name, len);
	if (!d)
		err = -ENOENT;
	else if (IS_ERR(d))
		err = PTR_ERR(d);
	else
		err = remove_locked(dir, d, rmdir, must_be_dir);
	mutex_unlock(&di->i_mutex);
	if (!IS_ERR_OR_NULL(d))
		dentry_put(d);
	return err;
}

// --- system calls ----------------------------------------------------------------------------

// Why a non-directory cannot be created at pp: a name with a trailing slash may only make a
// directory, so Linux answers EEXIST when the name exists and ENOENT when it does not; any
// last component but a plain name exists (EEXIST). 0 when creation may go on.
static int create_name_check(struct path_parent *pp)
{
	struct dentry *d;

	if (pp->type != LAST_NORM)
		return -EEXIST;
	if (!pp->trailing_slash)
		return 0;
	mutex_lock(&pp->dir->d_inode->i_mutex);
	d = lookup_child_locked(pp->dir, pp->last, pp->len);
	mutex_unlock(&pp->dir->d_inode->i_mutex);
	if (IS_ERR(d))
		return PTR_ERR(d);
	if (!d)
		return -ENOENT;
	dentry_put(d);
	return -EEXIST;
}

// Copy the user path and look up its parent. On success the caller releases pp.
static int user_path_parent(int dirfd, const char __user *upath, struct path_parent *pp)
{
	char *path = path_from_user(upath);
	int err;

	if (IS_ERR(path))
		return PTR_ERR(path);
	err = path_lookup_parent(dirfd, path, pp);
	kfree(path);
	return err;
}

long sys_mkdirat(int dirfd, const char __user *upath, mode_t mode)
{
	struct path_parent pp;
	int err = user_path_parent(dirfd, upath, &pp);

	if (err)
		return err;
	if (pp.type != LAST_NORM)
		err = -EEXIST;
	else
		err = vfs_mknod(pp.dir, pp.last, pp.len,
				S_IFDIR | (mode & (S_IRWXU | S_IRWXG | S_IRWXO | S_ISVTX) &
					   ~fs_context_umask()),
				0, NULL);
	path_parent_release(&pp);
	return err;
}

long sys_mkdir(const char __user *path, mode_t mode)
{
	return sys_mkdirat(AT_FDCWD, path, mode);
}

static long do_rmdir(int dirfd, const char __user *upath)
{
	struct path_parent pp;
	int err = user_path_parent(dirfd, upath, &pp);

	if (err)
		return err;
	if (pp.type == LAST_DOT)
		err = -EINVAL;
	else if (pp.type == LAST_DOTDOT)
		err = -ENOTEMPTY;
	else if (pp.type == LAST_ROOT)
		err = -EBUSY;
	else
		err = vfs_remove(pp.dir, pp.last, pp.len, true, true);
	path_parent_release(&pp);
	return err;
}

static long do_unlink(int dirfd, const char __user *upath)
{
	struct path_parent pp;
	int err = user_path_parent(dirfd, upath, &pp);

	if (err)
		return err;
	if (pp.type != LAST_NORM)
		err = -EISDIR;
	else
		err = vfs_remove(pp.dir, pp.last, pp.len, false, pp.trailing_slash);
	path_parent_release(&pp);
	return err;
}

long sys_rmdir(const char __user *path)
{
	return do_rmdir(AT_FDCWD, path);
}

long sys_unlink(const char __user *path)
{
	return do_unlink(AT_FDCWD, path);
}

long sys_unlinkat(int dirfd, const char __user *path, int flags)
{
	if (flags & ~AT_REMOVEDIR)
		return -EINVAL;
	return (flags & AT_REMOVEDIR) ? do_rmdir(dirfd, path) : do_unlink(dirfd, path);
}

long sys_symlinkat(const char __user *utarget, int dirfd, const char __user *upath)
{
	char *target = path_from_user(utarget);
	struct path_parent pp;
	int err;

	if (IS_ERR(target))
		return PTR_ERR(target);
	err = target[0] ? user_path_parent(dirfd, upath, &pp) : -ENOENT;
	if (!err) {
		err = create_name_check(&pp);
		if (!err)
			err = vfs_symlink(pp.dir, pp.last, pp.len, target, NULL);
		path_parent_release(&pp);
	}
	kfree(target);
	return err;
}

long sys_symlink(const char __user *target, const char __user *path)
{
	return sys_symlinkat(target, AT_FDCWD, path);
}

long sys_linkat(int olddirfd, const char __user *uold, int newdirfd, const char __user *unew,
		int flags)
{
	unsigned int lookup = 0;
	struct path_parent pp;
	struct dentry *old;
	char *path;
	int err;

	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	if (flags & AT_SYMLINK_FOLLOW)
		lookup |= LOOKUP_FOLLOW;
	if (flags & AT_EMPTY_PATH)
		lookup |= LOOKUP_EMPTY;
	path = path_from_user(uold);
	if (IS_ERR(path))
		return PTR_ERR(path);
	err = path_lookupat(olddirfd, path, lookup, &old);
	kfree(path);
	if (err)
		return err;
	err = user_path_parent(newdirfd, unew, &pp);
	if (!err) {
		err = create_name_check(&pp);
		if (!err)
			err = vfs_link(old, pp.dir, pp.last, pp.len);
		path_parent_release(&pp);
	}
	dentry_put(old);
	return err;
}

long sys_link(const char __user *oldpath, const char __user *newpath)
{
	return sys_linkat(AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
}

long sys_readlinkat(int dirfd, const char __user *upath, char __user *ubuf, int size)
{
	char *path, *buf;
	struct dentry *d;
	struct inode *inode;
	long n;

	if (size <= 0)
		return -EINVAL;
	path = path_from_user(upath);
	if (IS_ERR(path))
		return PTR_ERR(path);
	// An empty path names dirfd itself (a symlink opened with O_PATH | O_NOFOLLOW).
	n = path_lookupat(dirfd, path, dirfd == AT_FDCWD ? 0 : LOOKUP_EMPTY, &d);
	kfree(path);
	if (n)
		return n;
	inode = d->d_inode;
	buf = kmalloc(PATH_MAX);
	if (!buf)
		n = -ENOMEM;
	else if (!S_ISLNK(inode->i_mode) || !inode->i_op || !inode->i_op->readlink)
		n = -EINVAL;
	else
		n = inode->i_op->readlink(d, buf, PATH_MAX);
	if (n > size)
		n = size;
	if (n > 0 && copy_to_user(ubuf, buf, n))
		n = -EFAULT;
	kfree(buf);
	dentry_put(d);
	return n;
}

long sys_readlink(const char __user *path, char __user *buf, int size)
{
	return sys_readlinkat(AT_FDCWD, path, buf, size);
}
