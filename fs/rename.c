// rename, renameat, renameat2. A rename changes two directories at once and can move a
// directory under another, so renames are serialised by one rename_mutex; with it held the
// tree above the two parents cannot change, which makes the loop check ("is the new parent
// inside the directory being moved?") and the lock order (ancestor first, else by address)
// safe.
// Lock: rename_mutex -> old and new parent i_mutex.

#include <trapeze/err.h>
#include <trapeze/fs.h>
#include <trapeze/kmalloc.h>
#include <trapeze/string.h>

static struct mutex rename_mutex = MUTEX_INIT(rename_mutex);

// True if anc is d or one of d's ancestors within d's file system.
static bool dentry_is_ancestor(struct dentry *anc, struct dentry *d)
{
	bool found = false;
	uint64_t flags = spin_lock_irqsave(&dcache_lock);

	for (;;) {
		if (d == anc) {
			found = true;
			break;
		}
		if (d->d_parent == d)
			break;
		d = d->d_parent;
	}
	spin_unlock_irqrestore(&dcache_lock, flags);
	return found;
}

static void rename_lock_dirs(struct dentry *a, struct dentry *b)
{
	if (a == b) {
		mutex_lock(&a->d_inode->i_mutex);
		return;
	}
	if (dentry_is_ancestor(b, a) || (!dentry_is_ancestor(a, b) && b < a)) {
		struct dentry *t = a;

		a = b;
		b = t;
	}
	mutex_lock(&a->d_inode->i_mutex);
	mutex_lock(&b->d_inode->i_mutex);
}

static void rename_unlock_dirs(struct dentry *a, struct dentry *b)
{
	mutex_unlock(&a->d_inode->i_mutex);
	if (a != b)
		mutex_unlock(&b->d_inode->i_mutex);
}

// The checks Linux makes before it looks at the target's type: trailing slashes, mount
// points, a directory moved into itself, RENAME_NOREPLACE. nd is the existing target or NULL.
static int rename_check(struct path_parent *op, struct dentry *od, struct path_parent *np,
			struct dentry *nd, unsigned int flags)
{
	bool dir = S_ISDIR(od->d_inode->i_mode);

	if (!dir && (op->trailing_slash || np->trailing_slash))
		return -ENOTDIR;
	if (READ_ONCE(od->d_mounted) || (nd && READ_ONCE(nd->d_mounted)))
		return -EBUSY;
	if (dir && dentry_is_ancestor(od, np->dir))
		return -EINVAL; // would move a directory inside itself
	if (nd && (flags & RENAME_NOREPLACE))
		return -EEXIST;
	return 0;
}

// Whether the existing target nd, another file than the source od, may be replaced: a
// directory only by a directory and only when empty, a non-directory only by one.
static int rename_check_victim(struct dentry *od, struct dentry *nd)
{
	bool dir = S_ISDIR(od->d_inode->i_mode);

	if (dir && !S_ISDIR(nd->d_inode->i_mode))
		return -ENOTDIR;
	if (!dir && S_ISDIR(nd->d_inode->i_mode))
		return -EISDIR;
	if (dir && (nd->d_sb->s_flags & SB_DCACHE_STORE) && dentry_has_children(nd))
		return -ENOTEMPTY;
	return 0;
}

// The rename itself, both parents locked: look both names up, check, let the file system
// commit, then move the dentry.
static int rename_locked(struct path_parent *op, struct path_parent *np, unsigned int flags)
{
	struct inode *odi = op->dir->d_inode, *ndi = np->dir->d_inode;
	struct dentry *od, *nd;
	int err;

	od = lookup_child_locked(op->dir, op->last, op->len);
	if (IS_ERR_OR_NULL(od))
		return od ? PTR_ERR(od) : -ENOENT;
	nd = lookup_child_locked(np->dir, np->last, np->len);
	err = IS_ERR(nd) ? PTR_ERR(nd) : 0;
	if (IS_ERR(nd))
		nd = NULL;
	if (!err && READ_ONCE(ndi->i_nlink) == 0)
		err = -ENOENT;
	if (!err)
		err = rename_check(op, od, np, nd, flags);
	if (err || (nd && nd->d_inode == od->d_inode))
		goto out; // renaming a name onto itself or another name of its file does nothing
	if (nd)
		err = rename_check_victim(od, nd);
	if (err)
		goto out;
	if (!nd)
		nd = dentry_alloc(np->dir, np->dir->d_sb, np->last, np->len);
	err = -ENOMEM;
	if (!nd)
		goto out;
	err = odi->i_op->rename ? odi->i_op->rename(odi, od, ndi, nd) : -EPERM;
	if (err)
		goto out;
	dentry_unlink(nd);
	dentry_move(od, nd);
	inode_touch_mtime(odi);
	inode_touch_mtime(ndi);
	inode_touch_ctime(od->d_inode);
out:
	dentry_put(od);
	if (nd)
		dentry_put(nd);
	return err;
}

static long do_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
			 unsigned int flags)
{
	struct path_parent op, np;
	int err;

	if (flags & ~RENAME_NOREPLACE)
		return -EINVAL; // RENAME_EXCHANGE and RENAME_WHITEOUT are not supported
	err = path_lookup_parent(olddirfd, oldpath, &op);
	if (err)
		return err;
	err = path_lookup_parent(newdirfd, newpath, &np);
	if (err)
		goto put_old;
	err = -EBUSY;
	if (op.type != LAST_NORM || np.type != LAST_NORM)
		goto put_new;
	err = -EXDEV;
	if (op.dir->d_sb != np.dir->d_sb)
		goto put_new;
	mutex_lock(&rename_mutex);
	rename_lock_dirs(op.dir, np.dir);
	err = rename_locked(&op, &np, flags);
	rename_unlock_dirs(op.dir, np.dir);
	mutex_unlock(&rename_mutex);
put_new:
	path_parent_release(&np);
put_old:
	path_parent_release(&op);
	return err;
}

long sys_renameat2(int olddirfd, const char __user *uold, int newdirfd, const char __user *unew,
		   unsigned int flags)
{
	char *oldpath = path_from_user(uold), *newpath;
	long err;

	if (IS_ERR(oldpath))
		return PTR_ERR(oldpath);
	newpath = path_from_user(unew);
	if (IS_ERR(newpath)) {
		kfree(oldpath);
		return PTR_ERR(newpath);
	}
	err = do_renameat2(olddirfd, oldpath, newdirfd, newpath, flags);
	kfree(oldpath);
	kfree(newpath);
	return err;
}

long sys_renameat(int olddirfd, const char __user *oldpath, int newdirfd,
		  const char __user *newpath)
{
	return sys_renameat2(olddirfd, oldpath, newdirfd, newpath, 0);
}

long sys_rename(const char __user *oldpath, const char __user *newpath)
{
	return sys_renameat2(AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
}
