// The files of /proc about the whole machine: meminfo, uptime, loadavg, stat, version,
// cmdline, filesystems, mounts, and the links self and mounts.
//
// What Trapeze does not measure yet is printed as a documented constant rather than
// guessed (docs/procfs.md): load averages are 0.00 (nothing computes them). CPU time comes
// from the timer handler, which charges every tick to user mode, kernel mode or the idle
// task (struct cpu's user_ticks, system_ticks, idle_ticks; HZ equals USER_HZ, 100).
//
// Lock: tasklist_lock for counting tasks, dcache_lock while walking the dentry tree (file
// pages, mounts). Context: process context.

#include <trapeze/boot.h>
#include <trapeze/err.h>
#include <trapeze/format.h>
#include <trapeze/kmalloc.h>
#include <trapeze/mm.h>
#include <trapeze/procfs.h>
#include <trapeze/string.h>
#include <trapeze/task.h>
#include <asm/apic.h>
#include <asm/irq.h>
#include <asm/cpu.h>

#define NS_PER_SEC 1000000000ULL
#define PROC_MOUNTS_MAX 32 // mounts /proc/mounts lists

// --- walking the dentry tree ---------------------------------------------------------------------

// The dentry after d in a depth-first walk of everything reachable from the root, crossing
// into mounted file systems (a covered directory's own children are hidden, as for lookup).
// The children of file systems whose dentries are only a cache (procfs) are not entered:
// they list nothing that is not elsewhere. dcache_lock held.
static struct dentry *proc_tree_next_locked(struct dentry *d)
{
	if (d->d_mounted)
		return d->d_mounted->s_root;
	if ((d->d_sb->s_flags & SB_DCACHE_STORE) && !list_empty(&d->d_children))
		return list_first_entry(&d->d_children, struct dentry, d_child);
	for (;;) {
		if (d == vfs_root)
			return NULL;
		if (d == d->d_sb->s_root) {
			// Leaving a mounted file system: carry on after its mount point.
			d = d->d_sb->s_mountpoint;
			if (!d)
				return NULL;
			continue;
		}
		if (d->d_child.next != &d->d_parent->d_children)
			return list_entry(d->d_child.next, struct dentry, d_child);
		d = d->d_parent;
	}
}

// Call fn on every dentry of the walk, under dcache_lock (fn must not sleep or lock).
static void proc_tree_walk(void (*fn)(struct dentry *d, void *arg), void *arg)
{
	uint64_t flags = spin_lock_irqsave(&dcache_lock);

	for (struct dentry *d = vfs_root; d; d = proc_tree_next_locked(d))
		fn(d, arg);
	spin_unlock_irqrestore(&dcache_lock, flags);
}

// Pages of file data in the memory file systems: what Linux shows as Cached for ramfs.
// A file with several names is counted once per name; a file unlinked while still open
// is not counted.
static void proc_count_file_pages(struct dentry *d, void *arg)
{
	struct inode *inode = d->d_inode;

	if (inode && S_ISREG(inode->i_mode))
		*(unsigned long *)arg += READ_ONCE(inode->i_nr_pages);
}

// --- meminfo, uptime, loadavg, stat --------------------------------------------------------------

static void proc_meminfo_line(struct proc_buf *pb, const char *name, unsigned long pages)
{
	proc_printf(pb, "%-16s%8lu kB\n", name, pages << (PAGE_SHIFT - 10));
}

