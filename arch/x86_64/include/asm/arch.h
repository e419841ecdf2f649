// Declarations shared between the arch code and the core kernel that do not belong to one
// hardware unit: entry points in the .S files and the boot-time setup calls.
#pragma once

#include <trapeze/types.h>

struct pt_regs;
struct task;

// entry.S / switch.S
void syscall_entry(void);
void return_via_iret(void);
void task_entry(void);
// Switch kernel stacks from prev to next; returns (in next's context) the task that ran
// before it. Context: schedule(), interrupts off.
struct task *switch_to(struct task *prev, struct task *next);
void irq_stack_call(void (*fn)(void *), void *arg, uintptr_t stack_top);

// idt.c / traps.c
bool irq_call_handler(struct pt_regs *regs, int vector);
void trap_dispatch(struct pt_regs *regs, uint64_t vector);
extern uint64_t nmi_count; // NMIs taken (each is also logged)

// cpu.c
extern bool smap_enabled;
void cpu_early_init(struct task *boot_task);
void cpu_set_kernel_stack(uintptr_t top);
void cpu_guarded_stacks_init(void);

// multiboot.c
void multiboot_parse(uint32_t magic, uint32_t mbi_phys);

// syscall.c: program STAR/LSTAR/FMASK.
void syscall_init(void);

// fpu.c: per-task FPU/SSE state (fxsave format, 512 bytes, 16-byte aligned).
#define FPU_STATE_SIZE 512
void fpu_init_state(void *area); // the state a new program starts with
void fpu_save(void *area);
void fpu_restore(const void *area);

// power.c
__noreturn void machine_power_off(int status);
__noreturn void machine_halt_on_panic(void);
