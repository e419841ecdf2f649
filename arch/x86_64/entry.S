/*
 * Every way into the kernel, and back out. Each path builds a struct pt_regs
 * (asm/pt_regs.h) on the kernel stack, calls C with a pointer to it, and restores it.
 * Decisions (which handler, whether to reschedule, deliver a signal, or leave through
 * SYSRET or IRETQ) are made in C.
 *
 *  - syscall_entry: the SYSCALL instruction (via MSR_LSTAR). The CPU has put the user RIP
 *    in RCX and RFLAGS in R11, masked RFLAGS with MSR_FMASK (so IF=0) and loaded kernel
 *    CS/SS, but left RSP pointing at the user stack.
 *  - isr_stub_N: IDT vector N. The CPU has switched to the task's kernel stack (TSS.RSP0)
 *    if it came from user mode, or to an IST stack for NMI/#DF/#MC, and pushed SS, RSP,
 *    RFLAGS, CS, RIP and, for some exceptions, an error code.
 *
 * GS: user code owns the GS base while it runs; every entry from user mode swaps in the
 * kernel's (swapgs) before C code runs, every exit swaps back. isr_common decides by the
 * saved CS. NMI, #DF and #MC (paranoid_common) cannot: they may interrupt the kernel in
 * the few instructions where GS still holds the user's base (syscall_entry before its
 * swapgs, the exits after theirs), so they read the GS base MSR instead.
 */
#include <asm/cpu.h>
#include <asm/msr.h>
#include <asm/pt_regs.h>
#include <asm/segment.h>

/* Push the general registers in pt_regs order, from rax (highest) down to r15 (lowest). */
.macro PUSH_GPRS_AFTER_RAX
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
.endm

.macro POP_GPRS
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
.endm

	.section .text.entry, "ax"

/* ---- SYSCALL ---------------------------------------------------------------------- */

	.globl syscall_entry
syscall_entry:
	swapgs					/* GS base := this CPU's struct cpu */
	movq %rsp, %gs:CPU_USER_RSP		/* park the user stack pointer */
	movq %gs:CPU_KERNEL_RSP, %rsp		/* top of current task's kernel stack */
	pushq $USER_DS				/* pt_regs.ss */
	pushq %gs:CPU_USER_RSP			/* pt_regs.rsp */
	pushq %r11				/* pt_regs.rflags (saved by SYSCALL) */
	pushq $USER_CS				/* pt_regs.cs */
	pushq %rcx				/* pt_regs.rip (saved by SYSCALL) */
	pushq %rax				/* pt_regs.orig_rax: the system call number */
	pushq %rax				/* pt_regs.rax, overwritten by the result */
	PUSH_GPRS_AFTER_RAX			/* pt_regs.rbx .. r15 */
	xorl %ebp, %ebp				/* end of the kernel backtrace */
	movq %rsp, %rdi
	call syscall_entry_c			/* returns with interrupts off */
	testl %eax, %eax			/* nonzero: the frame allows SYSRET */
	jz return_via_iret
	POP_GPRS				/* rcx = rip and r11 = rflags, checked in C */
	addq $8, %rsp				/* skip orig_rax */
	movq PTREGS_RSP - PTREGS_RIP(%rsp), %rsp	/* the user stack, from pt_regs.rsp */
	swapgs					/* GS base := user's */
	sysretq

/* ---- Exceptions and interrupts ---------------------------------------------------- */

/*
 * One stub per vector. Vectors without a CPU error code push a zero so the frame is the
 * same shape; then the vector number goes on top, where the common code (isr_common, or
 * paranoid_common for the IST vectors) swaps it with rax.
 */
.macro ISR_STUB vector, has_error_code, common=isr_common
	.balign 16
isr_stub_\vector:
	.if \has_error_code == 0
	pushq $0				/* pt_regs.orig_rax (no error code) */
	.endif
	pushq $\vector				/* replaced by rax in the common code */
	jmp \common
.endm

