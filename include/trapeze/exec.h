// Starting programs (kernel/exec.c) and the fork family (kernel/fork.c).
#pragma once

#include <trapeze/types.h>

struct task;

// Replace the current task's program, with kernel strings (used to start init).
// 0 on success (the task's user pt_regs now start the new program), else -errno and the
// caller is unchanged.
int exec_kernel(const char *path, const char *const argv[], const char *const envp[]);

// A vfork parent sleeps until its child execs or exits; both call this.
void vfork_release(struct task *child);
