// fork, vfork and clone: a new task that is a copy of the caller and returns 0 from the
// same system call ("called once, returns twice").
//
// The child gets a copy of the parent's user registers (the pt_regs at the top of the
// parent's kernel stack) at the top of its own kernel stack, with rax = 0, and starts in
// task_entry (switch.S), which leaves for user mode through that pt_regs. Its address
// space is a copy of the parent's (or the same one with CLONE_VM), its descriptor table a
// copy, its signal handlers a copy, its resource limits a copy.
//
// Supported clone flags: what libc fork/vfork/posix_spawn/system use, and the thread set
// of musl's and glibc's pthread_create (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
// CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID,
// musl adding CLONE_DETACHED). A thread (CLONE_THREAD) shares the address space, the
// descriptor table, the fs context and the signal dispositions; it joins the caller's
// thread group (same tgid) and is nobody's child (docs/threads.md). Other combinations
// (CLONE_VM without CLONE_VFORK or CLONE_THREAD, CLONE_SIGHAND without CLONE_THREAD,
// namespaces, ptrace, pidfds...) return -EINVAL rather than half-working.
#include <trapeze/err.h>
#include <trapeze/exec.h>
#include <trapeze/sched.h>
#include <trapeze/signal.h>
#include <trapeze/string.h>
#include <trapeze/task.h>
#include <trapeze/uaccess.h>
#include <trapeze/vfs.h>
#include <trapeze/syscall.h>
#include <trapeze/vm.h>
#include <asm/arch.h>
#include <asm/cpu.h>
#include <asm/pt_regs.h>
#include <uapi/sched.h>

#define CLONE_SUPPORTED                                                                \
	(CSIGNAL | CLONE_VM | CLONE_VFORK | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID |    \
	 CLONE_CHILD_CLEARTID | CLONE_SETTLS | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |     \
	 CLONE_THREAD | CLONE_SYSVSEM | CLONE_DETACHED)
#define CLONE_THREAD_NEEDS (CLONE_VM | CLONE_SIGHAND | CLONE_THREAD)

struct clone_args_k {
	unsigned long flags;
	uintptr_t stack;
	int __user *parent_tid;
	int __user *child_tid;
	unsigned long tls;
};

// The child's first step, in its own context (its address space is loaded): honour
// CLONE_CHILD_SETTID, whose pointer is arg (NULL without the flag). task_entry then
// returns to user mode through the copied pt_regs.
static void fork_child_start(void *arg)
{
	if (arg)
		put_user(current->pid, (int __user *)arg);
}

static DEFINE_WAIT_QUEUE(vfork_wait);

void vfork_release(struct task *child)
{
	bool *done = child->vfork_done;

	if (!done)
		return;
	child->vfork_done = NULL;
	// The parent's frame may be gone as soon as it sees this: no use of done after it.
	__atomic_store_n(done, true, __ATOMIC_SEQ_CST);
	wake_up(&vfork_wait);
}

// Sleep (not interruptible: the child uses our memory) until the child execs or exits and
// sets *done. Only the flag is read, never the child, which may be freed by then.
static void vfork_wait_for(bool *done)
{
	struct wait_entry e = { LIST_HEAD_INIT(e.link), NULL };

	for (;;) {
		prepare_to_wait(&vfork_wait, &e);
		set_current_state(TASK_UNINTERRUPTIBLE);
		if (__atomic_load_n(done, __ATOMIC_SEQ_CST))
			break;
		schedule();
	}
	finish_wait(&vfork_wait, &e);
}

// Copy what the child inherits. Returns 0 or -ENOMEM; partial copies are released by
// the caller through release_copied().
static int copy_process_state(struct task *child, unsigned long flags)
{
	struct task *parent = current;

	if (flags & CLONE_VM) {
		mm_get(parent->mm);
		child->mm = parent->mm;
	} else {
		child->mm = mm_dup(parent->mm);
	}
	child->files = (flags & CLONE_FILES) ? files_get(parent->files) : files_dup(parent->files);
	child->fs = (flags & CLONE_FS) ? fs_context_get(parent->fs) : fs_context_dup(parent->fs);
	child->sighand = (flags & CLONE_SIGHAND) ? signal_handlers_get(parent->sighand) :
						  signal_handlers_dup(parent->sighand);
	if (!child->mm || !child->files || !child->fs || !child->sighand)
		return -ENOMEM;
	return 0;
}

// task_free() drops the signal handlers itself (it frees reaped tasks too).
static void release_copied(struct task *child)
{
	if (child->mm)
		mm_put(child->mm);
	if (child->files)
		files_put(child->files);
	if (child->fs)
		fs_context_put(child->fs);
	task_free(child);
}

static void copy_cpu_state(struct task *child, const struct clone_args_k *args)
{
	struct pt_regs *regs = task_pt_regs(child);
	struct task *parent = current;

	*regs = *current_user_regs();
	regs->rax = 0; // the child's return value
	if (args->stack)
		regs->rsp = args->stack;
	fpu_save(parent->fpu_state);
	memcpy(child->fpu_state, parent->fpu_state, FPU_STATE_SIZE);
	child->fs_base = (args->flags & CLONE_SETTLS) ? args->tls : parent->fs_base;
	child->gs_base = parent->gs_base;
}

