/*
 * switch_to(prev, next): the context switch, between two tasks' kernel stacks.
 *
 * Register contract: rdi = prev, rsi = next (struct task *; kstack_rsp is at offset 0).
 * Called from schedule() with interrupts off. Saves the callee-saved registers and RFLAGS
 * (RFLAGS carries AC, the SMAP window, which must not leak into the next task) on prev's
 * kernel stack, stores RSP in prev->kstack_rsp, loads next->kstack_rsp and pops next's.
 * Returns prev in rax, so the code that resumes in next knows where it came from.
 *
 * The context frame, lowest address first (what kstack_rsp points at):
 *	rflags, r15, r14, r13, r12, rbx, rbp, return address
 */
#define TASK_KSTACK_RSP 0

	.text
	.globl switch_to
switch_to:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushfq
	movq %rsp, TASK_KSTACK_RSP(%rdi)	/* prev->kstack_rsp */
	movq TASK_KSTACK_RSP(%rsi), %rsp	/* next->kstack_rsp */
	popfq
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	movq %rdi, %rax
	ret

/*
 * First code a new task runs: task_create() builds a context frame whose return address
 * is this label, with the function in rbx and its argument in r12. The previous task is in
 * rax (switch_to's return value). When fn returns (a user task after exec or fork), the
 * task leaves the kernel through the pt_regs at the top of its stack.
 */
	.globl task_entry
task_entry:
	movq %rax, %rdi
	call schedule_tail			/* finish the switch: unlock, enable interrupts */
	movq %r12, %rdi
	call *%rbx
	cli
	movq %rsp, %rdi
	call task_exit_to_user			/* exit work; returns with interrupts off */
	jmp return_via_iret

/*
 * irq_stack_call(fn, regs, stack_top): run fn(regs) on another stack (the per-CPU interrupt
 * stack) and come back. rbx keeps the old RSP across the call (callee-saved).
 */
	.globl irq_stack_call
irq_stack_call:
	pushq %rbp
	movq %rsp, %rbp
	pushq %rbx
	movq %rsp, %rbx
	movq %rdx, %rsp
	movq %rdi, %rax
	movq %rsi, %rdi
	call *%rax
	movq %rbx, %rsp
	popq %rbx
	popq %rbp
	ret
