// The system call table. kernel/syscall_64.tbl lists every implemented call with its Linux
// number; tools/gensyscalls turns it into build/gen/syscall_table.h. A handler is
//	long sys_<name>(args...)
// with the Linux argument types; it returns a value or -errno, which lands in RAX unchanged.
#pragma once

#include <trapeze/types.h>

struct pt_regs;

// Dispatch regs->orig_rax with the six argument registers; store the result in regs->rax.
// Context: process context, interrupts enabled.
void syscall_dispatch(struct pt_regs *regs);

// The pt_regs of the current task's entry from user mode (top of its kernel stack).
struct pt_regs *current_user_regs(void);
