// The signal frame: what a caught signal leaves on the user stack, and rt_sigreturn, which
// takes it back. The layout is Linux's x86-64 rt_sigframe, so libc and programs that read
// their ucontext (uc_mcontext.gregs, uc_sigmask, the FPU state) work unchanged:
//
//	higher addresses   the interrupted code's stack (or the top of the sigaltstack)
//	                   128-byte red zone, left untouched
//	fpstate            512-byte FXSAVE image, 64-byte aligned; uc_mcontext.fpstate points here
//	struct rt_sigframe { pretcode = sa_restorer; struct ucontext uc; struct siginfo info; }
//	lower addresses    <- RSP on handler entry; RSP + 8 is 16-byte aligned, as after a call
//
// The handler runs with RDI = sig, RSI = &info, RDX = &uc, RAX = 0 and a fresh FPU state.
// When it returns, "ret" pops pretcode and libc's restorer calls rt_sigreturn with RSP just
// above it. RCX and RIP now differ, so the return to user mode uses IRETQ and restores every
// register (arch/x86_64/syscall.c).
#include <trapeze/sched.h>
#include <trapeze/signal.h>
#include <trapeze/string.h>
#include <trapeze/syscall.h>
#include <trapeze/task.h>
#include <trapeze/uaccess.h>
#include <asm/arch.h>
#include <asm/cpu.h>
#include <asm/pt_regs.h>
#include <asm/segment.h>
#include <asm/x86.h>

_Static_assert(FPU_STATE_SIZE == FPSTATE_SIZE, "the task FPU area is the frame's FXSAVE image");

#define RED_ZONE 128     // below user RSP: the x86-64 ABI lets leaf functions use it
#define FPSTATE_ALIGN 64 // what Linux uses (XSAVE's alignment)
#define MXCSR_DEFAULT_MASK 0xffbf // when FXSAVE reports a mask of 0 (no DAZ)

#define X86_EFLAGS_PF (1UL << 2)
#define X86_EFLAGS_AF (1UL << 4)
#define X86_EFLAGS_ZF (1UL << 6)
#define X86_EFLAGS_SF (1UL << 7)
#define X86_EFLAGS_OF (1UL << 11)
// The RFLAGS bits rt_sigreturn takes from the frame; IF, IOPL and the rest stay as they are.
#define SIGRETURN_EFLAGS                                                               \
	(X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | X86_EFLAGS_ZF | X86_EFLAGS_SF |  \
	 X86_EFLAGS_TF | X86_EFLAGS_DF | X86_EFLAGS_OF | X86_EFLAGS_AC | X86_EFLAGS_RF)

#define PAGE_FAULT_TRAPNO 14

// --- the alternate signal stack ---

// Whether sp lies on the current task's alternate stack, by its position alone.
static bool signal_altstack_contains(uint64_t sp)
{
	struct task *t = current;

	return sp > t->sigaltstack_sp && sp - t->sigaltstack_sp <= t->sigaltstack_size;
}

bool signal_on_altstack(uint64_t sp)
{
	// With SS_AUTODISARM the stack is disarmed while in use, so it never counts as "on".
	if (current->sigaltstack_flags & SS_AUTODISARM)
		return false;
	return signal_altstack_contains(sp);
}

// ss_flags as sigaltstack and uc_stack report them.
static int signal_altstack_state(uint64_t sp)
{
	struct task *t = current;

	if (!t->sigaltstack_size)
		return SS_DISABLE;
	return (signal_on_altstack(sp) ? SS_ONSTACK : 0) | t->sigaltstack_flags;
}

void signal_altstack_get(struct sigaltstack *ss, uint64_t user_sp)
{
	struct task *t = current;

	memset(ss, 0, sizeof(*ss));
	ss->ss_sp = t->sigaltstack_sp;
	ss->ss_size = t->sigaltstack_size;
	ss->ss_flags = signal_altstack_state(user_sp);
}

