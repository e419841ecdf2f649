// The files of /proc/<pid>: stat, statm, status, limits, cmdline, environ, comm, maps, and
// the links exe, cwd, root and fd/<n>. Formats are Linux's (proc(5)), field for field, so that
// programs parsing them (busybox ps and top, procps) work unchanged.
//
// Every generator snapshots the task once (proc_task_get) and its address space once
// (proc_mm_collect, under the mm lock) and prints from the copies. Fields Trapeze does not
// keep are printed as Linux prints them for a task that has none of that thing (no page
// faults counted: 0; no controlling terminal: tty 0, tpgid -1); docs/procfs.md lists them.
// Context: process context; generators sleep (the mm lock).

#include <trapeze/err.h>
#include <trapeze/kmalloc.h>
#include <trapeze/page_alloc.h>
#include <trapeze/procfs.h>
#include <trapeze/rlimit.h>
#include <trapeze/string.h>
#include <trapeze/task.h>
#include <trapeze/vm.h>

#define PF_KTHREAD 0x00200000 // Linux's task flag for kernel threads (stat field 9)
#define CAP_FULL_SET 0x000001ffffffffffULL // every capability of Linux 6.1: root has all
#define KB(pages) ((pages) << (PAGE_SHIFT - 10))

// The task and, when it has one, its address space; both released by proc_snap_put.
struct proc_snap {
	struct proc_task t;
	struct proc_mm m; // zero without an mm
};

static int proc_snap_get(pid_t pid, struct proc_snap *s, bool rss)
{
	int err = proc_task_get(pid, &s->t);

	memset(&s->m, 0, sizeof(s->m));
	if (!err && s->t.mm)
		proc_mm_collect(s->t.mm, &s->m, rss);
	return err;
}

static void proc_snap_put(struct proc_snap *s)
{
	proc_task_release(&s->t);
}

static const char *proc_state_name(int state)
{
	switch (proc_state_char(state)) {
	case 'R':
		return "R (running)";
	case 'S':
		return "S (sleeping)";
	case 'D':
		return "D (disk sleep)";
	case 'T':
		return "T (stopped)";
	case 'Z':
		return "Z (zombie)";
	default:
		return "X (dead)";
	}
}

// --- stat, statm ------------------------------------------------------------------------------

// The accounting stat shows that proc_task does not carry: the task's faults, its reaped
// children's totals (kernel/rlimit.c) and its RSS limit.
struct proc_usage {
	struct task_usage self, children;
	uint64_t rsslim;
};

static int proc_usage_get(pid_t pid, struct proc_usage *u)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	struct task *t = task_find(pid);

	if (t) {
		rusage_collect_locked(t, RUSAGE_SELF, &u->self);
		rusage_collect_locked(t, RUSAGE_CHILDREN, &u->children);
		u->rsslim = READ_ONCE(t->rlim[RLIMIT_RSS].rlim_cur);
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return t ? 0 : -ENOENT;
}

// /proc/<pid>/stat: 52 fields on one line. The comm is printed raw between parentheses;
// readers find its end with the last ')' (proc(5)).
int proc_pid_stat_show(struct proc_buf *pb, pid_t pid)
{
	struct proc_snap s;
	struct proc_task *t = &s.t;
	struct proc_mm *m = &s.m;
	struct proc_usage u;
	int err = proc_snap_get(pid, &s, false);

	if (!err)
		err = proc_usage_get(pid, &u);
	if (err) {
		proc_snap_put(&s);
		return err;
	}
	// pid comm state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
	proc_printf(pb, "%d (%s) %c %d %d %d 0 -1 %u %lu %lu 0 0 ", t->pid, t->comm,
		    proc_state_char(t->state), t->ppid, t->pgid, t->sid,
		    t->kthread ? PF_KTHREAD : 0, u.self.min_flt, u.children.min_flt);
	// utime stime cutime cstime priority nice num_threads itrealvalue starttime vsize rss
	// rsslim (ticks are clock ticks: HZ is USER_HZ)
	proc_printf(pb, "%lu %lu %lu %lu 20 0 1 0 %lu %lu %lu %lu ",
		    (unsigned long)u.self.utime_ticks, (unsigned long)u.self.stime_ticks,
		    (unsigned long)u.children.utime_ticks, (unsigned long)u.children.stime_ticks,
		    (unsigned long)(t->start_ns / PROC_NS_PER_TICK), m->total_vm << PAGE_SHIFT,
		    t->mm ? m->rss : 0, (unsigned long)u.rsslim);
	// startcode endcode startstack kstkesp kstkeip signal blocked sigignore sigcatch wchan
	// nswap cnswap exit_signal processor rt_priority policy delayacct_blkio_ticks
	// guest_time cguest_time
	proc_printf(pb, "%lu %lu %lu 0 0 %lu %lu %lu %lu 0 0 0 %d 0 0 0 0 0 0 ", m->start_code,
		    m->end_code, m->start_stack, (unsigned long)t->sig_pending,
		    (unsigned long)t->sig_blocked, (unsigned long)t->sig_ignored,
		    (unsigned long)t->sig_caught, t->exit_signal);
	// start_data end_data start_brk arg_start arg_end env_start env_end exit_code
	proc_printf(pb, "%lu %lu %lu %lu %lu %lu %lu %d\n", m->start_data, m->end_data,
		    m->start_brk, m->arg_start, m->arg_end, m->env_start, m->env_end,
		    t->exit_code);
	proc_snap_put(&s);
	return 0;
}

