// Exceptions and interrupts after the entry stub has saved a struct pt_regs.
//
// Exceptions are synchronous: they run in the context of the task that caused them, on
// its kernel stack, and may sleep (a page fault reads a page in). A user-mode exception
// becomes a signal, as on Linux; a kernel-mode exception is a kernel bug and panics,
// unless it happened in a user-copy routine listed in the exception table, which then
// resumes at its fixup and returns -EFAULT.
//
// Interrupts are asynchronous: interrupt context, on the per-CPU interrupt stack, never
// sleeping. On the way out, a pending reschedule is honoured if the interrupted code
// may be preempted (user mode, or kernel code with preempt_count 0 and interrupts on).
#include <trapeze/panic.h>
#include <trapeze/printk.h>
#include <trapeze/sched.h>
#include <trapeze/signal.h>
#include <trapeze/task.h>
#include <trapeze/vm.h>
#include <asm/cpu.h>
#include <asm/irq.h>
#include <asm/pt_regs.h>
#include <asm/arch.h>
#include <asm/x86.h>

_Static_assert(__builtin_offsetof(struct pt_regs, r11) == PTREGS_R11, "pt_regs.r11");
_Static_assert(__builtin_offsetof(struct pt_regs, rcx) == PTREGS_RCX, "pt_regs.rcx");
_Static_assert(__builtin_offsetof(struct pt_regs, rax) == PTREGS_RAX, "pt_regs.rax");
_Static_assert(__builtin_offsetof(struct pt_regs, orig_rax) == PTREGS_ORIG_RAX, "orig_rax");
_Static_assert(__builtin_offsetof(struct pt_regs, rip) == PTREGS_RIP, "pt_regs.rip");
_Static_assert(__builtin_offsetof(struct pt_regs, cs) == PTREGS_CS, "pt_regs.cs");
_Static_assert(__builtin_offsetof(struct pt_regs, rsp) == PTREGS_RSP, "pt_regs.rsp");
_Static_assert(sizeof(struct pt_regs) == PTREGS_SIZE, "pt_regs size");

enum {
	X86_TRAP_DE = 0,  // divide error
	X86_TRAP_DB = 1,  // debug
	X86_TRAP_NMI = 2,
	X86_TRAP_BP = 3,  // int3
	X86_TRAP_OF = 4,  // into
	X86_TRAP_BR = 5,  // bound
	X86_TRAP_UD = 6,  // invalid opcode
	X86_TRAP_NM = 7,  // device not available
	X86_TRAP_DF = 8,  // double fault
	X86_TRAP_TS = 10, // invalid TSS
	X86_TRAP_NP = 11, // segment not present
	X86_TRAP_SS = 12, // stack segment
	X86_TRAP_GP = 13, // general protection
	X86_TRAP_PF = 14, // page fault
	X86_TRAP_MF = 16, // x87 floating point
	X86_TRAP_AC = 17, // alignment check
	X86_TRAP_MC = 18, // machine check
	X86_TRAP_XM = 19, // SIMD floating point
};

static const char *const trap_names[32] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
	"invalid opcode", "device not available", "double fault", "coprocessor overrun",
	"invalid TSS", "segment not present", "stack segment fault", "general protection",
	"page fault", "reserved", "x87 FPU error", "alignment check", "machine check",
	"SIMD floating point", "virtualization", "control protection",
};

// The user-copy fault table (__ex_table, filled by uaccess.S): a fault at insn resumes at
// fixup.
struct exception_entry {
	uint64_t insn, fixup;
};
extern const struct exception_entry __ex_table_start[], __ex_table_end[];

uint64_t nmi_count;

static uint64_t exception_fixup(uint64_t rip)
{
	for (const struct exception_entry *e = __ex_table_start; e < __ex_table_end; e++)
		if (e->insn == rip)
			return e->fixup;
	return 0;
}

// The signal Linux sends for a user-mode exception, and its si_code.
static void user_exception_signal(int vector, int *sig, int *code)
{
	*code = SI_KERNEL;
	switch (vector) {
	case X86_TRAP_DE:
		*sig = SIGFPE, *code = FPE_INTDIV;
		break;
	case X86_TRAP_DB:
	case X86_TRAP_BP:
		*sig = SIGTRAP, *code = vector == X86_TRAP_BP ? SI_KERNEL : TRAP_BRKPT;
		break;
	case X86_TRAP_UD:
		*sig = SIGILL, *code = ILL_ILLOPN;
		break;
	case X86_TRAP_MF:
	case X86_TRAP_XM:
		*sig = SIGFPE, *code = 0;
		break;
	case X86_TRAP_NP:
	case X86_TRAP_SS:
	case X86_TRAP_AC:
		*sig = SIGBUS;
		break;
	default: // #OF, #BR, #TS, #GP (privileged instructions, bad segments)
		*sig = SIGSEGV;
		break;
	}
}

