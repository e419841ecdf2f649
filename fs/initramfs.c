// Unpacking a cpio "newc" archive (the initramfs boot module) into the root file system.
// Directories, regular files (data copied into ramfs pages), symlinks, device nodes and
// hard links are created with their mode, owner and mtime. Entry names are taken relative
// to "/" whatever the task's cwd; "." and the trailer are skipped. Several archives may be
// unpacked one after another: an entry replaces an existing non-directory of the same
// name, and an existing directory just takes the new mode and owner.
// Context: boot, process context of the first task; may sleep.

#include <trapeze/cpio.h>
#include <trapeze/err.h>
#include <trapeze/fs.h>
#include <trapeze/kmalloc.h>
#include <trapeze/list.h>
#include <trapeze/printk.h>
#include <trapeze/string.h>

// Files with nlink > 1 seen so far in this archive, to turn later names into hard links.
struct cpio_link {
	struct list_head link;
	uint32_t ino, dev_major, dev_minor;
	struct dentry *d; // a reference
};

static struct dentry *links_find(struct list_head *links, const struct cpio_entry *e)
{
	struct cpio_link *l;

	list_for_each_entry(l, links, link) {
		if (l->ino == e->ino && l->dev_major == e->dev_major && l->dev_minor == e->dev_minor)
			return l->d;
	}
	return NULL;
}

static void links_add(struct list_head *links, const struct cpio_entry *e, struct dentry *d)
{
	struct cpio_link *l = kmalloc(sizeof(*l));

	if (!l)
		return; // later names become separate copies instead of links
	l->ino = e->ino;
	l->dev_major = e->dev_major;
	l->dev_minor = e->dev_minor;
	l->d = dentry_get(d);
	list_add(&l->link, links);
}

static void links_free(struct list_head *links)
{
	struct cpio_link *l, *tmp;

	list_for_each_entry_safe(l, tmp, links, link) {
		dentry_put(l->d);
		kfree(l);
	}
}

static void initramfs_set_attrs(struct dentry *d, const struct cpio_entry *e)
{
	struct inode *inode = d->d_inode;

	mutex_lock(&inode->i_mutex);
	inode->i_mode = (inode->i_mode & S_IFMT) | (e->mode & S_IALLUGO);
	inode->i_uid = e->uid;
	inode->i_gid = e->gid;
	inode->i_mtime = (struct fs_time){ .sec = (int64_t)e->mtime, .nsec = 0 };
	mutex_unlock(&inode->i_mutex);
}

// Replace the file's contents with the entry's data.
static int initramfs_write(struct dentry *d, const struct cpio_entry *e)
{
	struct file *f = file_open_dentry(d, O_WRONLY);
	struct iov_iter it;
	off_t pos = 0;
	ssize_t n;
	int err;

	if (IS_ERR(f))
		return PTR_ERR(f);
	err = vfs_truncate(d->d_inode, 0);
	if (!err && e->size) {
		iov_iter_kernel(&it, (void *)e->data, e->size);
		n = vfs_write(f, &it, &pos);
		err = n < 0 ? n : ((size_t)n == e->size ? 0 : -ENOSPC);
	}
	file_put(f);
	return err;
}

// Create a symlink whose target is the entry's data (not NUL-terminated in the archive).
static int initramfs_symlink(struct path_parent *pp, const struct cpio_entry *e,
			     struct dentry **out)
{
	char *target;
	int err;

	if (e->size == 0 || e->size >= PATH_MAX)
		return -EINVAL;
	target = kmalloc(e->size + 1);
	if (!target)
		return -ENOMEM;
	memcpy(target, e->data, e->size);
	target[e->size] = '\0';
	err = vfs_symlink(pp->dir, pp->last, pp->len, target, out);
	kfree(target);
	return err;
}

