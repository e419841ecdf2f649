// Resource limits and resource usage: getrlimit, setrlimit, prlimit64, getrusage, times,
// and the helpers through which other subsystems enforce limits and report usage
// (include/trapeze/rlimit.h; docs/rlimits.md).
//
// Lock: a task's limits are written under tasklist_lock (irqsave), which also keeps
// another task's structure alive while prlimit64 looks at it; the task reads its own
// limits without a lock, one 64-bit field at a time. The children totals are under
// tasklist_lock too: wait4 adds to them while it unlinks the zombie.
#include <trapeze/fs.h>
#include <trapeze/rlimit.h>
#include <trapeze/sched.h>
#include <trapeze/signal.h>
#include <trapeze/string.h>
#include <trapeze/task.h>
#include <trapeze/uaccess.h>
#include <trapeze/vm.h>
#include <asm/cpu.h>
#include <asm/irq.h>
#include <uapi/fcntl.h>
#include <uapi/wait.h>

#define USER_HZ 100 // the unit of times() and /proc: clock ticks per second (AT_CLKTCK)
#define NSEC_PER_SEC 1000000000ULL
#define USEC_PER_SEC 1000000ULL

// The kernel's task limit (kernel/task.c): what RLIMIT_NPROC and RLIMIT_SIGPENDING report.
#define RLIMIT_TASKS_DEFAULT 1024
#define RLIMIT_MEMLOCK_DEFAULT (8UL << 20) // Linux 5.16+
#define RLIMIT_MSGQUEUE_DEFAULT 819200     // Linux MQ_BYTES_MAX
#define RLIM_UNLIMITED { RLIM_INFINITY, RLIM_INFINITY }

// Linux's INIT_RLIMITS, the limits of init and so of everything not changed since.
static const struct rlimit rlimit_defaults[RLIM_NLIMITS] = {
	[RLIMIT_CPU] = RLIM_UNLIMITED,
	[RLIMIT_FSIZE] = RLIM_UNLIMITED,
	[RLIMIT_DATA] = RLIM_UNLIMITED,
	[RLIMIT_STACK] = { STACK_LIMIT, RLIM_INFINITY },
	[RLIMIT_CORE] = { 0, RLIM_INFINITY },
	[RLIMIT_RSS] = RLIM_UNLIMITED,
	[RLIMIT_NPROC] = { RLIMIT_TASKS_DEFAULT, RLIMIT_TASKS_DEFAULT },
	[RLIMIT_NOFILE] = { FILES_MAX, FILES_MAX },
	[RLIMIT_MEMLOCK] = { RLIMIT_MEMLOCK_DEFAULT, RLIMIT_MEMLOCK_DEFAULT },
	[RLIMIT_AS] = RLIM_UNLIMITED,
	[RLIMIT_LOCKS] = RLIM_UNLIMITED,
	[RLIMIT_SIGPENDING] = { RLIMIT_TASKS_DEFAULT, RLIMIT_TASKS_DEFAULT },
	[RLIMIT_MSGQUEUE] = { RLIMIT_MSGQUEUE_DEFAULT, RLIMIT_MSGQUEUE_DEFAULT },
	[RLIMIT_NICE] = { 0, 0 },
	[RLIMIT_RTPRIO] = { 0, 0 },
	[RLIMIT_RTTIME] = RLIM_UNLIMITED,
};

void rlimit_init_default(struct rlimit *rlim)
{
	memcpy(rlim, rlimit_defaults, sizeof(rlimit_defaults));
}

uint64_t rlimit(unsigned int resource)
{
	return READ_ONCE(current->rlim[resource].rlim_cur);
}

// --- getrlimit, setrlimit, prlimit64 ------------------------------------------------------------

// Whether a new value may be set. Root may raise hard limits (CAP_SYS_RESOURCE), so only
// the value itself is checked, as Linux's do_prlimit does.
static int rlimit_check(unsigned int resource, const struct rlimit *want)
{
	if (resource >= RLIM_NLIMITS)
		return -EINVAL;
	if (want && want->rlim_cur > want->rlim_max)
		return -EINVAL;
	if (want && resource == RLIMIT_NOFILE && want->rlim_max > RLIMIT_NR_OPEN)
		return -EPERM;
	return 0;
}

// Store want in *lim so that a lock-free reader never sees a soft limit above the hard one.
static void rlimit_store_locked(struct rlimit *lim, const struct rlimit *want)
{
	assert_held(&tasklist_lock);
	if (want->rlim_max >= lim->rlim_max) {
		WRITE_ONCE(lim->rlim_max, want->rlim_max);
		WRITE_ONCE(lim->rlim_cur, want->rlim_cur);
	} else {
		WRITE_ONCE(lim->rlim_cur, want->rlim_cur);
		WRITE_ONCE(lim->rlim_max, want->rlim_max);
	}
}

