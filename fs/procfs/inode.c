// procfs: the superblock, its inodes and its three kinds of directory.
//
//	/proc                 fixed entries (meminfo, stat, self...) and one directory per task
//	/proc/<pid>           fixed entries (stat, status, cmdline, exe, fd...)
//	/proc/<pid>/fd        one symlink per open descriptor
//
// Nothing is stored: every directory is listed from the entry tables, the task list and
// the descriptor tables when it is read, and names are looked up the same way (the VFS
// then caches the dentries). Inode numbers are computed, so readdir's d_ino and stat's
// st_ino agree and stay the same for as long as the task lives:
//	/proc 1, its entry i: 2 + i, /proc/<pid>: pid << 16, its entry i: (pid << 16) | (1 + i),
//	/proc/<pid>/fd/<n>: (pid << 16) | (0x1000 + n)
//
// Staleness: the VFS caches looked-up dentries. Before it uses a cached one it asks
// proc_d_revalidate(), which says no once the task (or, for fd/<n>, the descriptor) is
// gone; the VFS then invalidates the dentry with everything below it and looks the name
// up again, which gives ENOENT. Everything that reads a task's data checks that the task
// exists as well, for files and directories opened before it went.
//
// Reclaiming: a stale dentry nobody looks up again would stay cached forever, so procfs
// also invalidates ("forgets") the dentries of gone tasks whenever /proc is opened (ps and
// top do, once per scan) or a pid is looked up afresh, and those of closed descriptors
// whenever a fd directory is opened or a descriptor looked up afresh.
//
// Lock: the VFS holds a directory's i_mutex around lookup. Children are collected under
// dcache_lock with a reference each and handled with no spinlock held; invalidation takes
// dcache_lock only, and the VFS links no new child into an invalidated directory
// (dentry_link_cached), so a lookup racing with forgetting leaves nothing behind.

#include <trapeze/err.h>
#include <trapeze/format.h>
#include <trapeze/kmalloc.h>
#include <trapeze/procfs.h>
#include <trapeze/string.h>
#include <trapeze/task.h>

#define PROC_ROOT_INO 1
#define PROC_PID_POS 0x10000 // readdir position of pid p in /proc: PROC_PID_POS + p
#define PROC_FD_INO 0x1000   // fd n of a task: (pid << 16) | (PROC_FD_INO + n)
#define PROC_BATCH 16        // dentries handled per pass under dcache_lock

// /proc's own files. Writes fail with -EIO, as Linux's do.
static const struct proc_entry proc_root_entries[] = {
	{ "cmdline", S_IFREG | 0444, proc_cmdline_show, NULL, true },
	{ "cpuinfo", S_IFREG | 0444, proc_cpuinfo_show, NULL, true },
	{ "filesystems", S_IFREG | 0444, proc_filesystems_show, NULL, true },
	{ "loadavg", S_IFREG | 0444, proc_loadavg_show, NULL, true },
	{ "meminfo", S_IFREG | 0444, proc_meminfo_show, NULL, true },
	{ "mounts", S_IFLNK | 0777, NULL, proc_mounts_link, false },
	{ "self", S_IFLNK | 0777, NULL, proc_self_link, false },
	{ "stat", S_IFREG | 0444, proc_stat_show, NULL, true },
	{ "uptime", S_IFREG | 0444, proc_uptime_show, NULL, true },
	{ "version", S_IFREG | 0444, proc_version_show, NULL, true },
};

// The files of /proc/<pid>. The directory entry "fd" has neither show nor link.
static const struct proc_entry proc_pid_entries[] = {
	{ "cmdline", S_IFREG | 0444, proc_pid_cmdline_show, NULL, false },
	{ "comm", S_IFREG | 0444, proc_pid_comm_show, NULL, false },
	{ "cwd", S_IFLNK | 0777, NULL, proc_pid_cwd_link, false },
	{ "environ", S_IFREG | 0400, proc_pid_environ_show, NULL, false },
	{ "exe", S_IFLNK | 0777, NULL, proc_pid_exe_link, false },
	{ "fd", S_IFDIR | 0500, NULL, NULL, false },
	{ "limits", S_IFREG | 0444, proc_pid_limits_show, NULL, false },
	{ "maps", S_IFREG | 0444, proc_pid_maps_show, NULL, false },
	{ "mounts", S_IFREG | 0444, proc_mounts_show, NULL, false },
	{ "root", S_IFLNK | 0777, NULL, proc_pid_root_link, false },
	{ "stat", S_IFREG | 0444, proc_pid_stat_show, NULL, false },
	{ "statm", S_IFREG | 0444, proc_pid_statm_show, NULL, false },
	{ "status", S_IFREG | 0444, proc_pid_status_show, NULL, false },
};

