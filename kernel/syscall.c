// System call dispatch through the one table generated from kernel/syscall_64.tbl.
// Numbers outside the table, or holes in it, return -ENOSYS, as Linux does.
#include <trapeze/printk.h>
#include <trapeze/syscall.h>
#include <asm/pt_regs.h>
#include <uapi/errno.h>
#include <syscall_table.h>

typedef long (*syscall_fn_t)(long, long, long, long, long, long);

// Handlers are defined with their real Linux argument types (declared here without a
// prototype, which is compatible with any of them); the table calls them with six
// 64-bit registers, which the x86-64 calling convention makes safe (unused ones are ignored,
// narrower ones read their low bits).
#define X(nr, name) long sys_##name();
SYSCALL_LIST(X)
#undef X

static const syscall_fn_t syscall_table[NR_SYSCALLS] = {
#define X(nr, name) [nr] = (syscall_fn_t)(void (*)(void))sys_##name,
	SYSCALL_LIST(X)
#undef X
};

void syscall_dispatch(struct pt_regs *regs)
{
	uint64_t nr = regs->orig_rax;

	if (nr >= NR_SYSCALLS || !syscall_table[nr]) {
		regs->rax = (uint64_t)-ENOSYS;
		return;
	}
	// The fourth argument travels in R10 because SYSCALL overwrites RCX.
	regs->rax = (uint64_t)syscall_table[nr](regs->rdi, regs->rsi, regs->rdx, regs->r10,
						regs->r8, regs->r9);
}
