// Path lookup and ramfs tests: ".", "..", "//", trailing slashes, symlinks, mount
// crossing, ENOTDIR, ENAMETOOLONG, ELOOP, then the name-space operations and file data.
// Each test builds its own tree under /ktest-vfs-<name> with absolute paths (so the boot
// task's cwd does not matter) and removes it at the end.

#include <trapeze/err.h>
#include <trapeze/fs.h>
#include <trapeze/kmalloc.h>
#include <trapeze/ktest.h>
#include <trapeze/string.h>

// The dentry at path (a reference), or NULL with *err set.
static struct dentry *lk(const char *path, unsigned int flags, int *err)
{
	struct dentry *d = NULL;

	*err = path_lookupat(AT_FDCWD, path, flags, &d);
	return *err ? NULL : d;
}

// Does path resolve (with flags) to the same dentry as want?
static bool lk_is(const char *path, unsigned int flags, struct dentry *want)
{
	int err;
	struct dentry *d = lk(path, flags, &err);
	bool same = d == want;

	if (d)
		dentry_put(d);
	return same;
}

static int lk_err(const char *path, unsigned int flags)
{
	int err;
	struct dentry *d = lk(path, flags, &err);

	if (d)
		dentry_put(d);
	return err;
}

static struct dentry *mkdir_in(struct dentry *dir, const char *name)
{
	struct dentry *d = NULL;

	if (vfs_mknod(dir, name, strlen(name), S_IFDIR | 0755, 0, &d))
		return NULL;
	return d;
}

static struct dentry *mkfile_in(struct dentry *dir, const char *name)
{
	struct dentry *d = NULL;

	if (vfs_mknod(dir, name, strlen(name), S_IFREG | 0644, 0, &d))
		return NULL;
	return d;
}

static void symlink_in(struct dentry *dir, const char *name, const char *target)
{
	vfs_symlink(dir, name, strlen(name), target, NULL);
}

static void rm(struct dentry *dir, const char *name, bool is_dir)
{
	vfs_remove(dir, name, strlen(name), is_dir, false);
}

// The tree every lookup test uses:
//	/ktest-vfs/a/b/   /ktest-vfs/a/f   /ktest-vfs/rel -> a/b   /ktest-vfs/abs -> /ktest-vfs/a
//	/ktest-vfs/loop -> loop   /ktest-vfs/dangling -> nowhere   /ktest-vfs/flink -> a/f
struct tree {
	struct dentry *top, *a, *b, *f;
};

static bool tree_build(struct tree *t)
{
	t->top = mkdir_in(vfs_root, "ktest-vfs");
	t->a = t->top ? mkdir_in(t->top, "a") : NULL;
	t->b = t->a ? mkdir_in(t->a, "b") : NULL;
	t->f = t->a ? mkfile_in(t->a, "f") : NULL;
	if (!t->b || !t->f)
		return false;
	symlink_in(t->top, "rel", "a/b");
	symlink_in(t->top, "abs", "/ktest-vfs/a");
	symlink_in(t->top, "loop", "loop");
	symlink_in(t->top, "dangling", "nowhere");
	symlink_in(t->top, "flink", "a/f");
	return true;
}

static void tree_destroy(struct tree *t)
{
	static const char *const links[] = { "rel", "abs", "loop", "dangling", "flink" };

	for (size_t i = 0; i < ARRAY_SIZE(links); i++)
		rm(t->top, links[i], false);
	if (t->a) {
		rm(t->a, "f", false);
		rm(t->a, "b", true);
	}
	if (t->top)
		rm(t->top, "a", true);
	rm(vfs_root, "ktest-vfs", true);
	if (t->f)
		dentry_put(t->f);
	if (t->b)
		dentry_put(t->b);
	if (t->a)
		dentry_put(t->a);
	if (t->top)
		dentry_put(t->top);
}

KTEST(vfs_lookup_root_dots, "vfs: /, //, /. and /.. all name the root")
{
	KT_EXPECT(t, lk_is("/", 0, vfs_root));
	KT_EXPECT(t, lk_is("//", 0, vfs_root));
	KT_EXPECT(t, lk_is("///.", 0, vfs_root));
	KT_EXPECT(t, lk_is("/..", 0, vfs_root));
	KT_EXPECT(t, lk_is("/../../.", 0, vfs_root));
	KT_EXPECT(t, lk_err("", 0) == -ENOENT);
}

KTEST(vfs_lookup_dot_dotdot, "vfs: . and .. and repeated slashes inside a path")
{
	struct tree tr;

	KT_EXPECT(t, tree_build(&tr));
	KT_EXPECT(t, lk_is("/ktest-vfs/a/b", 0, tr.b));
	KT_EXPECT(t, lk_is("/ktest-vfs//a///b", 0, tr.b));
	KT_EXPECT(t, lk_is("/ktest-vfs/./a/./b/.", 0, tr.b));
	KT_EXPECT(t, lk_is("/ktest-vfs/a/b/..", 0, tr.a));
	KT_EXPECT(t, lk_is("/ktest-vfs/a/b/../../a/f", 0, tr.f));
	KT_EXPECT(t, lk_is("/../ktest-vfs/../ktest-vfs/a", 0, tr.a));
	KT_EXPECT(t, lk_err("/ktest-vfs/missing", 0) == -ENOENT);
	KT_EXPECT(t, lk_err("/ktest-vfs/missing/x", 0) == -ENOENT);
	tree_destroy(&tr);
}