static const struct inode_operations proc_root_iops, proc_pid_iops, proc_fd_iops;
static const struct file_operations proc_root_fops, proc_pid_fops, proc_fd_fops;

// --- inodes --------------------------------------------------------------------------------

static void proc_evict(struct inode *inode)
{
	kfree(inode->i_private);
}

static const struct super_operations proc_sops = {
	.inode_evict = proc_evict,
};

static void proc_inode_set_ops(struct inode *inode, enum proc_kind kind)
{
	switch (kind) {
	case PROC_ROOT:
		inode->i_op = &proc_root_iops;
		inode->i_fop = &proc_root_fops;
		break;
	case PROC_PID_DIR:
		inode->i_op = &proc_pid_iops;
		inode->i_fop = &proc_pid_fops;
		break;
	case PROC_FD_DIR:
		inode->i_op = &proc_fd_iops;
		inode->i_fop = &proc_fd_fops;
		break;
	case PROC_ENTRY:
	case PROC_FD_LINK:
		if (S_ISLNK(inode->i_mode)) {
			inode->i_op = &proc_link_iops;
		} else {
			inode->i_op = &proc_file_iops;
			inode->i_fop = &proc_file_fops;
		}
		break;
	}
}

// A new inode (owned by root, like everything in a system where everyone is root).
// NULL when out of memory.
static struct inode *proc_inode_new(struct super_block *sb, mode_t mode, ino_t ino,
				    const struct proc_inode *info)
{
	struct proc_inode *pi = kmalloc(sizeof(*pi));
	struct inode *inode = pi ? inode_alloc(sb, mode) : NULL;

	if (!inode) {
		kfree(pi);
		return NULL;
	}
	*pi = *info;
	inode->i_ino = ino;
	inode->i_private = pi;
	if (S_ISDIR(mode))
		inode_nlink_set(inode, 2);
	if (pi->kind == PROC_FD_LINK)
		inode->i_size = 64; // what Linux reports for a descriptor's link
	proc_inode_set_ops(inode, pi->kind);
	return inode;
}

// Instantiate d with a new inode. Returns 0 or -ENOMEM.
static int proc_instantiate(struct dentry *d, mode_t mode, ino_t ino, const struct proc_inode *pi)
{
	struct inode *inode = proc_inode_new(d->d_sb, mode, ino, pi);

	if (!inode)
		return -ENOMEM;
	dentry_instantiate(d, inode);
	return 0;
}

// --- names ---------------------------------------------------------------------------------

// A decimal number without sign or leading zeros ("0" itself is fine), below limit; -1 if
// name is anything else.
static long proc_name_to_num(const char *name, size_t len, long limit)
{
	long n = 0;

	if (len == 0 || (len > 1 && name[0] == '0'))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		n = n * 10 + (name[i] - '0');
		if (n >= limit)
			return -1;
	}
	return n;
}

static const struct proc_entry *proc_entry_find(const struct proc_entry *table, size_t n,
						const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		if (strlen(table[i].name) == len && memcmp(table[i].name, name, len) == 0)
			return &table[i];
	}
	return NULL;
}

static unsigned int proc_dtype(mode_t mode)
{
	if (S_ISDIR(mode))
		return DT_DIR;
	return S_ISLNK(mode) ? DT_LNK : DT_REG;
}

// --- stale dentries: revalidating and forgetting ----------------------------------------

// Up to PROC_BATCH linked children of dir from readdir cookie *cookie on, each with a
// reference; *cookie moves past them. Returns how many.
static int proc_children_collect(struct dentry *dir, uint64_t *cookie, struct dentry **out)
{
	uint64_t flags = spin_lock_irqsave(&dcache_lock);
	struct dentry *c;
	int n = 0;

	list_for_each_entry(c, &dir->d_children, d_child) {
		if (c->d_cookie < *cookie)
			continue;
		c->d_count++;
		out[n++] = c;
		*cookie = c->d_cookie + 1;
		if (n == PROC_BATCH)
			break;
	}
	spin_unlock_irqrestore(&dcache_lock, flags);
	return n;
}

// A cached child of /proc whose task is gone.
static bool proc_pid_dir_stale(struct dentry *d)
{
	struct proc_inode *pi = proc_i(d->d_inode);

	return pi->kind == PROC_PID_DIR && !proc_task_exists(pi->pid);
}