// Make room for a new node: remove an existing non-directory, or an (empty) directory
// when the new entry is not one. Returns 0 when the name is free, 1 with *keep set when an
// existing directory stays, or -errno.
static int initramfs_clear(struct path_parent *pp, mode_t type, struct dentry **keep)
{
	struct dentry *d = dentry_find_child(pp->dir, pp->last, pp->len);
	bool dir;

	if (!d)
		return 0;
	dir = S_ISDIR(d->d_inode->i_mode);
	if (dir && type == S_IFDIR) {
		*keep = d;
		return 1;
	}
	dentry_put(d);
	return vfs_remove(pp->dir, pp->last, pp->len, dir, false);
}

// Create the node an entry describes; *out gets a reference to it.
static int initramfs_node(struct path_parent *pp, const struct cpio_entry *e,
			  struct list_head *links, struct dentry **out)
{
	mode_t type = e->mode & S_IFMT;
	struct dentry *first;
	int err = initramfs_clear(pp, type, out);

	if (err)
		return err == 1 ? 0 : err;
	switch (type) {
	case S_IFLNK:
		return initramfs_symlink(pp, e, out);
	case S_IFREG:
		first = e->nlink > 1 ? links_find(links, e) : NULL;
		if (first) {
			err = vfs_link(first, pp->dir, pp->last, pp->len);
			if (err)
				return err;
			*out = dentry_find_child(pp->dir, pp->last, pp->len);
			return *out ? 0 : -ENOENT;
		}
		err = vfs_mknod(pp->dir, pp->last, pp->len, S_IFREG | 0600, 0, out);
		if (!err && e->nlink > 1)
			links_add(links, e, *out);
		return err;
	case S_IFDIR:
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK:
		return vfs_mknod(pp->dir, pp->last, pp->len, type | 0700,
				 MKDEV(e->rdev_major, e->rdev_minor), out);
	}
	return -EINVAL;
}

// Name handling: strip "./" and "/" prefixes and make the name absolute. NULL means skip
// (the root itself: "." or ""). buf holds PATH_MAX bytes.
static const char *initramfs_path(const struct cpio_entry *e, char *buf)
{
	const char *name = e->name;
	size_t len;

	while (name[0] == '/' || (name[0] == '.' && name[1] == '/'))
		name += name[0] == '/' ? 1 : 2;
	if (name[0] == '\0' || (name[0] == '.' && name[1] == '\0'))
		return NULL;
	len = strnlen(name, PATH_MAX);
	if (len + 2 > PATH_MAX)
		return NULL;
	buf[0] = '/';
	memcpy(buf + 1, name, len + 1);
	return buf;
}

static int initramfs_entry(const struct cpio_entry *e, struct list_head *links, char *buf)
{
	const char *path = initramfs_path(e, buf);
	struct path_parent pp;
	struct dentry *d = NULL;
	int err;

	if (!path)
		return 0;
	err = path_lookup_parent(AT_FDCWD, path, &pp);
	if (err)
		return err;
	if (pp.type != LAST_NORM) {
		path_parent_release(&pp);
		return 0; // "..", "/." and the like name nothing new
	}
	err = initramfs_node(&pp, e, links, &d);
	path_parent_release(&pp);
	if (err)
		return err;
	if (S_ISREG(e->mode) && e->size) // new files start empty; hard links share data
		err = initramfs_write(d, e);
	if (!err)
		initramfs_set_attrs(d, e);
	dentry_put(d);
	return err;
}

int initramfs_unpack(const void *archive, size_t len)
{
	LIST_HEAD(links);
	struct cpio_entry e;
	size_t off = 0;
	int r, err, files = 0;
	char *buf = kmalloc(PATH_MAX);

	if (!buf)
		return -ENOMEM;
	while ((r = cpio_next(archive, len, &off, &e)) == 1) {
		err = initramfs_entry(&e, &links, buf);
		if (err)
			pr_warn("initramfs: %s: error %d, skipped\n", e.name, err);
		else
			files++;
	}
	links_free(&links);
	kfree(buf);
	if (r < 0) {
		pr_err("initramfs: malformed archive near offset %zu\n", off);
		return -EINVAL;
	}
	pr_info("initramfs: unpacked %d entries\n", files);
	return 0;
}
