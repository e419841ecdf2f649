// Path lookup: turning "a/b/../c" into a dentry, relative to the task's root and cwd or
// to a directory descriptor, following symlinks and crossing mount points.
//
// The walk is iterative. It keeps the unread rest of the path in a PATH_MAX buffer; a
// symlink met on the way is expanded in place (target + rest), so nested links cost
// no kernel stack. At most SYMLOOP_MAX links are followed per lookup (-ELOOP), a component
// longer than NAME_MAX is -ENAMETOOLONG, and a non-directory followed by more path is
// -ENOTDIR. ".." never leaves the task's root and climbs out of a mounted file system
// through its mount point. Trailing slashes demand a directory. A cached child of a file
// system with d_revalidate (procfs) is checked before use; a stale one is invalidated
// and the name looked up again, so a /proc/<pid> whose task has gone is -ENOENT.
// Context: process context; lookups may sleep in a file system's lookup method.

#include <trapeze/err.h>
#include <trapeze/fs.h>
#include <trapeze/kmalloc.h>
#include <trapeze/string.h>
#include <trapeze/uaccess.h>

struct walk {
	struct dentry *root; // the task's root: ".." stops here; absolute paths start here
	struct dentry *cur;  // a reference: the directory reached so far
	char *buf;           // PATH_MAX bytes: the path still to walk, at buf + pos
	size_t pos;
	int links;           // symlinks followed so far
};

char *path_from_user(const char __user *upath)
{
	char *buf = kmalloc(PATH_MAX);
	long n;

	if (!buf)
		return ERR_PTR(-ENOMEM);
	n = strncpy_from_user(buf, upath, PATH_MAX);
	if (n < 0) {
		kfree(buf);
		return ERR_PTR(n);
	}
	return buf;
}

struct dentry *dentry_follow_mounts(struct dentry *d)
{
	uint64_t flags = spin_lock_irqsave(&dcache_lock);

	while (d->d_mounted) {
		struct dentry *root = d->d_mounted->s_root;

		root->d_count++;
		d->d_count--; // the caller's reference moves to the mounted root
		d = root;
	}
	spin_unlock_irqrestore(&dcache_lock, flags);
	return d;
}

// ".." from d: stays at the task's root, leaves a mounted file system's root through its
// mount point. Consumes the reference to d and returns one to the result.
static struct dentry *walk_dotdot(struct dentry *d, struct dentry *root)
{
	struct dentry *up;
	uint64_t flags = spin_lock_irqsave(&dcache_lock);

	while (d != root && d == d->d_sb->s_root && d->d_sb->s_mountpoint) {
		struct dentry *mp = d->d_sb->s_mountpoint;

		mp->d_count++;
		d->d_count--; // never the last: a mounted root is pinned by its superblock
		d = mp;
	}
	up = d == root ? d : d->d_parent;
	up->d_count++;
	spin_unlock_irqrestore(&dcache_lock, flags);
	dentry_put(d);
	return up;
}

// The cached child of dir named name, asked first whether it is still good when its file
// system can tell (d_revalidate): a reference to it, NULL when there is none or it was
// stale (it has been invalidated, so the caller looks the name up afresh), or ERR_PTR.
static struct dentry *lookup_cached(struct dentry *dir, const char *name, size_t len)
{
	struct dentry *d = dentry_find_child(dir, name, len);
	const struct dentry_operations *ops = dir->d_sb->s_d_op;
	int ret;

	if (!d || !ops || !ops->d_revalidate || READ_ONCE(d->d_mounted))
		return d;
	ret = ops->d_revalidate(d);
	if (ret > 0)
		return d;
	if (ret == 0)
		dentry_invalidate(d);
	dentry_put(d);
	return ret == 0 ? NULL : ERR_PTR(ret);
}

struct dentry *lookup_child_locked(struct dentry *dir, const char *name, size_t len)
{
	struct inode *di = dir->d_inode;
	struct dentry *d = lookup_cached(dir, name, len);
	int err;