KTEST(vfs_lookup_trailing_slash, "vfs: trailing slashes need a directory")
{
	struct tree tr;

	KT_EXPECT(t, tree_build(&tr));
	KT_EXPECT(t, lk_is("/ktest-vfs/a/", 0, tr.a));
	KT_EXPECT(t, lk_is("/ktest-vfs/a//", 0, tr.a));
	KT_EXPECT(t, lk_err("/ktest-vfs/a/f/", 0) == -ENOTDIR);
	KT_EXPECT(t, lk_err("/ktest-vfs/a/f", LOOKUP_DIRECTORY) == -ENOTDIR);
	// A trailing slash follows a symlink even without LOOKUP_FOLLOW.
	KT_EXPECT(t, lk_is("/ktest-vfs/rel/", 0, tr.b));
	KT_EXPECT(t, lk_err("/ktest-vfs/flink/", LOOKUP_FOLLOW) == -ENOTDIR);
	tree_destroy(&tr);
}

KTEST(vfs_lookup_enotdir, "vfs: a file in the middle of a path is ENOTDIR")
{
	struct tree tr;

	KT_EXPECT(t, tree_build(&tr));
	KT_EXPECT(t, lk_err("/ktest-vfs/a/f/x", 0) == -ENOTDIR);
	KT_EXPECT(t, lk_err("/ktest-vfs/a/f/.", 0) == -ENOTDIR);
	KT_EXPECT(t, lk_err("/ktest-vfs/a/f/..", 0) == -ENOTDIR);
	KT_EXPECT(t, lk_err("/ktest-vfs/flink/x", LOOKUP_FOLLOW) == -ENOTDIR);
	tree_destroy(&tr);
}

KTEST(vfs_lookup_symlinks, "vfs: relative, absolute and final symlinks")
{
	struct tree tr;
	int err;
	struct dentry *d;

	KT_EXPECT(t, tree_build(&tr));
	KT_EXPECT(t, lk_is("/ktest-vfs/rel", LOOKUP_FOLLOW, tr.b));
	KT_EXPECT(t, lk_is("/ktest-vfs/abs/f", 0, tr.f));
	KT_EXPECT(t, lk_is("/ktest-vfs/abs/b/../f", 0, tr.f));
	// ".." after a symlink is the target's parent, not the link's directory.
	KT_EXPECT(t, lk_is("/ktest-vfs/rel/..", 0, tr.a));
	d = lk("/ktest-vfs/rel", 0, &err); // no follow: the link itself
	KT_EXPECT(t, d && S_ISLNK(d->d_inode->i_mode));
	if (d)
		dentry_put(d);
	KT_EXPECT(t, lk_err("/ktest-vfs/dangling", LOOKUP_FOLLOW) == -ENOENT);
	KT_EXPECT(t, lk_err("/ktest-vfs/dangling", 0) == 0);
	tree_destroy(&tr);
}

KTEST(vfs_lookup_eloop, "vfs: symlink loops end in ELOOP")
{
	struct tree tr;

	KT_EXPECT(t, tree_build(&tr));
	KT_EXPECT(t, lk_err("/ktest-vfs/loop", LOOKUP_FOLLOW) == -ELOOP);
	KT_EXPECT(t, lk_err("/ktest-vfs/loop/x", 0) == -ELOOP);
	KT_EXPECT(t, lk_err("/ktest-vfs/loop", 0) == 0); // not followed: fine
	tree_destroy(&tr);
}

KTEST(vfs_lookup_enametoolong, "vfs: long components and paths are ENAMETOOLONG")
{
	char *p = kmalloc(PATH_MAX + 16);

	KT_EXPECT(t, p != NULL);
	if (!p)
		return;
	p[0] = '/';
	memset(p + 1, 'x', NAME_MAX + 1);
	p[NAME_MAX + 2] = '\0';
	KT_EXPECT(t, lk_err(p, 0) == -ENAMETOOLONG);
	p[NAME_MAX + 1] = '\0'; // exactly NAME_MAX: just absent
	KT_EXPECT(t, lk_err(p, 0) == -ENOENT);
	for (int i = 0; i < PATH_MAX + 8; i += 2)
		memcpy(p + i, "/.", 2);
	p[PATH_MAX + 8] = '\0';
	KT_EXPECT(t, lk_err(p, 0) == -ENAMETOOLONG);
	kfree(p);
}