// The permissions Linux gives a descriptor's link: r-x for reading, -wx for writing.
static mode_t proc_fd_mode(const struct file *f)
{
	mode_t mode = S_IFLNK;

	if (f->f_mode & FMODE_READ)
		mode |= S_IRUSR | S_IXUSR;
	if (f->f_mode & FMODE_WRITE)
		mode |= S_IWUSR | S_IXUSR;
	return mode;
}

// A cached fd/<n> whose descriptor is closed (or whose task is gone), or now names an
// open with another mode than the one the inode shows.
static bool proc_fd_link_stale(struct dentry *d)
{
	struct proc_inode *pi = proc_i(d->d_inode);
	struct file *f = proc_task_fd(pi->pid, pi->fd);
	bool stale = !f || proc_fd_mode(f) != d->d_inode->i_mode;

	if (f)
		file_put(f);
	return stale;
}

// The VFS's question before it uses a cached dentry (dentry_operations.d_revalidate):
// everything under /proc/<pid> lives as long as the task, fd/<n> as long as the
// descriptor; /proc's own entries always. Context: process context, any i_mutex or none.
static int proc_d_revalidate(struct dentry *d)
{
	struct proc_inode *pi = proc_i(d->d_inode);

	if (pi->kind == PROC_FD_LINK)
		return !proc_fd_link_stale(d);
	return pi->pid == 0 || proc_task_exists(pi->pid);
}

static const struct dentry_operations proc_dops = {
	.d_revalidate = proc_d_revalidate,
};

// Forget the children of dir for which stale() holds, to reclaim their memory. Context:
// process context, with no lock held or with dir's own i_mutex.
static void proc_prune(struct dentry *dir, bool (*stale)(struct dentry *d))
{
	struct dentry *batch[PROC_BATCH];
	uint64_t cookie = 0;
	int n;

	do {
		n = proc_children_collect(dir, &cookie, batch);
		for (int i = 0; i < n; i++) {
			if (stale(batch[i]))
				dentry_invalidate(batch[i]);
			dentry_put(batch[i]);
		}
	} while (n == PROC_BATCH);
}

// --- readdir helpers -------------------------------------------------------------------------

// Emit table entries from position 2 on; entry i is at 2 + i. ino_base + 1 + i is the
// inode number of entry i (root entries start at 2 = PROC_ROOT_INO + 1).
static bool proc_emit_table(struct dir_context *ctx, const struct proc_entry *table, size_t n,
			    ino_t ino_base, off_t end_pos)
{
	for (size_t i = ctx->pos - 2; i < n; i++) {
		off_t next = i + 1 < n ? (off_t)(i + 3) : end_pos;

		if (!ctx->emit(ctx, table[i].name, strlen(table[i].name), ino_base + 1 + i,
			       proc_dtype(table[i].mode), next))
			return false;
		ctx->pos = next;
	}
	return true;
}

// Every pid, ascending, in a new array (kfree it). Returns the count or -ENOMEM.
static int proc_pids_snapshot(pid_t **out)
{
	for (;;) {
		int cap = task_count() + 16, n = 0;
		pid_t *pids = kmalloc(cap * sizeof(*pids));
		bool full = false;
		struct task *t;
		uint64_t flags;

		if (!pids)
			return -ENOMEM;
		flags = spin_lock_irqsave(&tasklist_lock);
		list_for_each_entry(t, &task_list, all_link) {
			// Processes only: a thread's directory is found by its tid but not listed.
			if (t->state == TASK_DEAD || t != t->group_leader)
				continue;
			if (n == cap) {
				full = true;
				break;
			}
			pids[n++] = t->pid;
		}
		spin_unlock_irqrestore(&tasklist_lock, flags);
		if (!full) {
			// Insertion sort: the list is in creation order, ascending until pids wrap.
			for (int i = 1; i < n; i++) {
				pid_t p = pids[i];
				int j = i;

				for (; j > 0 && pids[j - 1] > p; j--)
					pids[j] = pids[j - 1];
				pids[j] = p;
			}
			*out = pids;
			return n;
		}
		kfree(pids); // tasks were created meanwhile: count again
	}
}

// --- /proc -----------------------------------------------------------------------------------