	if (d || !di->i_op || !di->i_op->lookup)
		return d;
	d = dentry_alloc(dir, dir->d_sb, name, len);
	if (!d)
		return ERR_PTR(-ENOMEM);
	err = di->i_op->lookup(di, d);
	if (err) {
		dentry_put(d);
		return err == -ENOENT ? NULL : ERR_PTR(err);
	}
	dentry_link_cached(d);
	return d;
}

// The child named name of directory dir, with a reference, mounts followed.
static struct dentry *lookup_child(struct dentry *dir, const char *name, size_t len)
{
	struct inode *di = dir->d_inode;
	struct dentry *d = lookup_cached(dir, name, len);

	if (IS_ERR(d))
		return d;
	if (!d && di->i_op && di->i_op->lookup) {
		mutex_lock(&di->i_mutex);
		d = lookup_child_locked(dir, name, len);
		mutex_unlock(&di->i_mutex);
	}
	if (!d)
		return ERR_PTR(-ENOENT);
	if (IS_ERR(d))
		return d;
	return dentry_follow_mounts(d);
}

// Replace the walked-so-far symlink with its target: the rest of the path becomes
// target + rest, where rest is empty or starts with the slash after the link's name, so a
// slash at the end of the target stays the last thing in the path (it demands a directory)
// and one in the path after the link stays too. An absolute target restarts at the root.
static int walk_expand_link(struct walk *w, struct dentry *link)
{
	struct inode *inode = link->d_inode;
	size_t rest = strlen(w->buf + w->pos);
	char *target;
	long n;

	if (++w->links > SYMLOOP_MAX)
		return -ELOOP;
	if (!inode->i_op || !inode->i_op->readlink)
		return -EINVAL;
	target = kmalloc(PATH_MAX);
	if (!target)
		return -ENOMEM;
	n = inode->i_op->readlink(link, target, PATH_MAX);
	if (n >= 0 && (size_t)n + rest + 1 > PATH_MAX)
		n = -ENAMETOOLONG;
	if (n == 0)
		n = -ENOENT;
	if (n < 0) {
		kfree(target);
		return n;
	}
	memmove(w->buf + n, w->buf + w->pos, rest + 1);
	memcpy(w->buf, target, n);
	w->pos = 0;
	kfree(target);
	if (w->buf[0] == '/') {
		dentry_put(w->cur);
		w->cur = dentry_get(w->root);
	}
	return 0;
}

// Is the rest of the path (after a component) nothing but slashes? Sets *slash if any.
static bool walk_is_last(const char *p, bool *slash)
{
	*slash = *p == '/';
	while (*p == '/')
		p++;
	return *p == '\0';
}

static bool is_dir(struct dentry *d)
{
	return S_ISDIR(d->d_inode->i_mode);
}

// One component name at w->buf + w->pos (after any slashes). Returns its length, 0 at
// the end of the path, or -ENAMETOOLONG.
static long walk_component(struct walk *w, const char **name)
{
	size_t n = 0;

	while (w->buf[w->pos] == '/')
		w->pos++;
	*name = w->buf + w->pos;
	while ((*name)[n] && (*name)[n] != '/')
		n++;
	if (n > NAME_MAX)
		return -ENAMETOOLONG;
	return n;
}

