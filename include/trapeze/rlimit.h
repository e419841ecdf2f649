// Resource limits and resource usage, with Linux's numbers, structures and semantics
// (kernel/rlimit.c; docs/rlimits.md).
//
// Every task carries its own limits (struct task.rlim): task_create gives it Linux's
// defaults, fork copies the parent's, exec keeps them, prlimit64/setrlimit change them.
// Everything runs as root, which may raise hard limits (CAP_SYS_RESOURCE); the only
// refusals are cur > max (EINVAL) and RLIMIT_NOFILE above nr_open (EPERM).
//
// Each subsystem enforces its own limit where the resource grows, reading the current
// task's soft limit with rlimit():
//	RLIMIT_NOFILE  fs/fd.c          new descriptor numbers (EMFILE; dup2 beyond: EBADF)
//	RLIMIT_STACK   mm/fault.c       growth of VM_GROWSDOWN areas (the fault: SIGSEGV)
//	RLIMIT_AS      mm/mmap.c        all mapped bytes: mmap, brk, mremap, stack growth
//	RLIMIT_DATA    mm/mmap.c        private writable non-stack mappings: brk, mmap, mremap
//	RLIMIT_FSIZE   fs/read_write.c  write and truncate past the limit (SIGXFSZ, EFBIG)
//	RLIMIT_CPU     kernel/main.c    the timer tick: SIGXCPU at the soft limit, SIGKILL
//	                                at the hard one
// The other limits are stored and reported only (docs/rlimits.md says why for each).
//
// Usage: the timer tick charges utime/stime ticks (HZ = USER_HZ = 100, so 10 ms
// resolution); page faults count minor faults and the peak resident set; reaping a child
// (wait4/waitid) adds its usage and its reaped children's to the parent's children totals.
#pragma once

#include <trapeze/types.h>

struct task;
struct file;
struct inode;
struct mm;

#define RLIMIT_CPU 0        // seconds of CPU time
#define RLIMIT_FSIZE 1      // bytes in one file
#define RLIMIT_DATA 2       // bytes of data mappings
#define RLIMIT_STACK 3      // bytes of stack
#define RLIMIT_CORE 4       // bytes of core file (none is ever written)
#define RLIMIT_RSS 5        // ignored by Linux too
#define RLIMIT_NPROC 6      // processes of the user (root is exempt)
#define RLIMIT_NOFILE 7     // one more than the highest descriptor number
#define RLIMIT_MEMLOCK 8
#define RLIMIT_AS 9         // bytes of address space
#define RLIMIT_LOCKS 10
#define RLIMIT_SIGPENDING 11
#define RLIMIT_MSGQUEUE 12
#define RLIMIT_NICE 13
#define RLIMIT_RTPRIO 14
#define RLIMIT_RTTIME 15
#define RLIM_NLIMITS 16

#define RLIM_INFINITY (~0ULL)
// Linux's fs.nr_open default: the highest RLIMIT_NOFILE anyone may set.
#define RLIMIT_NR_OPEN (1024 * 1024)

// struct rlimit and struct rlimit64 of the x86-64 ABI (the same layout).
struct rlimit {
	uint64_t rlim_cur; // soft limit: what is enforced
	uint64_t rlim_max; // hard limit: the ceiling of the soft one
};

// --- limits -------------------------------------------------------------------------------------

// Fill rlim[RLIM_NLIMITS] with the limits Linux gives init. For task_create.
void rlimit_init_default(struct rlimit *rlim);
// The current task's soft limit for resource. Context: process context (or the timer
// tick for the interrupted task's own fields).
uint64_t rlimit(unsigned int resource);
// RLIMIT_CPU for the task the timer interrupted: SIGXCPU when its CPU time reaches the
// soft limit (which then moves up a second, so the signal repeats every second, as on
// Linux), SIGKILL at the hard limit. Context: interrupt context (timer); does not sleep.
void rlimit_cpu_tick(struct task *t);
// RLIMIT_FSIZE for a write of *count bytes at pos into f (at the end of the file for
// O_APPEND): a regular file may not grow past the limit. The count is cut to what fits;
// nothing fits: SIGXFSZ for the current task and -EFBIG. 0 otherwise (other file types
// are not limited). Context: process context.
int rlimit_fsize_clamp(struct file *f, off_t pos, size_t *count);
// RLIMIT_FSIZE for a truncate of inode to size: growing a regular file past the limit is
// SIGXFSZ and -EFBIG, as Linux's inode_newsize_ok. 0 otherwise. Context: process context.
int rlimit_fsize_truncate_check(struct inode *inode, int64_t size);

// The check the memory code makes (mm/mmap.c), with mm the current task's: may mm grow by
// len bytes of mappings with VMA flags vm_flags under RLIMIT_AS and RLIMIT_DATA, counting
// as gone whatever lies in [start, end) now (a fixed mmap replaces it; 0, 0 for none)?
// Caller holds mm's lock.
bool vm_may_expand(struct mm *mm, unsigned int vm_flags, size_t len, uintptr_t start,
		   uintptr_t end);

// --- usage --------------------------------------------------------------------------------------

#define RUSAGE_SELF 0
#define RUSAGE_CHILDREN (-1)
#define RUSAGE_BOTH (-2)   // self and reaped children: what wait4 reports (kernel only)
#define RUSAGE_THREAD 1

// What a task has used, in the kernel's units; struct task holds one for itself (the
// timer and page faults fill it) and one for its reaped children.
struct task_usage {
	uint64_t utime_ticks, stime_ticks; // HZ ticks in user and kernel mode
	unsigned long maxrss;              // peak resident pages
	unsigned long min_flt;             // page faults resolved without I/O
};

// t's usage as getrusage's who selects it (RUSAGE_SELF, _CHILDREN or _BOTH).
// Caller holds tasklist_lock (or t is current).
void rusage_collect_locked(struct task *t, int who, struct task_usage *u);
// A parent reaps child: child's usage and its children's join the parent's children
// totals (Linux: cutime, cstime, cmaxrss, cmin_flt). Caller holds tasklist_lock.
void rusage_reap_locked(struct task *parent, struct task *child);
// Write u to user memory as a struct rusage (144 bytes). 0 or -EFAULT.
int rusage_copy_to_user(void __user *ru, const struct task_usage *u);
// The page-fault hook (mm/fault.c): count one resolved fault of mm and keep the peak of
// its resident set, when mm is the current task's. No lock needed (reads mm->rss once).
void rusage_fault_account(struct mm *mm);
// Keep the peak of mm's resident set, when mm is the current task's (MAP_POPULATE).
void rusage_rss_update(struct mm *mm);