static void page_fault(struct pt_regs *regs, uint64_t error_code)
{
	uintptr_t addr = read_cr2();
	struct mm *mm = current->mm;
	uint64_t fixup;
	int err = -EFAULT;

	// Faults are handled in the faulting task's context; let interrupts in again if the
	// interrupted code had them on.
	if (regs->rflags & X86_EFLAGS_IF)
		local_irq_enable();
	if (mm && addr < USER_END && (user_mode(regs) || exception_fixup(regs->rip)))
		err = mm_fault(mm, addr, error_code);
	if (err == 0)
		return;
	if (user_mode(regs)) {
		if (err == -EIO) // a file mapping touched beyond the end of its file
			signal_force_trap(SIGBUS, BUS_ADRERR, addr, X86_TRAP_PF, error_code);
		else if (err == -ENOMEM)
			signal_force_fault(SIGKILL, SI_KERNEL, addr);
		else
			signal_force_trap(SIGSEGV, err == -EACCES ? SEGV_ACCERR : SEGV_MAPERR,
					  addr, X86_TRAP_PF, error_code);
		return;
	}
	fixup = exception_fixup(regs->rip);
	if (fixup) {
		regs->rip = fixup;
		return;
	}
	panic_regs(regs, "kernel page fault at %#lx (error %#lx)%s", (unsigned long)addr,
		   (unsigned long)error_code,
		   addr < USER_END ? " touching user memory outside uaccess" : "");
}

static void exception_dispatch(struct pt_regs *regs, int vector)
{
	uint64_t error_code = regs->orig_rax;
	int sig, code;

	// Not a system call: nothing to restart if a signal interrupts this.
	regs->orig_rax = (uint64_t)-1;
	if (vector == X86_TRAP_PF) {
		page_fault(regs, error_code);
		return;
	}
	if (vector == X86_TRAP_NMI) {
		// Only counted: an NMI can land anywhere, even inside printk holding the log
		// lock, so the handler takes no locks at all.
		nmi_count++;
		return;
	}
	if (user_mode(regs) && vector != X86_TRAP_DF && vector != X86_TRAP_MC) {
		local_irq_enable();
		user_exception_signal(vector, &sig, &code);
		signal_force_trap(sig, code, vector == X86_TRAP_GP ? 0 : regs->rip, vector,
				  error_code);
		return;
	}
	if (vector == X86_TRAP_GP && exception_fixup(regs->rip)) {
		// A non-canonical user pointer in a user-copy routine faults with #GP, not #PF.
		regs->rip = exception_fixup(regs->rip);
		return;
	}
	panic_regs(regs, "%s (vector %d, error %#lx) in kernel mode",
		   vector < 32 && trap_names[vector] ? trap_names[vector] : "exception", vector,
		   (unsigned long)error_code);
}

struct irq_frame {
	struct pt_regs *regs;
	int vector;
};

static void irq_run(void *arg)
{
	struct irq_frame *f = arg;

	if (!irq_call_handler(f->regs, f->vector) && f->vector != SPURIOUS_VECTOR)
		pr_warn("unexpected interrupt on vector %d\n", f->vector);
}

// Context: interrupt. Runs the handler on the per-CPU interrupt stack unless nested.
static void irq_dispatch(struct pt_regs *regs, int vector)
{
	struct cpu *cpu = this_cpu();
	struct irq_frame f = { regs, vector };

	current->preempt_count++;
	if (cpu->irq_nesting++ == 0)
		irq_stack_call(irq_run, &f, cpu->irq_stack_top);
	else
		irq_run(&f);
	cpu->irq_nesting--;
	if (vector != SPURIOUS_VECTOR)
		apic_eoi();
	current->preempt_count--;
}

// Called by entry.S for every vector, interrupts off. Returns with interrupts off.
void trap_dispatch(struct pt_regs *regs, uint64_t vector)
{
	// User code may have set RFLAGS.AC (popf); SMAP must be closed inside the kernel.
	if (smap_enabled)
		clac();
	if (vector >= IRQ_BASE_VECTOR) {
		// Not a system call: signal delivery must not try to restart anything.
		regs->orig_rax = (uint64_t)-1;
		irq_dispatch(regs, (int)vector);
	} else {
		exception_dispatch(regs, (int)vector);
	}

	// NMI, double fault and machine check run on IST stacks: no rescheduling or signal
	// delivery there; pending work waits for the next ordinary entry.
	if (vector == X86_TRAP_NMI || vector == X86_TRAP_DF || vector == X86_TRAP_MC)
		return;
	if (user_mode(regs)) {
		exit_to_user_mode(regs);
		return;
	}
	local_irq_disable();
	// Kernel code is preemptible: an interrupt that set need_resched switches tasks here,
	// with the interrupted kernel context saved in the pt_regs on this task's stack.
	if (vector >= IRQ_BASE_VECTOR && (regs->rflags & X86_EFLAGS_IF))
		preempt_schedule_irq();
}