// /proc/<pid>/statm, in pages: size resident shared text lib data dt.
int proc_pid_statm_show(struct proc_buf *pb, pid_t pid)
{
	struct proc_snap s;
	struct proc_mm *m = &s.m;
	int err = proc_snap_get(pid, &s, true);

	if (err)
		return err;
	proc_printf(pb, "%lu %lu %lu %lu 0 %lu 0\n", m->total_vm, m->rss,
		    m->rss_file + m->rss_shmem, (m->end_code - m->start_code) >> PAGE_SHIFT,
		    m->data_vm + m->stack_vm);
	proc_snap_put(&s);
	return 0;
}

// --- status ------------------------------------------------------------------------------------

static void proc_status_ids(struct proc_buf *pb, const struct proc_task *t)
{
	proc_printf(pb, "Name:\t%s\n", t->comm);
	if (t->umask >= 0)
		proc_printf(pb, "Umask:\t%04o\n", t->umask);
	proc_printf(pb, "State:\t%s\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n",
		    proc_state_name(t->state), t->tgid, t->pid, t->ppid);
	proc_printf(pb, "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t%d\nGroups:\t\n",
		    t->has_files ? FILES_MAX : 0);
	proc_printf(pb, "NStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\nKthread:\t%d\n",
		    t->tgid, t->pid, t->pgid, t->sid, t->kthread ? 1 : 0);
}

// The Vm* and Rss* lines, for a task with an address space.
static void proc_status_memory(struct proc_buf *pb, const struct proc_mm *m)
{
	unsigned long exe = (m->end_code - m->start_code) >> PAGE_SHIFT;

	proc_printf(pb, "VmSize:\t%8lu kB\nVmLck:\t%8lu kB\nVmPin:\t%8lu kB\n", KB(m->total_vm),
		    0UL, 0UL);
	proc_printf(pb, "VmRSS:\t%8lu kB\nRssAnon:\t%8lu kB\nRssFile:\t%8lu kB\n", KB(m->rss),
		    KB(m->rss_anon), KB(m->rss_file));
	proc_printf(pb, "RssShmem:\t%8lu kB\nVmData:\t%8lu kB\nVmStk:\t%8lu kB\n",
		    KB(m->rss_shmem), KB(m->data_vm), KB(m->stack_vm));
	proc_printf(pb, "VmExe:\t%8lu kB\nVmLib:\t%8lu kB\nVmSwap:\t%8lu kB\n", KB(exe),
		    KB(m->exec_vm > exe ? m->exec_vm - exe : 0), 0UL);
}

static void proc_status_signals(struct proc_buf *pb, const struct proc_task *t)
{
	proc_printf(pb, "Threads:\t1\nSigPnd:\t%016lx\nShdPnd:\t%016lx\n",
		    (unsigned long)t->sig_pending, 0UL);
	proc_printf(pb, "SigBlk:\t%016lx\nSigIgn:\t%016lx\nSigCgt:\t%016lx\n",
		    (unsigned long)t->sig_blocked, (unsigned long)t->sig_ignored,
		    (unsigned long)t->sig_caught);
	proc_printf(pb, "CapInh:\t%016lx\nCapPrm:\t%016lx\nCapEff:\t%016lx\n", 0UL,
		    (unsigned long)CAP_FULL_SET, (unsigned long)CAP_FULL_SET);
	proc_printf(pb, "CapBnd:\t%016lx\nCapAmb:\t%016lx\nNoNewPrivs:\t0\nSeccomp:\t0\n",
		    (unsigned long)CAP_FULL_SET, 0UL);
}

