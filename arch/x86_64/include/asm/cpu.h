// The per-CPU area, reached through the GS base while in the kernel. The entry code
// depends on the first fields' offsets (checked with _Static_assert in cpu.c).
#pragma once

#define CPU_SELF 0
#define CPU_KERNEL_RSP 8 // top of the running task's kernel stack (syscall entry loads it)
#define CPU_USER_RSP 16  // user RSP parked here by syscall entry until pt_regs exists
#define CPU_CURRENT 24   // the running task

#ifndef __ASSEMBLY__
#include <trapeze/types.h>

struct task;
struct tss;

struct cpu {
	struct cpu *self;
	uint64_t kernel_rsp;
	uint64_t user_rsp;
	struct task *running; // the task on this CPU (read through `current`)
	int id;
	int irq_nesting;       // > 0 while running an interrupt handler
	uintptr_t irq_stack_top; // the per-CPU interrupt stack
	struct tss *tss;
	bool need_resched;     // set by the timer and by wake-ups; checked on the way out
	uint64_t ticks;        // timer interrupts taken on this CPU
	// Where those ticks landed (for /proc/stat and uptime), counted by the timer handler.
	uint64_t user_ticks, system_ticks, idle_ticks;
};

extern struct cpu boot_cpu;

static inline struct cpu *this_cpu(void)
{
	struct cpu *c;
	__asm__ volatile("movq %%gs:0, %0" : "=r"(c));
	return c;
}

static inline struct task *get_current(void)
{
	struct task *t;
	__asm__ volatile("movq %%gs:24, %0" : "=r"(t));
	return t;
}
#define current get_current()

static inline bool in_interrupt(void)
{
	return this_cpu()->irq_nesting > 0;
}

// CPU features found at boot (cpu.c).
struct cpu_features {
	bool nx, smep, smap, umip, pge, pdpe1gb, fsgsbase, xsave, invariant_tsc;
	uint32_t xsave_size; // bytes for the FPU/SSE/AVX save area
	char vendor[13];
};
extern struct cpu_features cpu_features;

void cpu_init(void);
#endif