// Context: process context, dir->i_mutex held by the VFS.
static int proc_root_lookup(struct inode *dir, struct dentry *d)
{
	const struct proc_entry *e;
	struct proc_inode pi = { .kind = PROC_ENTRY, .fd = -1 };
	long pid;

	e = proc_entry_find(proc_root_entries, ARRAY_SIZE(proc_root_entries), d->d_name,
			    d->d_namelen);
	if (e) {
		pi.entry = e;
		return proc_instantiate(d, e->mode, PROC_ROOT_INO + 1 + (e - proc_root_entries),
					&pi);
	}
	pid = proc_name_to_num(d->d_name, d->d_namelen, 1L << 31);
	proc_prune(d->d_parent, proc_pid_dir_stale);
	if (pid <= 0 || !proc_task_exists((pid_t)pid))
		return -ENOENT;
	pi.kind = PROC_PID_DIR;
	pi.pid = (pid_t)pid;
	return proc_instantiate(d, S_IFDIR | 0555, (ino_t)pid << 16, &pi);
}

// Opening /proc (ps and top do, once per scan) forgets the tasks that have gone.
static int proc_root_open(struct inode *inode, struct file *f)
{
	proc_prune(f->f_dentry, proc_pid_dir_stale);
	return 0;
}

static int proc_root_readdir(struct file *f, struct dir_context *ctx)
{
	size_t nr = ARRAY_SIZE(proc_root_entries);
	char name[16];
	pid_t *pids;
	int n;

	if (!dir_emit_dots(f, ctx))
		return 0;
	if (ctx->pos < PROC_PID_POS &&
	    !proc_emit_table(ctx, proc_root_entries, nr, PROC_ROOT_INO, PROC_PID_POS))
		return 0;
	ctx->pos = MAX(ctx->pos, (off_t)PROC_PID_POS);
	n = proc_pids_snapshot(&pids);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		off_t pos = PROC_PID_POS + (off_t)pids[i];
		int len;

		if (pos < ctx->pos)
			continue;
		len = snprintf(name, sizeof(name), "%d", (int)pids[i]);
		if (!ctx->emit(ctx, name, len, (ino_t)pids[i] << 16, DT_DIR, pos + 1))
			break;
		ctx->pos = pos + 1;
	}
	kfree(pids);
	return 0;
}

// Nothing can be created in procfs: the names a lookup does not know do not exist.
static int proc_no_create(struct inode *dir, struct dentry *d, mode_t mode)
{
	return -ENOENT;
}

static int proc_no_mknod(struct inode *dir, struct dentry *d, mode_t mode, dev_t rdev)
{
	return -ENOENT;
}

static int proc_no_symlink(struct inode *dir, struct dentry *d, const char *target)
{
	return -ENOENT;
}

static const struct inode_operations proc_root_iops = {
	.lookup = proc_root_lookup,
	.create = proc_no_create,
	.mkdir = proc_no_create,
	.mknod = proc_no_mknod,
	.symlink = proc_no_symlink,
};

static const struct file_operations proc_root_fops = {
	.open = proc_root_open,
	.readdir = proc_root_readdir,
	.lseek = generic_nosize_lseek,
};

// --- /proc/<pid> -----------------------------------------------------------------------------

// Context: process context, dir->i_mutex held by the VFS.
static int proc_pid_lookup(struct inode *dir, struct dentry *d)
{
	struct proc_inode *parent = proc_i(dir);
	struct proc_inode pi = { .kind = PROC_ENTRY, .pid = parent->pid, .fd = -1 };
	const struct proc_entry *e;

	// Reached through a descriptor or cwd of the directory of a task that has gone:
	// Linux says ESRCH here (a walk from /proc finds no /proc/<pid> at all: ENOENT).
	if (!proc_task_exists(parent->pid))
		return -ESRCH;
	e = proc_entry_find(proc_pid_entries, ARRAY_SIZE(proc_pid_entries), d->d_name,
			    d->d_namelen);
	if (!e)
		return -ENOENT;
	pi.entry = e;
	if (S_ISDIR(e->mode))
		pi.kind = PROC_FD_DIR;
	return proc_instantiate(d, e->mode, dir->i_ino | (1 + (e - proc_pid_entries)), &pi);
}

// A directory of a task that is gone cannot be opened.
static int proc_task_dir_open(struct inode *inode, struct file *f)
{
	return proc_task_exists(proc_i(inode)->pid) ? 0 : -ENOENT;
}

static int proc_pid_readdir(struct file *f, struct dir_context *ctx)
{
	size_t nr = ARRAY_SIZE(proc_pid_entries);

	if (!proc_task_exists(proc_i(f->f_inode)->pid))
		return -ENOENT;
	if (dir_emit_dots(f, ctx))
		proc_emit_table(ctx, proc_pid_entries, nr, f->f_inode->i_ino, (off_t)nr + 2);
	return 0;
}

