// Tasks: the unit the scheduler runs. Every task owns one kernel stack (KSTACK_SIZE bytes
// with an unmapped guard page below it); while the task is in the kernel on behalf of user
// code, its user registers sit in the struct pt_regs at the very top of that stack.
// While a task is switched out, its callee-saved registers sit on its kernel stack and
// task->kstack_rsp points at them (arch/x86_64/switch.S).
// Lock order: include/trapeze/lockorder.h.
#pragma once

#include <trapeze/list.h>
#include <trapeze/rlimit.h>
#include <trapeze/spinlock.h>
#include <trapeze/types.h>

#define KSTACK_SIZE (16 * 1024)
#define TASK_COMM_LEN 16

struct mm;
struct files;
struct fs_context;
struct pt_regs;
struct signal_handlers;

enum task_state {
	TASK_RUNNING,       // on the run queue or on a CPU
	TASK_INTERRUPTIBLE, // asleep; a wake-up or a signal makes it runnable
	TASK_UNINTERRUPTIBLE,
	TASK_STOPPED,
	TASK_ZOMBIE,        // exited, waiting for its parent to reap it
	TASK_DEAD,
};

struct task {
	// Saved kernel RSP while switched out. Must stay the first field (switch.S).
	uint64_t kstack_rsp;
	uintptr_t kstack_base; // lowest usable address of the kernel stack
	uintptr_t kstack_top;  // one past the highest; the user pt_regs ends here
	// Raised by spinlocks and interrupt context; preemption only at zero.
	int preempt_count;

	pid_t pid;
	char comm[TASK_COMM_LEN];
	// under the run-queue lock:
	enum task_state state;
	struct list_head run_link;

	// Owned by the task; shared with others only through reference counts.
	struct mm *mm;          // NULL for kernel threads
	struct files *files;    // open file descriptors
	struct fs_context *fs;  // root and current directory, umask

	// Per-task CPU state restored by switch_to and the return to user mode.
	void *fpu_state;        // fxsave/xsave area, 64-byte aligned
	uint64_t fs_base;       // user TLS base (arch_prctl ARCH_SET_FS)
	uint64_t gs_base;

	// Process tree and identity, under tasklist_lock (kernel/task.c).
	pid_t tgid;             // process id: the group leader's pid (docs/threads.md)
	// The first task of the thread group, which stands for the process in the process
	// tree: it is on its parent's children list, owns the children of every thread, and
	// stays a zombie until the last thread is gone. Itself for a leader. Set at creation.
	struct task *group_leader;
	pid_t pgid, sid;        // process group and session
	struct task *parent;    // NULL for a thread other than the leader (see group_leader)
	struct list_head children; // struct task.sibling_link
	struct list_head sibling_link;
	int exit_signal;        // sent to the parent at exit (SIGCHLD, or 0)
	int exit_code;          // wait status (Linux encoding) once the task is a zombie
	struct list_head all_link; // on the global task list
	// The thread group's exit, kept in the leader (kernel/exit.c), under tasklist_lock:
	bool group_exiting;       // exit_group or a fatal signal is ending every thread
	int group_exit_status;    // the wait status the process reports then
	struct task *group_exec;  // the thread whose execve is killing the others, or NULL

	// Scheduling, under the run-queue lock.
	bool on_rq;
	int slice_ticks;        // timer ticks left in this time slice
	uint64_t wake_at_ns;    // sleep_ns deadline, 0 if none
	struct list_head timer_link; // on the sleeper list while wake_at_ns != 0

	// Signals (kernel/signal.c), under sig_lock.
	struct spinlock sig_lock;
	uint64_t sig_pending;   // bit (sig - 1) set: sig pending
	uint64_t sig_blocked;
	struct signal_handlers *sighand; // dispositions, shared with CLONE_SIGHAND tasks
	int fatal_signal;       // set when a fault signal or SIGKILL is to end the task
	uint64_t sigaltstack_sp, sigaltstack_size;
	int sigaltstack_flags;
	uint64_t saved_sigmask; // restored after rt_sigsuspend's handler runs
	bool restore_sigmask;
	uint64_t alarm_at_ns;   // ITIMER_REAL expiry, 0 if unarmed
	uint64_t alarm_interval_ns;

