// The SYSCALL/SYSRET path, C side. entry.S has built the pt_regs; here the call is
// dispatched, pending work is done, and the way back is chosen: SYSRET when the frame is
// exactly what SYSRET can restore, IRETQ otherwise.
#include <trapeze/sched.h>
#include <trapeze/syscall.h>
#include <trapeze/task.h>
#include <asm/arch.h>
#include <asm/cpu.h>
#include <asm/msr.h>
#include <asm/pt_regs.h>
#include <asm/segment.h>
#include <asm/x86.h>

// SYSRET loads CS from STAR[63:48] + 16 and SS from STAR[63:48] + 8 (asm/segment.h).
#define STAR_USER_BASE (GDT_USER_CODE32 * 8)

// RFLAGS bits cleared on SYSCALL: interrupts stay off until the stack is the kernel's,
// and user-set TF/DF/AC/NT must not leak into kernel code.
#define SYSCALL_FMASK                                                                  \
	(X86_EFLAGS_IF | X86_EFLAGS_TF | X86_EFLAGS_DF | X86_EFLAGS_AC | X86_EFLAGS_NT |  \
	 X86_EFLAGS_IOPL | X86_EFLAGS_RF)

// Addresses from here up are not returned to with SYSRET: a non-canonical RCX would make
// SYSRET fault in ring 0 on Intel CPUs, and Linux also avoids the last user page.
#define SYSRET_RIP_LIMIT 0x00007ffffffff000UL

void syscall_init(void)
{
	wrmsr(MSR_STAR, ((uint64_t)STAR_USER_BASE << 48) | ((uint64_t)KERNEL_CS << 32));
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	wrmsr(MSR_FMASK, SYSCALL_FMASK);
}

// SYSRET restores RIP from RCX and RFLAGS from R11 and loads fixed user selectors, so it is
// only right when the frame says exactly that (execve, signal delivery and ptrace-like
// changes produce frames that need IRETQ).
static bool sysret_allowed(const struct pt_regs *regs)
{
	return regs->rcx == regs->rip && regs->r11 == regs->rflags &&
	       regs->rip < SYSRET_RIP_LIMIT && regs->cs == USER_CS && regs->ss == USER_DS &&
	       !(regs->rflags & (X86_EFLAGS_RF | X86_EFLAGS_TF));
}

struct pt_regs *current_user_regs(void)
{
	return task_pt_regs(current);
}

// Context: process context of the calling task. Called with interrupts off (FMASK);
// returns with them off. Returns nonzero if entry.S may leave through SYSRET.
int syscall_entry_c(struct pt_regs *regs)
{
	local_irq_enable();
	syscall_dispatch(regs);
	exit_to_user_mode(regs);
	return sysret_allowed(regs);
}