int signal_altstack_set(const struct sigaltstack *ss, uint64_t user_sp)
{
	struct task *t = current;
	uint32_t mode = (uint32_t)ss->ss_flags & ~SS_AUTODISARM;
	uint64_t flags;

	if (signal_on_altstack(user_sp))
		return -EPERM; // the handler running on it would lose its stack
	if (mode != 0 && mode != SS_ONSTACK && mode != SS_DISABLE)
		return -EINVAL;
	if (mode != SS_DISABLE && ss->ss_size < MINSIGSTKSZ)
		return -ENOMEM;
	flags = spin_lock_irqsave(&t->sig_lock);
	if (mode == SS_DISABLE) {
		t->sigaltstack_sp = 0;
		t->sigaltstack_size = 0;
		t->sigaltstack_flags = 0;
	} else {
		t->sigaltstack_sp = ss->ss_sp;
		t->sigaltstack_size = ss->ss_size;
		t->sigaltstack_flags = (int)((uint32_t)ss->ss_flags & SS_AUTODISARM);
	}
	spin_unlock_irqrestore(&t->sig_lock, flags);
	return 0;
}

// --- building the frame ---

static bool signal_is_fault(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP;
}

void signal_siginfo_fill(struct siginfo *si, int sig, const struct signal_info *info)
{
	memset(si, 0, sizeof(*si));
	si->si_signo = sig;
	si->si_code = info->code;
	// Codes between SI_USER and SI_KERNEL are signal-specific (CLD_*, SEGV_*...); the
	// others (SI_USER, SI_TKILL, SI_QUEUE, SI_KERNEL) carry the sender.
	if (info->code > SI_USER && info->code < SI_KERNEL && sig == SIGCHLD) {
		si->u.chld.pid = info->pid;
		si->u.chld.uid = info->uid;
		si->u.chld.status = info->status;
	} else if (info->code > SI_USER && info->code < SI_KERNEL && signal_is_fault(sig)) {
		si->u.fault.addr = info->addr;
	} else {
		si->u.kill.pid = info->pid;
		si->u.kill.uid = info->uid;
		si->u.kill.value = info->addr;
	}
}

static void signal_sigcontext_fill(struct sigcontext *sc, const struct pt_regs *regs)
{
	sc->r8 = regs->r8;
	sc->r9 = regs->r9;
	sc->r10 = regs->r10;
	sc->r11 = regs->r11;
	sc->r12 = regs->r12;
	sc->r13 = regs->r13;
	sc->r14 = regs->r14;
	sc->r15 = regs->r15;
	sc->rdi = regs->rdi;
	sc->rsi = regs->rsi;
	sc->rbp = regs->rbp;
	sc->rbx = regs->rbx;
	sc->rdx = regs->rdx;
	sc->rax = regs->rax;
	sc->rcx = regs->rcx;
	sc->rsp = regs->rsp;
	sc->rip = regs->rip;
	sc->eflags = regs->rflags;
	sc->cs = (uint16_t)regs->cs;
	sc->ss = (uint16_t)regs->ss;
}

// Where the frame goes: below the red zone, or at the top of the alternate stack if the
// handler asked for it and is not already on it. Returns the frame's address, with the
// fpstate address in *fp above it, or 0 if the frame would overflow the alternate stack,
// whether it switched to that stack or was on it already (a nested signal): as on Linux,
// the task then gets SIGSEGV rather than frames written below the stack.
static uint64_t signal_frame_place(const struct pt_regs *regs, const struct sigaction *act,
				   uint64_t *fp)
{
	struct task *t = current;
	uint64_t sp = regs->rsp - RED_ZONE, addr;
	bool nested = signal_on_altstack(sp);
	bool alt = (act->sa_flags & SA_ONSTACK) && t->sigaltstack_size && !nested;

	if (alt)
		sp = t->sigaltstack_sp + t->sigaltstack_size;
	*fp = ALIGN_DOWN(sp - FPSTATE_SIZE, FPSTATE_ALIGN);
	addr = ALIGN_DOWN(*fp - sizeof(struct rt_sigframe), 16) - 8;
	if ((alt || nested) && !signal_altstack_contains(addr))
		return 0;
	return addr;
}