int proc_pid_status_show(struct proc_buf *pb, pid_t pid)
{
	struct proc_snap s;
	int err = proc_snap_get(pid, &s, true);

	if (err)
		return err;
	proc_status_ids(pb, &s.t);
	if (s.t.mm)
		proc_status_memory(pb, &s.m);
	proc_status_signals(pb, &s.t);
	proc_snap_put(&s);
	return 0;
}

// --- limits ------------------------------------------------------------------------------------

// The rows of /proc/<pid>/limits, in resource order, with Linux's names and units.
static const struct {
	const char *name, *unit;
} proc_limit_rows[RLIM_NLIMITS] = {
	[RLIMIT_CPU] = { "Max cpu time", "seconds" },
	[RLIMIT_FSIZE] = { "Max file size", "bytes" },
	[RLIMIT_DATA] = { "Max data size", "bytes" },
	[RLIMIT_STACK] = { "Max stack size", "bytes" },
	[RLIMIT_CORE] = { "Max core file size", "bytes" },
	[RLIMIT_RSS] = { "Max resident set", "bytes" },
	[RLIMIT_NPROC] = { "Max processes", "processes" },
	[RLIMIT_NOFILE] = { "Max open files", "files" },
	[RLIMIT_MEMLOCK] = { "Max locked memory", "bytes" },
	[RLIMIT_AS] = { "Max address space", "bytes" },
	[RLIMIT_LOCKS] = { "Max file locks", "locks" },
	[RLIMIT_SIGPENDING] = { "Max pending signals", "signals" },
	[RLIMIT_MSGQUEUE] = { "Max msgqueue size", "bytes" },
	[RLIMIT_NICE] = { "Max nice priority", NULL },
	[RLIMIT_RTPRIO] = { "Max realtime priority", NULL },
	[RLIMIT_RTTIME] = { "Max realtime timeout", "us" },
};

static void proc_limit_value(struct proc_buf *pb, uint64_t v)
{
	if (v == RLIM_INFINITY)
		proc_printf(pb, "%-20s ", "unlimited");
	else
		proc_printf(pb, "%-20lu ", (unsigned long)v);
}

