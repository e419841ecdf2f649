// Per-task file system context: root directory, current directory and umask, shared
// between tasks by reference count (fork copies it, CLONE_FS would share it). Also the
// system calls that read or change it: getcwd, chdir, fchdir, umask.
// Lock: fs->lock (leaf spinlock) for root, cwd and umask; references are taken under it.

#include <asm/cpu.h>
#include <trapeze/err.h>
#include <trapeze/fs.h>
#include <trapeze/kmalloc.h>
#include <trapeze/string.h>
#include <trapeze/task.h>
#include <trapeze/uaccess.h>

#define UMASK_DEFAULT 0022

struct fs_context *fs_context_alloc(void)
{
	struct fs_context *fs = kzalloc(sizeof(*fs));

	if (!fs)
		return NULL;
	spin_init(&fs->lock, "fs_context");
	fs->count = 1;
	fs->root = dentry_get(vfs_root);
	fs->cwd = dentry_get(vfs_root);
	fs->umask = UMASK_DEFAULT;
	return fs;
}

struct fs_context *fs_context_dup(struct fs_context *old)
{
	struct fs_context *fs = kzalloc(sizeof(*fs));

	if (!fs)
		return NULL;
	spin_init(&fs->lock, "fs_context");
	fs->count = 1;
	spin_lock(&old->lock);
	fs->root = dentry_get(old->root);
	fs->cwd = dentry_get(old->cwd);
	fs->umask = old->umask;
	spin_unlock(&old->lock);
	return fs;
}

struct fs_context *fs_context_get(struct fs_context *fs)
{
	__atomic_add_fetch(&fs->count, 1, __ATOMIC_RELAXED);
	return fs;
}

void fs_context_put(struct fs_context *fs)
{
	if (!fs || __atomic_sub_fetch(&fs->count, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	dentry_put(fs->root);
	dentry_put(fs->cwd);
	kfree(fs);
}

// Boot code runs before the first task has a context: it sees the global root.
static struct fs_context *fs_current(void)
{
	struct task *t = current;

	return t ? t->fs : NULL;
}

struct dentry *fs_context_root(void)
{
	struct fs_context *fs = fs_current();
	struct dentry *d;

	if (!fs)
		return dentry_get(vfs_root);
	spin_lock(&fs->lock);
	d = dentry_get(fs->root);
	spin_unlock(&fs->lock);
	return d;
}

struct dentry *fs_context_cwd(void)
{
	struct fs_context *fs = fs_current();
	struct dentry *d;

	if (!fs)
		return dentry_get(vfs_root);
	spin_lock(&fs->lock);
	d = dentry_get(fs->cwd);
	spin_unlock(&fs->lock);
	return d;
}

mode_t fs_context_umask(void)
{
	struct fs_context *fs = fs_current();

	return fs ? READ_ONCE(fs->umask) : UMASK_DEFAULT;
}

// Make d (a reference, consumed) the current directory.
static int fs_set_cwd(struct dentry *d)
{
	struct fs_context *fs = fs_current();
	struct dentry *old;

	if (!S_ISDIR(d->d_inode->i_mode)) {
		dentry_put(d);
		return -ENOTDIR;
	}
	if (!fs) {
		dentry_put(d);
		return -EINVAL;
	}
	spin_lock(&fs->lock);
	old = fs->cwd;
	fs->cwd = d;
	spin_unlock(&fs->lock);
	dentry_put(old);
	return 0;
}

long sys_chdir(const char __user *upath)
{
	char *path = path_from_user(upath);
	struct dentry *d;
	int err;

	if (IS_ERR(path))
		return PTR_ERR(path);
	err = path_lookupat(AT_FDCWD, path, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &d);
	kfree(path);
	if (err)
		return err;
	return fs_set_cwd(d);
}

long sys_fchdir(int fd)
{
	struct file *f = fd_get_file(fd);
	struct dentry *d;

	if (!f)
		return -EBADF;
	d = dentry_get(f->f_dentry);
	file_put(f);
	return fs_set_cwd(d);
}

long sys_umask(int mask)
{
	struct fs_context *fs = fs_current();
	mode_t old;

	if (!fs)
		return -EINVAL;
	spin_lock(&fs->lock);
	old = fs->umask;
	fs->umask = mask & 0777;
	spin_unlock(&fs->lock);
	return old;
}

// Write the path from root to d at the end of buf[0..size): returns the start of the
// string, or NULL if it does not fit. Sets *unreachable if d was unlinked or lies
// outside root. Context: any; takes dcache_lock.
static char *dentry_path(struct dentry *d, struct dentry *root, char *buf, size_t size,
			 bool *unreachable)
{
	char *p = buf + size;
	uint64_t flags = spin_lock_irqsave(&dcache_lock);

	*--p = '\0';
	*unreachable = false;
	while (d != root) {
		if (d == d->d_sb->s_root) {
			if (!d->d_sb->s_mountpoint) {
				*unreachable = true; // above the task's root
				break;
			}
			d = d->d_sb->s_mountpoint;
			continue;
		}
		if (!(d->d_flags & DENTRY_LINKED))
			*unreachable = true;
		if ((size_t)(p - buf) < d->d_namelen + 1) {
			p = NULL;
			break;
		}
		p -= d->d_namelen;
		memcpy(p, d->d_name, d->d_namelen);
		*--p = '/';
		d = d->d_parent;
	}
	if (p && *p == '\0') {
		if (p == buf)
			p = NULL;
		else
			*--p = '/';
	}
	spin_unlock_irqrestore(&dcache_lock, flags);
	return p;
}

// getcwd returns the length including the NUL, -ERANGE if size is too small, and
// -ENOENT once the directory has been removed.
long sys_getcwd(char __user *ubuf, unsigned long size)
{
	struct dentry *root = fs_context_root(), *cwd = fs_context_cwd();
	char *buf = kmalloc(PATH_MAX);
	bool unreachable;
	long ret = -ENOMEM;
	char *p;

	if (!buf)
		goto out;
	p = dentry_path(cwd, root, buf, PATH_MAX, &unreachable);
	ret = -ENAMETOOLONG;
	if (!p)
		goto out;
	ret = -ENOENT;
	if (unreachable)
		goto out;
	ret = buf + PATH_MAX - p;
	if ((unsigned long)ret > size)
		ret = -ERANGE;
	else if (copy_to_user(ubuf, p, ret))
		ret = -EFAULT;
out:
	kfree(buf);
	dentry_put(root);
	dentry_put(cwd);
	return ret;
}