	// Thread-library hooks (set_tid_address, CLONE_CHILD_CLEARTID).
	uint64_t clear_child_tid;
	uint64_t robust_list, robust_list_len;
	// CLONE_VFORK: the waiting parent's flag, set (and the pointer cleared) when this child
	// execs or exits. It lives in the parent's stack frame, not here: a child whose parent
	// ignores SIGCHLD may be freed by anyone once it exits, before the parent looks.
	bool *vfork_done;

	// Job control reports for wait4/waitid, under tasklist_lock: set when the task
	// stops or continues, cleared when the parent collects the report.
	int stop_signal;          // the signal that stopped it
	bool stop_report;         // WUNTRACED report pending
	bool continue_report;     // WCONTINUED report pending

	// restart_syscall(2): how to resume a system call that returned
	// -ERESTART_RESTARTBLOCK when no handler ran (a sleep's deadline, say).
	struct {
		long (*fn)(void);
		uint64_t deadline_ns;
		uint64_t args[2]; // the call's own (nanosleep: the time-left pointer)
	} restart;

	// Resource limits (kernel/rlimit.c). Read without a lock by the task itself (one
	// field at a time); written with tasklist_lock held (irqsave) by prlimit64, and by the
	// timer tick, which moves rlim[RLIMIT_CPU].rlim_cur up a second at each SIGXCPU
	// (compare-and-swap).
	struct rlimit rlim[RLIM_NLIMITS];

	// Accounting (include/trapeze/rlimit.h).
	uint64_t start_ns;
	uint64_t utime_ticks, stime_ticks; // charged by the timer interrupt to the running task
	unsigned long maxrss;     // peak resident pages of the task's address spaces, by faults
	unsigned long min_flt;    // page faults resolved, counted by the task's own faults
	// The usage of reaped children, theirs included (wait4 adds it), under tasklist_lock.
	struct task_usage child_usage;
};

// Turn a pointer to the top of a kernel stack into its user pt_regs.
static inline struct pt_regs *task_pt_regs(const struct task *t)
{
	return (struct pt_regs *)(t->kstack_top - 168 /* sizeof(struct pt_regs) */);
}

extern struct spinlock tasklist_lock;
extern struct list_head task_list; // every task, under tasklist_lock
extern struct task *init_task;     // pid 1, the reaper of orphans

// A KSTACK_SIZE stack in the kernel-stack area with an unmapped guard page below it;
// returns its top (16-byte aligned) or 0 when out of memory. Context: process context.
uintptr_t kstack_alloc(void);

// Create a kernel task that runs fn(arg) on its own kernel stack, not yet runnable.
// When fn returns, the task leaves for user mode through the pt_regs at its stack top.
// ERR_PTR(-ENOMEM) when out of memory, ERR_PTR(-EAGAIN) over the task limit or out of pids.
struct task *task_create(const char *name, void (*fn)(void *), void *arg);
// A kernel thread running fn(arg), already runnable; it exits when fn returns.
// NULL when out of memory or over the task limit.
struct task *kthread_create(const char *name, void (*fn)(void *), void *arg);
// Wait for a kernel thread to finish and free it. Context: process context; sleeps.
void kthread_join(struct task *t);
// Make a new task runnable (first time).
void task_start(struct task *t);
struct task *task_find(pid_t pid); // caller holds tasklist_lock
// End the current task with the given wait status (Linux encoding). Never returns.
__noreturn void do_exit(int wait_status);
void sched_init(struct task *boot_task);
// Free a reaped task's stack and structure. Context: the reaper, never t itself.
void task_free(struct task *t);
__noreturn void idle_loop(void);
// Wake a parent sleeping in wait4/waitid: a child exited, stopped or continued.
// Context: any; does not sleep.
void task_notify_parent_waiters(void);
// Whether t (tasklist_lock held) is the last live (not ZOMBIE/DEAD) task of its group
// apart from ignore.
bool thread_group_empty_locked(const struct task *leader, const struct task *ignore);
// End every thread of the current process with wait_status (exit_group, fatal signals):
// the others get SIGKILL, the group reports the first status given. Never returns.
__noreturn void do_group_exit(int wait_status);
// execve in a multithreaded process: kill the other threads and wait until they are gone
// (Linux de_thread). 0, or -ERESTARTSYS... never fails today. Context: process context.
int thread_group_kill_others(void);
// Number of tasks that exist (for the task limit).
int task_count(void);