KTEST(vfs_lookup_mounts, "vfs: walking into and out of /dev crosses the devfs mount")
{
	int err;
	struct dentry *dev = lk("/dev", 0, &err);

	KT_EXPECT(t, dev != NULL);
	if (!dev)
		return;
	KT_EXPECT(t, dev->d_sb != vfs_root->d_sb);
	KT_EXPECT(t, dev == dev->d_sb->s_root);
	KT_EXPECT(t, lk_is("/dev/..", 0, vfs_root));
	KT_EXPECT(t, lk_is("/dev/../dev/.", 0, dev));
	KT_EXPECT(t, lk_err("/dev/null", 0) == 0);
	dentry_put(dev);
}

KTEST(vfs_lookup_parent, "vfs: parent lookup splits off the last component")
{
	struct path_parent pp;
	struct tree tr;

	KT_EXPECT(t, tree_build(&tr));
	KT_EXPECT(t, path_lookup_parent(AT_FDCWD, "/ktest-vfs/a/new", &pp) == 0);
	KT_EXPECT(t, pp.dir == tr.a && pp.type == LAST_NORM && strcmp(pp.last, "new") == 0);
	KT_EXPECT(t, !pp.trailing_slash);
	path_parent_release(&pp);
	KT_EXPECT(t, path_lookup_parent(AT_FDCWD, "/ktest-vfs/rel/new//", &pp) == 0);
	KT_EXPECT(t, pp.dir == tr.b && pp.trailing_slash && strcmp(pp.last, "new") == 0);
	path_parent_release(&pp);
	KT_EXPECT(t, path_lookup_parent(AT_FDCWD, "/", &pp) == 0);
	KT_EXPECT(t, pp.type == LAST_ROOT);
	path_parent_release(&pp);
	KT_EXPECT(t, path_lookup_parent(AT_FDCWD, "/ktest-vfs/..", &pp) == 0);
	KT_EXPECT(t, pp.type == LAST_DOTDOT && pp.dir == tr.top);
	path_parent_release(&pp);
	KT_EXPECT(t, path_lookup_parent(AT_FDCWD, "/ktest-vfs/a/f/x", &pp) == -ENOTDIR);
	tree_destroy(&tr);
}

KTEST(vfs_remove_rules, "vfs: unlink and rmdir check types and emptiness")
{
	struct tree tr;

	KT_EXPECT(t, tree_build(&tr));
	KT_EXPECT(t, vfs_remove(tr.top, "a", 1, true, false) == -ENOTEMPTY);
	KT_EXPECT(t, vfs_remove(tr.top, "a", 1, false, false) == -EISDIR);
	KT_EXPECT(t, vfs_remove(tr.a, "f", 1, true, false) == -ENOTDIR);
	KT_EXPECT(t, vfs_remove(tr.a, "zz", 2, false, false) == -ENOENT);
	KT_EXPECT(t, vfs_mknod(tr.a, "f", 1, S_IFREG | 0644, 0, NULL) == -EEXIST);
	KT_EXPECT(t, tr.a->d_inode->i_nlink == 3); // ".", the entry in top, and b's ".."
	KT_EXPECT(t, vfs_link(tr.f, tr.top, "hard", 4) == 0);
	KT_EXPECT(t, tr.f->d_inode->i_nlink == 2);
	KT_EXPECT(t, vfs_remove(tr.top, "hard", 4, false, false) == 0);
	KT_EXPECT(t, tr.f->d_inode->i_nlink == 1);
	tree_destroy(&tr);
	KT_EXPECT(t, lk_err("/ktest-vfs", 0) == -ENOENT);
}

KTEST(vfs_ramfs_data, "vfs: ramfs write, read back, holes and truncate")
{
	struct tree tr;
	struct file *f;
	struct iov_iter it;
	char buf[16];
	off_t pos = 5000;

	KT_EXPECT(t, tree_build(&tr));
	f = file_open("/ktest-vfs/a/f", O_RDWR, 0);
	KT_EXPECT(t, !IS_ERR(f));
	if (IS_ERR(f)) {
		tree_destroy(&tr);
		return;
	}
	iov_iter_kernel(&it, "hello", 5);
	KT_EXPECT(t, vfs_write(f, &it, &pos) == 5 && pos == 5005);
	KT_EXPECT(t, file_size(f) == 5005);
	KT_EXPECT(t, kernel_read(f, buf, 4, 4998) == 4 && memcmp(buf, "\0\0he", 4) == 0);
	KT_EXPECT(t, kernel_read(f, buf, 16, 5003) == 2 && memcmp(buf, "lo", 2) == 0);
	KT_EXPECT(t, kernel_read(f, buf, 16, 6000) == 0);
	KT_EXPECT(t, vfs_truncate(f->f_inode, 5002) == 0 && file_size(f) == 5002);
	KT_EXPECT(t, vfs_truncate(f->f_inode, 6000) == 0);
	KT_EXPECT(t, kernel_read(f, buf, 4, 5000) == 4 && memcmp(buf, "he\0\0", 4) == 0);
	file_put(f);
	tree_destroy(&tr);
}
