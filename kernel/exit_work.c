// The last thing the kernel does before returning to user mode, on every path (system
// call, exception, interrupt): switch tasks if the scheduler asked, and deliver pending
// signals. The loop re-checks with interrupts off so that nothing set in between is lost
// on the way out (entry.S restores the user registers with interrupts off).
#include <trapeze/mm.h>
#include <trapeze/sched.h>
#include <trapeze/signal.h>
#include <trapeze/task.h>
#include <asm/cpu.h>
#include <asm/pt_regs.h>
#include <asm/x86.h>

void exit_to_user_mode(struct pt_regs *regs)
{
	for (;;) {
		local_irq_disable();
		if (this_cpu()->need_resched) {
			local_irq_enable();
			schedule();
			continue;
		}
		if (signal_pending_current()) {
			// Each caught signal gets a frame; further ones nest on top, as on Linux.
			local_irq_enable();
			signal_deliver_pending(regs);
			continue;
		}
		if (regs->rip >= USER_END) {
			// A signal handler's address is whatever rt_sigaction was given; IRETQ to a
			// non-canonical RIP would fault in ring 0, a kernel panic. Make it the user's
			// fault instead, as Linux does (its bad-IRET fixup): SIGSEGV, or death if
			// that cannot be handled either.
			local_irq_enable();
			signal_force_fault(SIGSEGV, SI_KERNEL, 0);
			continue;
		}
		return;
	}
}

// The path a new task takes into user mode the first time (switch.S: task_entry).
void task_exit_to_user(struct pt_regs *regs)
{
	exit_to_user_mode(regs);
}