static const struct inode_operations proc_pid_iops = {
	.lookup = proc_pid_lookup,
	.create = proc_no_create,
	.mkdir = proc_no_create,
	.mknod = proc_no_mknod,
	.symlink = proc_no_symlink,
};

static const struct file_operations proc_pid_fops = {
	.open = proc_task_dir_open,
	.readdir = proc_pid_readdir,
	.lseek = generic_nosize_lseek,
};

// --- /proc/<pid>/fd --------------------------------------------------------------------------

// Context: process context, dir->i_mutex held by the VFS.
static int proc_fd_lookup(struct inode *dir, struct dentry *d)
{
	struct proc_inode *parent = proc_i(dir);
	struct proc_inode pi = { .kind = PROC_FD_LINK, .pid = parent->pid };
	long fd = proc_name_to_num(d->d_name, d->d_namelen, FILES_MAX);
	struct file *f;
	mode_t mode;

	proc_prune(d->d_parent, proc_fd_link_stale);
	f = fd >= 0 ? proc_task_fd(parent->pid, (int)fd) : NULL;
	if (!f)
		return -ENOENT;
	mode = proc_fd_mode(f);
	file_put(f);
	pi.fd = (int)fd;
	return proc_instantiate(d, mode, ((ino_t)pi.pid << 16) | (PROC_FD_INO + fd), &pi);
}

static int proc_fd_open(struct inode *inode, struct file *f)
{
	if (!proc_task_exists(proc_i(inode)->pid))
		return -ENOENT;
	proc_prune(f->f_dentry, proc_fd_link_stale);
	return 0;
}

// Which descriptors of task pid are open, as a bitmap. False if it has no table.
static bool proc_fd_bitmap(pid_t pid, uint64_t *open)
{
	struct files *files = proc_task_files(pid);

	if (!files)
		return false;
	memset(open, 0, FILES_MAX / 8);
	spin_lock(&files->lock);
	for (int fd = 0; fd < FILES_MAX; fd++) {
		if (files->fd[fd])
			open[fd / 64] |= 1ULL << (fd % 64);
	}
	spin_unlock(&files->lock);
	files_put(files);
	return true;
}

static int proc_fd_readdir(struct file *f, struct dir_context *ctx)
{
	pid_t pid = proc_i(f->f_inode)->pid;
	uint64_t open[FILES_MAX / 64];
	char name[16];

	if (!proc_task_exists(pid))
		return -ENOENT;
	if (!dir_emit_dots(f, ctx) || !proc_fd_bitmap(pid, open))
		return 0;
	// The position comes from lseek: any off_t. Start from it without narrowing it first.
	for (off_t fd = MAX(ctx->pos - 2, (off_t)0); fd < FILES_MAX; fd++) {
		int len;

		if (!(open[fd / 64] & (1ULL << (fd % 64))))
			continue;
		len = snprintf(name, sizeof(name), "%d", (int)fd);
		if (!ctx->emit(ctx, name, len, ((ino_t)pid << 16) | (PROC_FD_INO + fd), DT_LNK,
			       fd + 3))
			break;
		ctx->pos = fd + 3;
	}
	return 0;
}

static const struct inode_operations proc_fd_iops = {
	.lookup = proc_fd_lookup,
	.create = proc_no_create,
	.mkdir = proc_no_create,
	.mknod = proc_no_mknod,
	.symlink = proc_no_symlink,
};

static const struct file_operations proc_fd_fops = {
	.open = proc_fd_open,
	.readdir = proc_fd_readdir,
	.lseek = generic_nosize_lseek,
};

// --- the file system ---------------------------------------------------------------------------

// A new procfs instance: its root directory /proc. Every instance shows the same tasks.
static struct super_block *proc_mount(const struct fs_type *type, const void *data)
{
	struct super_block *sb = super_alloc(type, &proc_sops);
	struct proc_inode pi = { .kind = PROC_ROOT, .fd = -1 };
	struct inode *root;

	if (!sb)
		return ERR_PTR(-ENOMEM);
	sb->s_d_op = &proc_dops;
	root = proc_inode_new(sb, S_IFDIR | 0555, PROC_ROOT_INO, &pi);
	sb->s_root = root ? dentry_alloc(NULL, sb, "/", 1) : NULL;
	if (!sb->s_root) {
		if (root)
			inode_put(root);
		kfree(sb);
		return ERR_PTR(-ENOMEM);
	}
	dentry_instantiate(sb->s_root, root);
	return sb;
}

const struct fs_type procfs_type = {
	.name = "proc",
	.magic = 0x9fa0, // PROC_SUPER_MAGIC
	.mount = proc_mount,
};