// /proc/<pid>/limits: a table of soft and hard limits, laid out as Linux lays it out.
int proc_pid_limits_show(struct proc_buf *pb, pid_t pid)
{
	struct rlimit lim[RLIM_NLIMITS];
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	struct task *t = task_find(pid);

	if (t)
		memcpy(lim, t->rlim, sizeof(lim));
	spin_unlock_irqrestore(&tasklist_lock, flags);
	if (!t)
		return -ENOENT;
	proc_printf(pb, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units");
	for (int i = 0; i < RLIM_NLIMITS; i++) {
		proc_printf(pb, "%-25s ", proc_limit_rows[i].name);
		proc_limit_value(pb, lim[i].rlim_cur);
		proc_limit_value(pb, lim[i].rlim_max);
		if (proc_limit_rows[i].unit)
			proc_printf(pb, "%-10s", proc_limit_rows[i].unit);
		proc_putmem(pb, "\n", 1);
	}
	return 0;
}

int proc_pid_comm_show(struct proc_buf *pb, pid_t pid)
{
	struct proc_task t;
	int err = proc_task_get(pid, &t);

	if (err)
		return err;
	proc_printf(pb, "%s\n", t.comm);
	proc_task_release(&t);
	return 0;
}

// --- cmdline, environ ---------------------------------------------------------------------------

// Copy the task's memory [start, end) into pb as it is (NUL-separated strings). A task
// without an address space (a kernel thread, a zombie) has none: the file is empty.
static int proc_pid_strings_show(struct proc_buf *pb, pid_t pid, bool env)
{
	struct proc_task t;
	uintptr_t start, end;
	size_t len, got;
	char *at;
	int err = proc_task_get(pid, &t);

	if (err || !t.mm)
		return err;
	// Written by exec before the mm was installed, constant afterwards (vm.h).
	start = env ? t.mm->env_start : t.mm->arg_start;
	end = env ? t.mm->env_end : t.mm->arg_end;
	len = end > start ? MIN(end - start, PROC_BUF_MAX) : 0;
	at = proc_reserve(pb, len);
	if (at) {
		got = proc_mm_read(t.mm, start, at, len);
		pb->len -= len - got;
	}
	proc_task_release(&t);
	return 0;
}

int proc_pid_cmdline_show(struct proc_buf *pb, pid_t pid)
{
	return proc_pid_strings_show(pb, pid, false);
}

int proc_pid_environ_show(struct proc_buf *pb, pid_t pid)
{
	return proc_pid_strings_show(pb, pid, true);
}

// --- maps ---------------------------------------------------------------------------------------

#define MAPS_NAME_COLUMN 73 // Linux pads every named line to put the name here

// The name a mapping shows: the file's path, [heap], [stack] or nothing. Writes it into
// buf (PATH_MAX bytes) and returns its length.
static long proc_maps_name(struct mm *mm, struct vma *v, char *buf)
{
	if (v->file)
		return proc_dentry_path(v->file->f_dentry, buf, PATH_MAX);
	if (v->start <= mm->brk && v->end >= mm->start_brk && mm->brk > mm->start_brk) {
		memcpy(buf, "[heap]", 6);
		return 6;
	}
	if (v->start <= mm->start_stack && v->end >= mm->start_stack) {
		memcpy(buf, "[stack]", 7);
		return 7;
	}
	return 0;
}

// One line of maps: "start-end perms offset major:minor inode" then, padded to column
// 73, the name. The mm lock is held.
static void proc_maps_line(struct proc_buf *pb, struct mm *mm, struct vma *v, char *name)
{
	struct inode *inode = v->file ? v->file->f_inode : NULL;
	dev_t dev = inode ? inode->i_sb->s_dev : 0;
	size_t start = pb->len;
	long n = proc_maps_name(mm, v, name);

	proc_printf(pb, "%08lx-%08lx %c%c%c%c %08lx %02x:%02x %lu ", (unsigned long)v->start,
		    (unsigned long)v->end, (v->flags & VM_READ) ? 'r' : '-',
		    (v->flags & VM_WRITE) ? 'w' : '-', (v->flags & VM_EXEC) ? 'x' : '-',
		    (v->flags & VM_SHARED) ? 's' : 'p', (unsigned long)(v->file ? v->file_off : 0),
		    MAJOR(dev), MINOR(dev), (unsigned long)(inode ? inode->i_ino : 0));
	if (n > 0) {
		size_t used = pb->len - start;
		size_t pad = used < MAPS_NAME_COLUMN ? MAPS_NAME_COLUMN - used : 0;
		char *at = proc_reserve(pb, pad);

		if (at)
			memset(at, ' ', pad);
		proc_putmem(pb, name, (size_t)n);
	}
	proc_putmem(pb, "\n", 1);
}

int proc_pid_maps_show(struct proc_buf *pb, pid_t pid)
{
	struct proc_task t;
	struct vma *v;
	char *name;
	int err = proc_task_get(pid, &t);

	if (err || !t.mm)
		return err;
	name = kmalloc(PATH_MAX);
	if (!name) {
		proc_task_release(&t);
		return -ENOMEM;
	}
	mm_lock(t.mm);
	for (v = vma_first(&t.mm->vmas); v; v = vma_next(&t.mm->vmas, v))
		proc_maps_line(pb, t.mm, v, name);
	mm_unlock(t.mm);
	kfree(name);
	proc_task_release(&t);
	return 0;
}

// --- links ---------------------------------------------------------------------------------------

// The program's file, as exec recorded it (mm->exe_file). A kernel thread or a zombie has
// none: -ENOENT, as on Linux.
long proc_pid_exe_link(pid_t pid, char *buf, size_t size)
{
	struct proc_task t;
	long n = proc_task_get(pid, &t);

	if (n)
		return n;
	// exe_file is constant while the mm lives (vm.h), and t holds a reference to the mm.
	if (t.mm && t.mm->exe_file)
		n = proc_dentry_path(t.mm->exe_file->f_dentry, buf, size);
	else
		n = -ENOENT;
	proc_task_release(&t);
	return n;
}

static long proc_dir_link(pid_t pid, bool root, char *buf, size_t size)
{
	struct dentry *d = proc_task_dir(pid, root);
	long n;

	if (!d)
		return -ENOENT;
	n = proc_dentry_path(d, buf, size);
	dentry_put(d);
	return n;
}

long proc_pid_cwd_link(pid_t pid, char *buf, size_t size)
{
	return proc_dir_link(pid, false, buf, size);
}

long proc_pid_root_link(pid_t pid, char *buf, size_t size)
{
	return proc_dir_link(pid, true, buf, size);
}

long proc_fd_link(pid_t pid, int fd, char *buf, size_t size)
{
	struct file *f = proc_task_fd(pid, fd);
	long n;

	if (!f)
		return -ENOENT;
	n = proc_dentry_path(f->f_dentry, buf, size);
	file_put(f);
	return n;
}
