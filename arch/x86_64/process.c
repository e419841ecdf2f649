// Starting a fresh user context (execve) and the per-task CPU state behind it.
#include <trapeze/sched.h>
#include <trapeze/string.h>
#include <trapeze/task.h>
#include <trapeze/uaccess.h>
#include <asm/arch.h>
#include <asm/cpu.h>
#include <asm/msr.h>
#include <asm/process.h>
#include <asm/pt_regs.h>
#include <asm/segment.h>
#include <asm/x86.h>

void arch_setup_user_regs(struct pt_regs *regs, uintptr_t entry, uintptr_t sp)
{
	struct task *t = current;

	memset(regs, 0, sizeof(*regs));
	regs->rip = entry;
	regs->rsp = sp;
	regs->cs = USER_CS;
	regs->ss = USER_DS;
	regs->rflags = X86_EFLAGS_IF | X86_EFLAGS_FIXED;
	regs->orig_rax = (uint64_t)-1;
	t->fs_base = 0;
	t->gs_base = 0;
	wrmsr(MSR_FS_BASE, 0);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
	// A switch between the two steps would save the old program's registers over the
	// clean state, and the new program would start with them.
	preempt_disable();
	fpu_init_state(t->fpu_state);
	fpu_restore(t->fpu_state);
	preempt_enable();
}

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004

// Set or read the user FS/GS base (TLS). A non-canonical or kernel address is refused with
// EPERM, as Linux does (loading it would fault on the way back to user mode).
long sys_arch_prctl(int code, unsigned long addr)
{
	struct task *t = current;

	switch (code) {
	case ARCH_SET_FS:
		if (addr >= USER_END)
			return -EPERM;
		t->fs_base = addr;
		wrmsr(MSR_FS_BASE, addr);
		return 0;
	case ARCH_SET_GS:
		if (addr >= USER_END)
			return -EPERM;
		t->gs_base = addr;
		wrmsr(MSR_KERNEL_GS_BASE, addr); // the user's GS base while we are in the kernel
		return 0;
	case ARCH_GET_FS:
		return put_user(t->fs_base, (unsigned long __user *)addr);
	case ARCH_GET_GS:
		return put_user(t->gs_base, (unsigned long __user *)addr);
	default:
		return -EINVAL;
	}
}

// The address the kernel clears (and futex-wakes) when this task exits; returns the tid.
long sys_set_tid_address(int __user *tidptr)
{
	current->clear_child_tid = (uint64_t)tidptr;
	return current->pid;
}

#define ROBUST_LIST_HEAD_SIZE 24

// Recorded for the thread library; not walked at exit yet (docs/threads.md).
long sys_set_robust_list(void __user *head, size_t len)
{
	if (len != ROBUST_LIST_HEAD_SIZE)
		return -EINVAL;
	current->robust_list = (uint64_t)head;
	current->robust_list_len = len;
	return 0;
}