// Copy the current FPU registers to fp and give the handler a clean FPU.
static int signal_fpu_save(uint64_t fp)
{
	struct task *t = current;

	fpu_save(t->fpu_state);
	if (copy_to_user((void __user *)fp, t->fpu_state, FPSTATE_SIZE) ||
	    clear_user((void __user *)(fp + FPSTATE_SW_RESERVED),
		       FPSTATE_SIZE - FPSTATE_SW_RESERVED))
		return -EFAULT;
	// A switch between the two steps would save the live registers over the clean state.
	preempt_disable();
	fpu_init_state(t->fpu_state);
	fpu_restore(t->fpu_state);
	preempt_enable();
	return 0;
}

// The frame for sig's handler act: the restorer to return to, the interrupted registers
// (regs), the mask to restore, the fpstate address and the siginfo.
static void signal_frame_fill(struct rt_sigframe *frame, const struct pt_regs *regs, int sig,
			      const struct sigaction *act, const struct signal_info *info,
			      uint64_t blocked_before, uint64_t fp)
{
	memset(frame, 0, sizeof(*frame));
	frame->pretcode = act->sa_restorer;
	frame->uc.uc_flags = UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	signal_altstack_get(&frame->uc.uc_stack, regs->rsp);
	signal_sigcontext_fill(&frame->uc.uc_mcontext, regs);
	frame->uc.uc_mcontext.oldmask = blocked_before;
	frame->uc.uc_mcontext.fpstate = fp;
	if (signal_is_fault(sig) && info->from_trap) {
		frame->uc.uc_mcontext.trapno = (uint64_t)info->trapno;
		frame->uc.uc_mcontext.err = info->error_code;
		if (info->trapno == PAGE_FAULT_TRAPNO)
			frame->uc.uc_mcontext.cr2 = info->addr;
	}
	frame->uc.uc_sigmask = blocked_before;
	signal_siginfo_fill(&frame->info, sig, info);
}

int signal_frame_setup(struct pt_regs *regs, int sig, const struct sigaction *act,
		       const struct signal_info *info, uint64_t blocked_before)
{
	struct task *t = current;
	struct rt_sigframe frame;
	uint64_t fp, addr;

	// Linux x86-64 has no in-kernel trampoline: without a restorer there is no way back.
	if (!(act->sa_flags & SA_RESTORER))
		return -EFAULT;
	addr = signal_frame_place(regs, act, &fp);
	if (!addr)
		return -EFAULT;
	signal_frame_fill(&frame, regs, sig, act, info, blocked_before, fp);
	if (copy_to_user((void __user *)addr, &frame, sizeof(frame)) || signal_fpu_save(fp))
		return -EFAULT;
	if (t->sigaltstack_flags & SS_AUTODISARM) {
		// Disarmed while the handler runs; rt_sigreturn reinstates it from uc_stack.
		t->sigaltstack_sp = 0;
		t->sigaltstack_size = 0;
		t->sigaltstack_flags = 0;
	}
	regs->rdi = (uint64_t)sig;
	regs->rsi = addr + __builtin_offsetof(struct rt_sigframe, info);
	regs->rdx = addr + __builtin_offsetof(struct rt_sigframe, uc);
	regs->rax = 0;
	regs->rip = act->sa_handler;
	regs->rsp = addr;
	regs->cs = USER_CS;
	regs->ss = USER_DS;
	regs->rflags &= ~(X86_EFLAGS_DF | X86_EFLAGS_TF | X86_EFLAGS_RF);
	return 0;
}

// --- rt_sigreturn ---