// Link the child into the process tree and make it runnable.
// Returns -ERESTARTNOINTR, linking nothing, if a signal arrived for the parent during the
// fork: a signal sent to the parent's process group before the child is in the group
// would miss the child, so the fork is undone and restarted after the signal (Linux does
// the same). Otherwise links the child in and starts it, returning 0.
static int attach_child(struct task *child, unsigned long flags)
{
	struct task *parent = current;
	uint64_t irq;

	// A thread's exit tells nobody: the group's leader reports the process (exit.c).
	child->exit_signal = (flags & CLONE_THREAD) ? 0 : flags & CSIGNAL;
	child->sig_blocked = parent->sig_blocked;
	// The alternate signal stack lives in memory the child shares or copies.
	child->sigaltstack_sp = parent->sigaltstack_sp;
	child->sigaltstack_size = parent->sigaltstack_size;
	child->sigaltstack_flags = parent->sigaltstack_flags;
	strlcpy(child->comm, parent->comm, sizeof(child->comm));
	// Under tasklist_lock, which prlimit64 of another task holds while changing ours.
	// The peak resident set starts at what the child maps now (Linux: dup_mm).
	irq = spin_lock_irqsave(&tasklist_lock);
	// Senders to a group walk the task list under tasklist_lock, so a signal is either
	// pending now or will find the child in the group.
	if (signal_pending_current()) {
		spin_unlock_irqrestore(&tasklist_lock, irq);
		return -ERESTARTNOINTR;
	}
	memcpy(child->rlim, parent->rlim, sizeof(child->rlim));
	child->maxrss = READ_ONCE(child->mm->rss);
	child->pgid = parent->pgid;
	child->sid = parent->sid;
	if (flags & CLONE_THREAD) {
		child->tgid = parent->tgid;
		child->group_leader = parent->group_leader;
	} else {
		// Children belong to the process: wait4 in any thread finds them.
		child->parent = parent->group_leader;
		list_add_tail(&child->sibling_link, &parent->group_leader->children);
	}
	spin_unlock_irqrestore(&tasklist_lock, irq);
	task_start(child);
	return 0;
}

static long do_clone(const struct clone_args_k *args)
{
	unsigned long flags = args->flags;
	bool vfork_done = false;
	struct task *child;
	pid_t pid;
	int err;

	if (flags & ~CLONE_SUPPORTED)
		return -EINVAL;
	if ((flags & CSIGNAL) >= NSIG + 1)
		return -EINVAL;
	// Two tasks on one mm: a vfork child (its parent sleeps) or a thread of the same group.
	if ((flags & CLONE_VM) && !(flags & (CLONE_VFORK | CLONE_THREAD)))
		return -EINVAL;
	if ((flags & (CLONE_SIGHAND | CLONE_THREAD)) &&
	    ((flags & CLONE_THREAD_NEEDS) != CLONE_THREAD_NEEDS || (flags & CLONE_VFORK)))
		return -EINVAL;
	// Loading a non-canonical FS base would fault in the kernel at the child's first switch.
	if ((flags & CLONE_SETTLS) && args->tls >= USER_END)
		return -EPERM;
	child = task_create(current->comm, fork_child_start,
			    (flags & CLONE_CHILD_SETTID) ? (__force void *)args->child_tid : NULL);
	if (IS_ERR(child))
		return PTR_ERR(child);
	err = copy_process_state(child, flags);
	if (err) {
		release_copied(child);
		return err;
	}
	copy_cpu_state(child, args);
	pid = child->pid;
	if (flags & CLONE_CHILD_CLEARTID)
		child->clear_child_tid = (uint64_t)args->child_tid;
	// As on Linux, a bad pointer here does not undo the fork: the child exists either way.
	if (flags & CLONE_PARENT_SETTID)
		put_user(pid, args->parent_tid);
	if (flags & CLONE_VFORK)
		child->vfork_done = &vfork_done;
	err = attach_child(child, flags);
	if (err) {
		release_copied(child);
		return err;
	}
	if (flags & CLONE_VFORK) {
		// The parent's memory is the child's until it execs or exits.
		vfork_wait_for(&vfork_done);
	}
	return pid;
}

long sys_clone(unsigned long flags, uintptr_t stack, int __user *parent_tid,
	       int __user *child_tid, unsigned long tls)
{
	struct clone_args_k args = { flags, stack, parent_tid, child_tid, tls };

	return do_clone(&args);
}

long sys_fork(void)
{
	struct clone_args_k args = { SIGCHLD, 0, NULL, NULL, 0 };

	return do_clone(&args);
}

long sys_vfork(void)
{
	struct clone_args_k args = { CLONE_VM | CLONE_VFORK | SIGCHLD, 0, NULL, NULL, 0 };

	return do_clone(&args);
}
