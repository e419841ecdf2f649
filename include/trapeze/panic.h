// Fatal kernel errors. panic() prints the message, the registers, a symbolised backtrace
// and the current task on the log console, then stops the machine (under test it makes
// QEMU exit with a failure status). Only for broken kernel invariants, never user input.
#pragma once

#include <trapeze/types.h>

struct pt_regs;

// Set once a panic starts: output paths stop taking locks the dead context may hold.
extern volatile bool panic_in_progress;

__noreturn void panic(const char *fmt, ...) __printf(1, 2);
// Panic on behalf of a trap: regs are the registers at the faulting instruction.
__noreturn void panic_regs(struct pt_regs *regs, const char *fmt, ...) __printf(2, 3);
// Print a backtrace starting at the frame pointer rbp (kernel is built with frame pointers).
void dump_backtrace(uint64_t rbp, uint64_t rip);

#define BUG() panic("BUG at %s:%d", __FILE__, __LINE__)
#define BUG_ON(cond)                                                                   \
	do {                                                                           \
		if (unlikely(cond))                                                    \
			panic("BUG_ON(%s) at %s:%d", #cond, __FILE__, __LINE__);       \
	} while (0)
// A kernel invariant; never for checking user input.
#define assert(cond)                                                                   \
	do {                                                                           \
		if (unlikely(!(cond)))                                                 \
			panic("assertion failed: %s at %s:%d", #cond, __FILE__, __LINE__); \
	} while (0)