// Read and check the FXSAVE image at fp (0: none, start clean) into buf. The MXCSR
// reserved bits must be clear, or FXRSTOR would fault in the kernel.
static int signal_fpu_read(uint64_t fp, uint8_t *buf)
{
	struct task *t = current;
	uint32_t mask, mxcsr;

	if (!fp) {
		fpu_init_state(buf);
		return 0;
	}
	if (copy_from_user(buf, (const void __user *)fp, FPSTATE_SIZE))
		return -EFAULT;
	fpu_save(t->fpu_state); // for the CPU's MXCSR mask
	memcpy(&mask, (uint8_t *)t->fpu_state + FPSTATE_MXCSR_MASK, sizeof(mask));
	if (!mask)
		mask = MXCSR_DEFAULT_MASK;
	memcpy(&mxcsr, buf + FPSTATE_MXCSR, sizeof(mxcsr));
	mxcsr &= mask;
	memcpy(buf + FPSTATE_MXCSR, &mxcsr, sizeof(mxcsr));
	memset(buf + FPSTATE_SW_RESERVED, 0, FPSTATE_SIZE - FPSTATE_SW_RESERVED);
	return 0;
}

static bool user_addr_ok(uint64_t a)
{
	return a < USER_END;
}

static void signal_regs_restore(struct pt_regs *regs, const struct sigcontext *sc)
{
	regs->r8 = sc->r8;
	regs->r9 = sc->r9;
	regs->r10 = sc->r10;
	regs->r11 = sc->r11;
	regs->r12 = sc->r12;
	regs->r13 = sc->r13;
	regs->r14 = sc->r14;
	regs->r15 = sc->r15;
	regs->rdi = sc->rdi;
	regs->rsi = sc->rsi;
	regs->rbp = sc->rbp;
	regs->rbx = sc->rbx;
	regs->rdx = sc->rdx;
	regs->rax = sc->rax;
	regs->rcx = sc->rcx;
	regs->rsp = sc->rsp;
	regs->rip = sc->rip;
	regs->rflags = (regs->rflags & ~SIGRETURN_EFLAGS) | (sc->eflags & SIGRETURN_EFLAGS);
	// Only the 64-bit user segments exist; a frame cannot switch to others.
	regs->cs = USER_CS;
	regs->ss = USER_DS;
	// Not a system call any more: nothing to restart on the way out.
	regs->orig_rax = (uint64_t)-1;
}

// Undo a signal frame: every register, the mask, the FPU state and the alternate stack
// as they were when the signal came. A frame that cannot be read or holds a return address
// or stack outside user space raises SIGSEGV, as on Linux. Returns the restored RAX, so
// that the dispatcher's store of the return value leaves it in place.
long sys_rt_sigreturn(void)
{
	struct pt_regs *regs = current_user_regs();
	struct task *t = current;
	struct rt_sigframe frame;
	uint8_t fpu[FPSTATE_SIZE] __aligned(16);

	if (copy_from_user(&frame, (const void __user *)(regs->rsp - sizeof(uint64_t)),
			   sizeof(frame)))
		goto bad;
	if (!user_addr_ok(frame.uc.uc_mcontext.rip) || !user_addr_ok(frame.uc.uc_mcontext.rsp))
		goto bad;
	if (signal_fpu_read(frame.uc.uc_mcontext.fpstate, fpu))
		goto bad;
	signal_regs_restore(regs, &frame.uc.uc_mcontext);
	signal_set_blocked(frame.uc.uc_sigmask);
	// As on Linux, a restart_syscall the interrupted code is about to make fails with
	// EINTR: the pending restart state may be the handler's own, not the interrupted call's.
	t->restart.fn = NULL;
	// Errors are ignored, as on Linux: a handler on the alternate stack cannot change it.
	signal_altstack_set(&frame.uc.uc_stack, regs->rsp);
	preempt_disable();
	memcpy(t->fpu_state, fpu, FPSTATE_SIZE);
	fpu_restore(t->fpu_state);
	preempt_enable();
	return (long)regs->rax;
bad:
	signal_force_fault(SIGSEGV, SI_KERNEL, 0);
	return 0;
}