// There is no swap, no buffer cache, no dirty data (everything lives in memory), no
// shrinkable kernel cache and no huge page pool: those lines are 0 because the things are
// absent, not because they are not measured. Nothing is reclaimable (ramfs pages cannot be
// dropped), so MemAvailable is MemFree. busybox free needs Cached, MemAvailable and
// SReclaimable all present.
int proc_meminfo_show(struct proc_buf *pb, pid_t pid)
{
	unsigned long cached = 0, free = mm_free_pages();

	proc_tree_walk(proc_count_file_pages, &cached);
	proc_meminfo_line(pb, "MemTotal:", mm_total_pages());
	proc_meminfo_line(pb, "MemFree:", free);
	proc_meminfo_line(pb, "MemAvailable:", free);
	proc_meminfo_line(pb, "Buffers:", 0);
	proc_meminfo_line(pb, "Cached:", cached);
	proc_meminfo_line(pb, "SwapCached:", 0);
	proc_meminfo_line(pb, "SwapTotal:", 0);
	proc_meminfo_line(pb, "SwapFree:", 0);
	proc_meminfo_line(pb, "Dirty:", 0);
	proc_meminfo_line(pb, "Writeback:", 0);
	proc_meminfo_line(pb, "KReclaimable:", 0);
	proc_meminfo_line(pb, "SReclaimable:", 0);
	proc_meminfo_line(pb, "KernelStack:",
			  (unsigned long)task_count() * (KSTACK_SIZE / PAGE_SIZE));
	proc_printf(pb, "%-16s%8lu\n%-16s%8lu\n", "HugePages_Total:", 0UL, "HugePages_Free:", 0UL);
	proc_printf(pb, "%-16s%8lu\n%-16s%8lu\n", "HugePages_Rsvd:", 0UL, "HugePages_Surp:", 0UL);
	proc_printf(pb, "%-16s%8lu kB\n", "Hugepagesize:", 2048UL);
	return 0;
}

// Clock ticks (USER_HZ) since boot.
static unsigned long proc_uptime_ticks(void)
{
	return (unsigned long)(time_ns() / PROC_NS_PER_TICK);
}

// Seconds since boot, and the time the CPU spent idle.
int proc_uptime_show(struct proc_buf *pb, pid_t pid)
{
	unsigned long t = proc_uptime_ticks();
	unsigned long idle = (unsigned long)READ_ONCE(this_cpu()->idle_ticks);

	proc_printf(pb, "%lu.%02lu %lu.%02lu\n", t / PROC_USER_HZ, t % PROC_USER_HZ,
		    idle / PROC_USER_HZ, idle % PROC_USER_HZ);
	return 0;
}

struct proc_task_counts {
	int total, running, blocked;
	pid_t newest; // the pid of the most recently created task
};

static void proc_task_counts(struct proc_task_counts *c)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	struct task *t;

	memset(c, 0, sizeof(*c));
	list_for_each_entry(t, &task_list, all_link) {
		int state = READ_ONCE(t->state);

		if (state == TASK_DEAD)
			continue;
		c->total++;
		c->running += state == TASK_RUNNING;
		c->blocked += state == TASK_UNINTERRUPTIBLE;
		c->newest = t->pid; // task_list is in creation order
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
}

// Load averages are not computed by the kernel: 0.00 (sysinfo reports 0 too). The rest is
// real: runnable/total tasks and the newest pid.
int proc_loadavg_show(struct proc_buf *pb, pid_t pid)
{
	struct proc_task_counts c;

	proc_task_counts(&c);
	proc_printf(pb, "0.00 0.00 0.00 %d/%d %d\n", c.running, c.total, (int)c.newest);
	return 0;
}

// The cpu lines: user nice system idle iowait irq softirq steal guest guest_nice. Pids are
// handed out in sequence from 1, so the newest pid is the number of tasks created since
// boot (until pids wrap at 32768): that is "processes".
int proc_stat_show(struct proc_buf *pb, pid_t pid)
{
	struct cpu *cpu = this_cpu();
	unsigned long user = READ_ONCE(cpu->user_ticks), sys = READ_ONCE(cpu->system_ticks);
	unsigned long idle = READ_ONCE(cpu->idle_ticks);
	uint64_t btime = (time_realtime_ns() - time_ns()) / NS_PER_SEC;
	struct proc_task_counts c;

	proc_task_counts(&c);
	// One CPU: the total line and cpu0 are the same.
	proc_printf(pb, "cpu  %lu 0 %lu %lu 0 0 0 0 0 0\n", user, sys, idle);
	proc_printf(pb, "cpu0 %lu 0 %lu %lu 0 0 0 0 0 0\n", user, sys, idle);
	proc_printf(pb, "btime %lu\nprocesses %d\nprocs_running %d\nprocs_blocked %d\n",
		    (unsigned long)btime, (int)c.newest, c.running, c.blocked);
	return 0;
}

