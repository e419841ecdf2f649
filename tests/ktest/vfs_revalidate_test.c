// Unit tests for the VFS's answers to things changing behind its back: write access
// against execution (i_writecount, ETXTBSY; mm->exe_file), invalidating a cached subtree,
// and procfs dentries revalidated on lookup once their task has gone. The user-space side
// is tests/user/vfs_txtbsy.c.
#include <trapeze/err.h>
#include <trapeze/format.h>
#include <trapeze/fs.h>
#include <trapeze/ktest.h>
#include <trapeze/sched.h>
#include <trapeze/string.h>
#include <trapeze/task.h>
#include <trapeze/vm.h>

#define MS 1000000ULL

static struct dentry *kt_mknod(struct dentry *dir, const char *name, mode_t mode)
{
	struct dentry *d = NULL;

	if (vfs_mknod(dir, name, strlen(name), mode, 0, &d))
		return NULL;
	return d;
}

// Open path with flags and close it again: 0, or the error the open gave.
static long kt_open_err(const char *path, int flags)
{
	struct file *f = file_open(path, flags, 0);

	if (IS_ERR(f))
		return PTR_ERR(f);
	file_put(f);
	return 0;
}

KTEST(vfs_writecount_rules, "vfs: writers and executions exclude each other (ETXTBSY)")
{
	struct dentry *d = kt_mknod(vfs_root, "ktest-txtbsy", S_IFREG | 0755);
	struct inode *inode = d ? d->d_inode : NULL;

	KT_EXPECT(t, d != NULL);
	if (!d)
		return;
	KT_EXPECT(t, inode_writer_get(inode) == 0 && inode_writer_get(inode) == 0);
	KT_EXPECT(t, inode_write_deny(inode) == -ETXTBSY);
	inode_writer_put(inode);
	KT_EXPECT(t, inode_write_deny(inode) == -ETXTBSY);
	inode_writer_put(inode);
	KT_EXPECT(t, inode_write_deny(inode) == 0 && inode_write_deny(inode) == 0);
	KT_EXPECT(t, inode_writer_get(inode) == -ETXTBSY);
	inode_write_allow(inode);
	KT_EXPECT(t, inode_writer_get(inode) == -ETXTBSY);
	inode_write_allow(inode);
	KT_EXPECT(t, inode->i_writecount == 0);
	dentry_put(d);
	vfs_remove(vfs_root, "ktest-txtbsy", 12, false, false);
}

KTEST(vfs_exe_file_denies_write, "vfs: an mm's exe_file keeps its file from being written")
{
	struct dentry *d = kt_mknod(vfs_root, "ktest-exe", S_IFREG | 0755);
	struct file *f = d ? file_open("/ktest-exe", O_RDONLY, 0) : ERR_PTR(-ENOENT);
	struct file *w;
	struct mm *mm = mm_alloc(), *copy;

	KT_EXPECT(t, !IS_ERR(f) && mm);
	if (IS_ERR(f) || !mm)
		goto out;
	KT_EXPECT(t, mm_exe_file_set(mm, f) == 0 && mm->exe_file == f);
	KT_EXPECT(t, kt_open_err("/ktest-exe", O_WRONLY) == -ETXTBSY);
	KT_EXPECT(t, vfs_truncate(f->f_inode, 0) == -ETXTBSY);
	KT_EXPECT(t, kt_open_err("/ktest-exe", O_RDONLY | O_TRUNC) == -ETXTBSY);
	KT_EXPECT(t, kt_open_err("/ktest-exe", O_RDONLY) == 0);
	copy = mm_dup(mm);
	KT_EXPECT(t, copy && copy->exe_file == f);
	mm_put(mm);
	mm = NULL;
	KT_EXPECT(t, kt_open_err("/ktest-exe", O_RDWR) == -ETXTBSY);
	if (copy)
		mm_put(copy);
	w = file_open("/ktest-exe", O_WRONLY, 0);
	KT_EXPECT(t, !IS_ERR(w));
	if (!IS_ERR(w)) {
		KT_EXPECT(t, f->f_inode->i_writecount == 1);
		mm = mm_alloc();
		KT_EXPECT(t, mm && mm_exe_file_set(mm, f) == -ETXTBSY && !mm->exe_file);
		file_put(w);
	}
	KT_EXPECT(t, f->f_inode->i_writecount == 0);
out:
	if (mm)
		mm_put(mm);
	if (!IS_ERR(f))
		file_put(f);
	if (d) {
		dentry_put(d);
		vfs_remove(vfs_root, "ktest-exe", 9, false, false);
	}
}