// Walk every component except, when parent_only, the last one. Returns 0 with w->cur the
// final dentry (or the parent, and *last/*last_len naming the last component).
static int walk_path(struct walk *w, unsigned int flags, bool parent_only, const char **last,
		     size_t *last_len)
{
	for (;;) {
		const char *name;
		long len = walk_component(w, &name);
		bool slash, final;
		struct dentry *next;

		if (len <= 0)
			return len;
		if (!is_dir(w->cur))
			return -ENOTDIR;
		final = walk_is_last(name + len, &slash);
		if (final && parent_only) {
			*last = name;
			*last_len = len;
			return 0;
		}
		w->pos = name + len - w->buf;
		if (len == 1 && name[0] == '.')
			continue;
		if (len == 2 && name[0] == '.' && name[1] == '.') {
			w->cur = walk_dotdot(w->cur, w->root);
			continue;
		}
		next = lookup_child(w->cur, name, len);
		if (IS_ERR(next))
			return PTR_ERR(next);
		if (S_ISLNK(next->d_inode->i_mode) && (!final || slash || (flags & LOOKUP_FOLLOW))) {
			int err = walk_expand_link(w, next);

			dentry_put(next);
			if (err)
				return err;
			continue;
		}
		// A trailing slash, typed or at the end of a link's target ("f/"), demands a
		// directory.
		if (final && slash && !is_dir(next)) {
			dentry_put(next);
			return -ENOTDIR;
		}
		dentry_put(w->cur);
		w->cur = next;
	}
}

// Set up a walk of path from dirfd: buffer, root, and the starting directory.
static int walk_start(struct walk *w, int dirfd, const char *path, unsigned int flags)
{
	size_t len = strnlen(path, PATH_MAX);

	if (len >= PATH_MAX)
		return -ENAMETOOLONG;
	if (len == 0 && !(flags & LOOKUP_EMPTY))
		return -ENOENT;
	w->buf = kmalloc(PATH_MAX);
	if (!w->buf)
		return -ENOMEM;
	memcpy(w->buf, path, len + 1);
	w->pos = 0;
	w->links = 0;
	w->root = fs_context_root();
	if (path[0] == '/') {
		w->cur = dentry_get(w->root);
	} else if (dirfd == AT_FDCWD) {
		w->cur = fs_context_cwd();
	} else {
		struct file *f = fd_get_file(dirfd);

		if (!f)
			goto bad;
		w->cur = dentry_get(f->f_dentry);
		file_put(f);
		if (len > 0 && !is_dir(w->cur)) {
			dentry_put(w->cur);
			dentry_put(w->root);
			kfree(w->buf);
			return -ENOTDIR;
		}
	}
	return 0;
bad:
	dentry_put(w->root);
	kfree(w->buf);
	return -EBADF;
}

static void walk_end(struct walk *w)
{
	dentry_put(w->root);
	kfree(w->buf);
}

int path_lookupat(int dirfd, const char *path, unsigned int flags, struct dentry **out)
{
	struct walk w;
	int err = walk_start(&w, dirfd, path, flags);

	if (err)
		return err;
	err = walk_path(&w, flags, false, NULL, NULL);
	if (!err && (flags & LOOKUP_DIRECTORY) && !is_dir(w.cur))
		err = -ENOTDIR;
	if (err)
		dentry_put(w.cur);
	else
		*out = w.cur;
	walk_end(&w);
	return err;
}

int path_lookup_parent(int dirfd, const char *path, struct path_parent *pp)
{
	struct walk w;
	const char *last = NULL;
	size_t len = 0;
	int err = walk_start(&w, dirfd, path, 0);

	if (err)
		return err;
	err = walk_path(&w, 0, true, &last, &len);
	if (!err && !is_dir(w.cur))
		err = -ENOTDIR;
	if (err) {
		dentry_put(w.cur);
		walk_end(&w);
		return err;
	}
	pp->dir = w.cur;
	pp->len = len;
	pp->type = LAST_NORM;
	pp->trailing_slash = false;
	if (!last) {
		pp->type = LAST_ROOT; // "/" or only slashes: no last component
	} else {
		memcpy(pp->last, last, len);
		walk_is_last(last + len, &pp->trailing_slash);
		if (len == 1 && last[0] == '.')
			pp->type = LAST_DOT;
		else if (len == 2 && last[0] == '.' && last[1] == '.')
			pp->type = LAST_DOTDOT;
	}
	pp->last[len] = '\0';
	walk_end(&w);
	return 0;
}

void path_parent_release(struct path_parent *pp)
{
	dentry_put(pp->dir);
	pp->dir = NULL;
}
