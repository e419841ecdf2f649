// Kernel panics: say what broke, where, and in which task, then stop the machine.
// Output goes to the log port without locks (the panicking context may hold them).
#include <trapeze/format.h>
#include <trapeze/ksyms.h>
#include <trapeze/mm.h>
#include <trapeze/panic.h>
#include <trapeze/printk.h>
#include <trapeze/task.h>
#include <asm/arch.h>
#include <asm/cpu.h>
#include <asm/pt_regs.h>
#include <asm/x86.h>

volatile bool panic_in_progress;

#define BACKTRACE_MAX 32

static void print_symbol(const char *prefix, uint64_t addr)
{
	uint64_t off;
	const char *name = ksym_lookup(addr, &off);

	if (name)
		printk(LOG_EMERG, "%s%#018lx %s+%#lx\n", prefix, (unsigned long)addr, name,
		       (unsigned long)off);
	else
		printk(LOG_EMERG, "%s%#018lx ?\n", prefix, (unsigned long)addr);
}

// Walk the frame-pointer chain: each frame holds [saved rbp][return address]. Stops at a
// null or misaligned rbp, or one outside the kernel half.
void dump_backtrace(uint64_t rbp, uint64_t rip)
{
	printk(LOG_EMERG, "Backtrace:\n");
	print_symbol("  ", rip);
	for (int i = 0; i < BACKTRACE_MAX; i++) {
		uint64_t *frame = (uint64_t *)rbp;

		if (!rbp || (rbp & 7) || rbp < DIRECT_MAP_BASE)
			break;
		if (!frame[1])
			break;
		print_symbol("  ", frame[1] - 1);
		rbp = frame[0];
	}
}

static void dump_regs(const struct pt_regs *r)
{
	printk(LOG_EMERG, "RIP: %04lx:%016lx RFLAGS: %016lx\n", (unsigned long)r->cs,
	       (unsigned long)r->rip, (unsigned long)r->rflags);
	printk(LOG_EMERG, "RSP: %04lx:%016lx ORIG_RAX: %016lx\n", (unsigned long)r->ss,
	       (unsigned long)r->rsp, (unsigned long)r->orig_rax);
	printk(LOG_EMERG, "RAX: %016lx RBX: %016lx RCX: %016lx\n", (unsigned long)r->rax,
	       (unsigned long)r->rbx, (unsigned long)r->rcx);
	printk(LOG_EMERG, "RDX: %016lx RSI: %016lx RDI: %016lx\n", (unsigned long)r->rdx,
	       (unsigned long)r->rsi, (unsigned long)r->rdi);
	printk(LOG_EMERG, "RBP: %016lx R08: %016lx R09: %016lx\n", (unsigned long)r->rbp,
	       (unsigned long)r->r8, (unsigned long)r->r9);
	printk(LOG_EMERG, "R10: %016lx R11: %016lx R12: %016lx\n", (unsigned long)r->r10,
	       (unsigned long)r->r11, (unsigned long)r->r12);
	printk(LOG_EMERG, "R13: %016lx R14: %016lx R15: %016lx\n", (unsigned long)r->r13,
	       (unsigned long)r->r14, (unsigned long)r->r15);
	printk(LOG_EMERG, "CR2: %016lx CR3: %016lx CR4: %016lx\n", (unsigned long)read_cr2(),
	       (unsigned long)read_cr3(), (unsigned long)read_cr4());
}

static __noreturn void panic_finish(const struct pt_regs *regs, const char *fmt, va_list ap)
{
	char msg[256];
	struct task *t = current;

	local_irq_disable();
	if (panic_in_progress) // a panic while panicking: stop at once
		machine_halt_on_panic();
	panic_in_progress = true;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	printk(LOG_EMERG, "Kernel panic: %s\n", msg);
	if (t)
		printk(LOG_EMERG, "Task: pid %d (%s), preempt_count %d\n", t->pid, t->comm,
		       t->preempt_count);
	if (regs) {
		dump_regs(regs);
		dump_backtrace(regs->rbp, regs->rip);
	} else {
		dump_backtrace((uint64_t)__builtin_frame_address(0),
			       (uint64_t)__builtin_return_address(0));
	}
	printk(LOG_EMERG, "---[ end Kernel panic ]---\n");
	machine_halt_on_panic();
}

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	panic_finish(NULL, fmt, ap);
}

void panic_regs(struct pt_regs *regs, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	panic_finish(regs, fmt, ap);
}