// Read (into *old) and, if want is not NULL, replace the limit resource of task pid (0:
// the caller). 0, -ESRCH when there is no such task, or rlimit_check's error.
static int do_prlimit(pid_t pid, unsigned int resource, const struct rlimit *want,
		      struct rlimit *old)
{
	struct task *t;
	uint64_t flags;
	int err = 0;

	flags = spin_lock_irqsave(&tasklist_lock);
	t = pid ? task_find(pid) : current;
	if (!t) {
		err = -ESRCH;
		goto unlock;
	}
	err = rlimit_check(resource, want);
	if (err)
		goto unlock;
	old->rlim_cur = READ_ONCE(t->rlim[resource].rlim_cur);
	old->rlim_max = READ_ONCE(t->rlim[resource].rlim_max);
	if (want)
		rlimit_store_locked(&t->rlim[resource], want);
unlock:
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return err;
}

long sys_prlimit64(pid_t pid, unsigned int resource, const struct rlimit __user *new_lim,
		   struct rlimit __user *old_lim)
{
	struct rlimit want, old;
	int err;

	if (new_lim && copy_from_user(&want, new_lim, sizeof(want)))
		return -EFAULT;
	err = do_prlimit(pid, resource, new_lim ? &want : NULL, &old);
	if (err)
		return err;
	// As on Linux, a bad old_lim does not undo the change.
	if (old_lim && copy_to_user(old_lim, &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

long sys_getrlimit(unsigned int resource, struct rlimit __user *lim)
{
	struct rlimit old;
	int err = do_prlimit(0, resource, NULL, &old);

	if (err)
		return err;
	return copy_to_user(lim, &old, sizeof(old));
}

long sys_setrlimit(unsigned int resource, const struct rlimit __user *lim)
{
	struct rlimit want, old;

	if (copy_from_user(&want, lim, sizeof(want)))
		return -EFAULT;
	return do_prlimit(0, resource, &want, &old);
}

// --- enforcement helpers ------------------------------------------------------------------------

void rlimit_cpu_tick(struct task *t)
{
	struct rlimit *lim = &t->rlim[RLIMIT_CPU];
	uint64_t soft = READ_ONCE(lim->rlim_cur), hard, secs;

	// Linux ignores the hard limit while the soft one is unlimited.
	if (soft == RLIM_INFINITY)
		return;
	secs = (READ_ONCE(t->utime_ticks) + READ_ONCE(t->stime_ticks)) / HZ;
	hard = READ_ONCE(lim->rlim_max);
	if (hard != RLIM_INFINITY && secs >= hard) {
		signal_send(t, SIGKILL);
		return;
	}
	if (secs < soft)
		return;
	// Another second before the next SIGXCPU. A prlimit64 racing with us wins.
	__atomic_compare_exchange_n(&lim->rlim_cur, &soft, soft + 1, false, __ATOMIC_RELAXED,
				    __ATOMIC_RELAXED);
	signal_send(t, SIGXCPU);
}

int rlimit_fsize_clamp(struct file *f, off_t pos, size_t *count)
{
	struct inode *inode = f->f_inode;
	uint64_t limit = rlimit(RLIMIT_FSIZE);

	if (limit == RLIM_INFINITY || !S_ISREG(inode->i_mode) || *count == 0)
		return 0;
	// An append lands at the end; the file system decides that under i_mutex, so a
	// concurrent append may slip a little past the limit (docs/rlimits.md).
	if (READ_ONCE(f->f_flags) & O_APPEND)
		pos = (off_t)READ_ONCE(inode->i_size);
	if (pos < 0 || (uint64_t)pos >= limit) {
		signal_send(current, SIGXFSZ);
		return -EFBIG;
	}
	*count = MIN(*count, (size_t)(limit - (uint64_t)pos));
	return 0;
}

int rlimit_fsize_truncate_check(struct inode *inode, int64_t size)
{
	uint64_t limit = rlimit(RLIMIT_FSIZE);

	if (limit == RLIM_INFINITY || !S_ISREG(inode->i_mode) || size < 0)
		return 0;
	if ((uint64_t)size <= READ_ONCE(inode->i_size) || (uint64_t)size <= limit)
		return 0;
	signal_send(current, SIGXFSZ);
	return -EFBIG;
}

// --- usage --------------------------------------------------------------------------------------

void rusage_rss_update(struct mm *mm)
{
	struct task *t = current;
	unsigned long rss = READ_ONCE(mm->rss);

	if (t->mm == mm && rss > t->maxrss)
		t->maxrss = rss;
}

void rusage_fault_account(struct mm *mm)
{
	if (current->mm != mm)
		return; // exec filling its new stack: not yet this task's
	current->min_flt++;
	rusage_rss_update(mm);
}

void rusage_collect_locked(struct task *t, int who, struct task_usage *u)
{
	struct mm *mm = READ_ONCE(t->mm);

	memset(u, 0, sizeof(*u));
	if (who != RUSAGE_CHILDREN) {
		u->utime_ticks = READ_ONCE(t->utime_ticks);
		u->stime_ticks = READ_ONCE(t->stime_ticks);
		u->min_flt = READ_ONCE(t->min_flt);
		// The live address space counts too (Linux: setmax_mm_hiwater_rss): fork's copy
		// and exec's new stack arrive without a fault of this task.
		u->maxrss = MAX(READ_ONCE(t->maxrss), mm ? READ_ONCE(mm->rss) : 0UL);
	}
	if (who != RUSAGE_SELF) {
		u->utime_ticks += t->child_usage.utime_ticks;
		u->stime_ticks += t->child_usage.stime_ticks;
		u->min_flt += t->child_usage.min_flt;
		u->maxrss = MAX(u->maxrss, t->child_usage.maxrss);
	}
}

void rusage_reap_locked(struct task *parent, struct task *child)
{
	struct task_usage u;

	assert_held(&tasklist_lock);
	rusage_collect_locked(child, RUSAGE_BOTH, &u);
	parent->child_usage.utime_ticks += u.utime_ticks;
	parent->child_usage.stime_ticks += u.stime_ticks;
	parent->child_usage.min_flt += u.min_flt;
	parent->child_usage.maxrss = MAX(parent->child_usage.maxrss, u.maxrss);
}

struct linux_timeval {
	int64_t tv_sec, tv_usec;
};

// struct rusage of the x86-64 ABI.
struct linux_rusage {
	struct linux_timeval ru_utime, ru_stime;
	int64_t ru_maxrss; // KiB
	int64_t ru_ixrss, ru_idrss, ru_isrss;
	int64_t ru_minflt, ru_majflt, ru_nswap, ru_inblock, ru_oublock;
	int64_t ru_msgsnd, ru_msgrcv, ru_nsignals, ru_nvcsw, ru_nivcsw;
};
_Static_assert(sizeof(struct linux_rusage) == RUSAGE_SIZE, "struct rusage is 144 bytes");

static struct linux_timeval ticks_to_timeval(uint64_t ticks)
{
	return (struct linux_timeval){ (int64_t)(ticks / HZ),
				       (int64_t)(ticks % HZ * (USEC_PER_SEC / HZ)) };
}

int rusage_copy_to_user(void __user *ru, const struct task_usage *u)
{
	struct linux_rusage r;

	memset(&r, 0, sizeof(r));
	r.ru_utime = ticks_to_timeval(u->utime_ticks);
	r.ru_stime = ticks_to_timeval(u->stime_ticks);
	r.ru_maxrss = (int64_t)(u->maxrss << (PAGE_SHIFT - 10));
	r.ru_minflt = (int64_t)u->min_flt;
	return copy_to_user(ru, &r, sizeof(r));
}

long sys_getrusage(int who, void __user *ru)
{
	struct task_usage u;
	uint64_t flags;

	if (who != RUSAGE_SELF && who != RUSAGE_CHILDREN && who != RUSAGE_THREAD)
		return -EINVAL;
	// One task per process: the thread's usage is the process's.
	if (who == RUSAGE_THREAD)
		who = RUSAGE_SELF;
	flags = spin_lock_irqsave(&tasklist_lock);
	rusage_collect_locked(current, who, &u);
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return rusage_copy_to_user(ru, &u);
}

struct linux_tms {
	int64_t tms_utime, tms_stime, tms_cutime, tms_cstime; // clock ticks (USER_HZ)
};

static int64_t ticks_to_clock_t(uint64_t ticks)
{
	return (int64_t)(ticks * USER_HZ / HZ);
}

// times(2): the CPU times of the caller and its reaped children, and the clock ticks
// since boot (Linux counts from an arbitrary point too; only differences mean anything).
long sys_times(struct linux_tms __user *buf)
{
	if (buf) {
		struct linux_tms tms;
		struct task_usage self, children;
		uint64_t flags = spin_lock_irqsave(&tasklist_lock);

		rusage_collect_locked(current, RUSAGE_SELF, &self);
		rusage_collect_locked(current, RUSAGE_CHILDREN, &children);
		spin_unlock_irqrestore(&tasklist_lock, flags);
		tms.tms_utime = ticks_to_clock_t(self.utime_ticks);
		tms.tms_stime = ticks_to_clock_t(self.stime_ticks);
		tms.tms_cutime = ticks_to_clock_t(children.utime_ticks);
		tms.tms_cstime = ticks_to_clock_t(children.stime_ticks);
		if (copy_to_user(buf, &tms, sizeof(tms)))
			return -EFAULT;
	}
	return (long)(time_ns() / (NSEC_PER_SEC / USER_HZ));
}
