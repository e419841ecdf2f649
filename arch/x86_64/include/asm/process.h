// Architecture hooks for starting and copying user contexts.
#pragma once

#include <trapeze/types.h>

struct pt_regs;
struct task;

// Make regs a fresh user context that starts at entry with stack pointer sp: user
// segments, interrupts on, every general register zero; also resets the current task's
// FPU/SSE state and FS/GS bases (execve semantics). Context: the current task.
void arch_setup_user_regs(struct pt_regs *regs, uintptr_t entry, uintptr_t sp);
// The AT_HWCAP value (CPUID.1:EDX, as Linux reports it).
uint64_t arch_hwcap(void);