// --- version, cmdline, filesystems ---------------------------------------------------------------

// Linux's "sysname version release (user@host) (compiler) version". The names must match
// what uname(2) reports (kernel/sys_info.c).
int proc_version_show(struct proc_buf *pb, pid_t pid)
{
#ifndef __VERSION__ // sparse does not define it
#define __VERSION__ "unknown"
#endif
	proc_printf(pb, "Trapeze version 6.1.0-trapeze (trapeze@trapeze) (gcc version %s) #1 %s\n",
		    __VERSION__, __DATE__);
	return 0;
}

int proc_cmdline_show(struct proc_buf *pb, pid_t pid)
{
	proc_printf(pb, "%s\n", boot_info.cmdline);
	return 0;
}

// The file system types the kernel has. There is no registry of types yet: this list
// follows fs/ (ramfs, devfs, procfs, pipes) and must grow with it.
int proc_filesystems_show(struct proc_buf *pb, pid_t pid)
{
	static const char *const types[] = { "ramfs", "devtmpfs", "proc", "pipefs" };

	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		proc_printf(pb, "nodev\t%s\n", types[i]);
	return 0;
}

// --- mounts --------------------------------------------------------------------------------------

struct proc_mount {
	const char *type;
	struct dentry *mountpoint; // a reference; NULL for the root
};

struct proc_mounts {
	struct proc_mount m[PROC_MOUNTS_MAX];
	int n;
};

// Every file system root met on the walk is a mount (the walk only enters them through
// their mount points). dcache_lock held, so the count is taken directly.
static void proc_note_mount(struct dentry *d, void *arg)
{
	struct proc_mounts *pm = arg;
	struct super_block *sb = d->d_sb;

	if (d != sb->s_root || pm->n == PROC_MOUNTS_MAX)
		return;
	pm->m[pm->n].type = sb->s_type->name;
	pm->m[pm->n].mountpoint = sb->s_mountpoint;
	if (sb->s_mountpoint)
		sb->s_mountpoint->d_count++;
	pm->n++;
}

// A mount point path as mounts shows it: space, tab, newline and backslash in octal.
static void proc_put_escaped(struct proc_buf *pb, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\\')
			proc_printf(pb, "\\%03o", (unsigned int)(unsigned char)c);
		else
			proc_putmem(pb, &c, 1);
	}
}

// "source mountpoint type options 0 0" for each mount. Memory file systems have no source
// device: like Linux's, they show their type name there.
int proc_mounts_show(struct proc_buf *pb, pid_t pid)
{
	struct proc_mounts *pm = kzalloc(sizeof(*pm));
	char *path = kmalloc(PATH_MAX);
	int err = 0;

	if (!pm || !path) {
		err = -ENOMEM;
		goto out;
	}
	proc_tree_walk(proc_note_mount, pm);
	for (int i = 0; i < pm->n; i++) {
		long len = pm->m[i].mountpoint ?
				   proc_dentry_path(pm->m[i].mountpoint, path, PATH_MAX) : 1;

		if (!pm->m[i].mountpoint)
			path[0] = '/';
		if (len < 0)
			continue;
		proc_printf(pb, "%s ", pm->m[i].type);
		proc_put_escaped(pb, path, (size_t)len);
		proc_printf(pb, " %s rw 0 0\n", pm->m[i].type);
	}
	for (int i = 0; i < pm->n; i++)
		if (pm->m[i].mountpoint)
			dentry_put(pm->m[i].mountpoint);
out:
	kfree(path);
	kfree(pm);
	return err;
}

// --- links ---------------------------------------------------------------------------------------

// /proc/self: the reader's own process id.
long proc_self_link(pid_t pid, char *buf, size_t size)
{
	char num[16];
	int n = snprintf(num, sizeof(num), "%d", (int)current->tgid);

	memcpy(buf, num, MIN((size_t)n, size));
	return n;
}

// /proc/mounts is the reader's own mounts file, as on Linux.
long proc_mounts_link(pid_t pid, char *buf, size_t size)
{
	static const char target[] = "self/mounts";

	memcpy(buf, target, MIN(sizeof(target) - 1, size));
	return sizeof(target) - 1;
}