isr_common:
	xchgq %rax, (%rsp)			/* rax = vector; pt_regs.rax = user rax */
	PUSH_GPRS_AFTER_RAX
	testb $3, PTREGS_CS(%rsp)		/* from user mode? */
	jz 1f
	swapgs
1:	cld
	movq %rsp, %rdi				/* trap_dispatch(regs, vector) */
	movq %rax, %rsi
	call trap_dispatch

	.globl return_via_iret
return_via_iret:
	POP_GPRS
	addq $8, %rsp				/* skip orig_rax */
	testb $3, 8(%rsp)			/* returning to user mode? (CS of the iret frame) */
	jz 2f
	swapgs
2:	iretq

/*
 * The IST vectors: NMI, double fault, machine check. Kernel GS bases are upper-half
 * addresses (negative); a user one never is (arch_prctl refuses them), so the sign of the
 * GS base says whether to swapgs, and rbx remembers it for the way out (rbx and r12 are
 * callee-saved, so they survive the C call; POP_GPRS restores the interrupted values).
 * No exit work here: trap_dispatch returns at once for these vectors.
 */

paranoid_common:
	xchgq %rax, (%rsp)			/* rax = vector; pt_regs.rax = interrupted rax */
	PUSH_GPRS_AFTER_RAX
	cld
	movq %rax, %r12				/* r12 = vector, across rdmsr */
	movl $MSR_GS_BASE, %ecx
	rdmsr					/* edx = high half of the GS base */
	xorl %ebx, %ebx				/* rbx = 0: GS is the kernel's, leave it */
	testl %edx, %edx
	js 1f
	swapgs					/* GS was the user's: take the kernel's */
	movl $1, %ebx				/* rbx = 1: give it back on the way out */
1:	movq %rsp, %rdi				/* trap_dispatch(regs, vector) */
	movq %r12, %rsi
	call trap_dispatch
	testl %ebx, %ebx
	jz 2f
	swapgs
2:	POP_GPRS
	addq $8, %rsp				/* skip orig_rax */
	iretq

/* The table of exception stub addresses (vectors 0-31), read by idt.c. */
	.section .rodata
	.balign 8
	.globl exception_stub_table
exception_stub_table:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad isr_stub_\v
	.endr

/*
 * Interrupt stubs for vectors 32-255, each exactly IRQ_STUB_SIZE (16) bytes apart so that
 * idt.c finds vector v's stub at irq_stubs + (v - 32) * 16.
 */
	.section .text.entry, "ax"
	.balign 16
	.globl irq_stubs
irq_stubs:
	.set vec, 32
	.rept 224
	.balign 16
	pushq $0				/* pt_regs.orig_rax */
	pushq $vec				/* replaced by rax in isr_common */
	jmp isr_common
	.set vec, vec + 1
	.endr

/* Exceptions 8, 10-14, 17, 21, 29 and 30 push an error code (SDM vol. 3, table 6-1). */
ISR_STUB 0, 0
ISR_STUB 1, 0
ISR_STUB 2, 0, paranoid_common
ISR_STUB 3, 0
ISR_STUB 4, 0
ISR_STUB 5, 0
ISR_STUB 6, 0
ISR_STUB 7, 0
ISR_STUB 8, 1, paranoid_common
ISR_STUB 9, 0
ISR_STUB 10, 1
ISR_STUB 11, 1
ISR_STUB 12, 1
ISR_STUB 13, 1
ISR_STUB 14, 1
ISR_STUB 15, 0
ISR_STUB 16, 0
ISR_STUB 17, 1
ISR_STUB 18, 0, paranoid_common
ISR_STUB 19, 0
ISR_STUB 20, 0
ISR_STUB 21, 1
ISR_STUB 22, 0
ISR_STUB 23, 0
ISR_STUB 24, 0
ISR_STUB 25, 0
ISR_STUB 26, 0
ISR_STUB 27, 0
ISR_STUB 28, 0
ISR_STUB 29, 1
ISR_STUB 30, 1
ISR_STUB 31, 0