KTEST(vfs_invalidate_subtree, "vfs: invalidating a dentry unlinks its subtree for good")
{
	struct dentry *top = kt_mknod(vfs_root, "ktest-inval", S_IFDIR | 0755);
	struct dentry *a = top ? kt_mknod(top, "a", S_IFDIR | 0755) : NULL;
	struct dentry *b = a ? kt_mknod(a, "b", S_IFDIR | 0755) : NULL;
	struct dentry *f = b ? kt_mknod(b, "f", S_IFREG | 0644) : NULL, *x, *found;

	KT_EXPECT(t, f != NULL);
	if (!f)
		goto out;
	dentry_put(f); // only the tree keeps f now: invalidation frees it
	f = NULL;
	dentry_invalidate(a);
	KT_EXPECT(t, !(a->d_flags & DENTRY_LINKED) && !(b->d_flags & DENTRY_LINKED));
	KT_EXPECT(t, !dentry_has_children(a) && !dentry_has_children(b));
	KT_EXPECT(t, !dentry_has_children(top));
	KT_EXPECT(t, path_lookupat(AT_FDCWD, "/ktest-inval/a", 0, &found) == -ENOENT);
	// A lookup finishing in the invalidated directory caches nothing there.
	x = dentry_alloc(b, b->d_sb, "x", 1);
	KT_EXPECT(t, x != NULL);
	if (x) {
		dentry_link_cached(x);
		KT_EXPECT(t, !(x->d_flags & DENTRY_LINKED) && !dentry_has_children(b));
		dentry_put(x);
	}
out:
	if (b)
		dentry_put(b);
	if (a)
		dentry_put(a);
	if (top) {
		dentry_put(top);
		vfs_remove(vfs_root, "ktest-inval", 11, true, false);
	}
}

static void kt_nap(void *arg)
{
	sleep_ns(20 * MS, NULL);
}

KTEST(procfs_revalidate_gone_task, "procfs: cached /proc/<pid> is ENOENT once the task has gone")
{
	struct task *th = kthread_create("revalidate-nap", kt_nap, NULL);
	char dir[32], stat[48];
	struct dentry *d = NULL, *held = NULL;

	KT_EXPECT(t, th != NULL);
	if (!th)
		return;
	snprintf(dir, sizeof(dir), "/proc/%d", th->pid);
	snprintf(stat, sizeof(stat), "/proc/%d/stat", th->pid);
	KT_EXPECT(t, path_lookupat(AT_FDCWD, stat, 0, &d) == 0);
	if (d)
		dentry_put(d);
	KT_EXPECT(t, path_lookupat(AT_FDCWD, dir, 0, &held) == 0);
	kthread_join(th);
	// No /proc open in between: the lookup itself must notice (d_revalidate).
	KT_EXPECT(t, path_lookupat(AT_FDCWD, dir, 0, &d) == -ENOENT);
	KT_EXPECT(t, path_lookupat(AT_FDCWD, stat, 0, &d) == -ENOENT);
	if (held) {
		KT_EXPECT(t, !(held->d_flags & DENTRY_LINKED) && !dentry_has_children(held));
		dentry_put(held);
	}
	KT_EXPECT(t, path_lookupat(AT_FDCWD, "/proc/self", 0, &d) == 0);
	if (d)
		dentry_put(d);
}
