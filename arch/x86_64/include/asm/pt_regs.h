// The registers of an interrupted context, as the entry code saves them on the kernel
// stack. Every entry from user mode (syscall, exception, interrupt) leaves exactly one
// struct pt_regs at the very top of the task's kernel stack; an interrupt taken in kernel
// mode pushes another one wherever the kernel stack pointer was.
//
//	high addresses  (top of kernel stack)
//	  ss            -+
//	  rsp            |  pushed by the CPU on an interrupt/exception,
//	  rflags         |  by entry.S on syscall (rflags = r11, rip = rcx)
//	  cs             |
//	  rip           -+
//	  orig_rax      the syscall number; -1 for exceptions and interrupts (the C code
//	                reads the exception's error code from it first)
//	  rax rbx rcx rdx rsi rdi rbp r8 ... r15   pushed by entry.S
//	low addresses   <- struct pt_regs *regs
//
// The offsets are shared with entry.S through asm-offsets checks (arch/x86_64/traps.c).
#pragma once

#ifndef __ASSEMBLY__
#include <trapeze/types.h>

struct pt_regs {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t orig_rax; // syscall number, or -1 (exceptions, interrupts): nothing to restart
	// The hardware interrupt frame.
	uint64_t rip, cs, rflags, rsp, ss;
};

static inline bool user_mode(const struct pt_regs *regs)
{
	return (regs->cs & 3) == 3;
}
#endif

#define PTREGS_R15 0
#define PTREGS_R11 32
#define PTREGS_RCX 96
#define PTREGS_RAX 112
#define PTREGS_ORIG_RAX 120
#define PTREGS_RIP 128
#define PTREGS_CS 136
#define PTREGS_RFLAGS 144
#define PTREGS_RSP 152
#define PTREGS_SS 160
#define PTREGS_SIZE 168
