// Tasks: the unit the scheduler runs. Every task owns one kernel stack (KSTACK_SIZE bytes
// with an unmapped guard page below it); while the task is in the kernel on behalf of user
// code, its user registers sit in the struct pt_regs at the very top of that stack.
// While a task is switched out, its callee-saved registers sit on its kernel stack and
// task->kstack_rsp points at them (arch/x86_64/switch.S).
// Lock order: include/trapeze/lockorder.h.
#pragma once

#include <trapeze/list.h>
#include <trapeze/spinlock.h>
#include <trapeze/types.h>

#define KSTACK_SIZE (16 * 1024)
#define TASK_COMM_LEN 16

struct mm;
struct files;
struct fs_context;
struct pt_regs;

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

	int exit_code;          // wait status once the task is a zombie
	struct list_head all_link; // on the global task list, under tasklist_lock
};

// Turn a pointer to the top of a kernel stack into its user pt_regs.
static inline struct pt_regs *task_pt_regs(const struct task *t)
{
	return (struct pt_regs *)(t->kstack_top - 168 /* sizeof(struct pt_regs) */);
}
