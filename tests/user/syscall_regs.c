// The register contract of the `syscall` instruction on Linux x86-64:
//  - every register except RAX, RCX and R11 comes back unchanged;
//  - RAX holds the result, -4095..-1 for errors; unknown numbers give -ENOSYS;
//  - RCX holds the address of the instruction after `syscall`, R11 the RFLAGS the program
//    had (RF clear), and RFLAGS itself is restored, including DF.
// regs_probe() below fills every register with a distinct pattern, makes the call and
// records what came back, so that a kernel that clobbers any register shows up here.

#include "tap.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

// What regs_probe() records. Offsets are used by the assembly below.
struct regs_snapshot {
	unsigned long rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
	unsigned long r8, r9, r10, r11, r12, r13, r14, r15;
	unsigned long flags;
};
_Static_assert(sizeof(struct regs_snapshot) == 17 * 8, "offsets used by regs_probe");

// Distinct patterns with the upper halves set, so that a kernel saving only 32 bits or
// swapping two registers is caught. RCX and R11 are loaded too, to see that they change.
#define PAT_RBX 0x1b1b1b1b01234567
#define PAT_RCX 0x1c1c1c1c01234567
#define PAT_RDX 0x1d1d1d1d01234567
#define PAT_RSI 0x5151515101234567
#define PAT_RDI 0xd1d1d1d101234567
#define PAT_RBP 0xb9b9b9b901234567
#define PAT_R8 0x0808080801234567
#define PAT_R9 0x0909090901234567
#define PAT_R10 0x1010101001234567
#define PAT_R11 0x1111111101234567
#define PAT_R12 0x1212121201234567
#define PAT_R13 0x1313131301234567
#define PAT_R14 0x1414141401234567
#define PAT_R15 0x1515151501234567

#define X86_FLAGS_CF 0x0001UL
#define X86_FLAGS_FIXED 0x0002UL	// always reads as 1
#define X86_FLAGS_PF 0x0004UL
#define X86_FLAGS_AF 0x0010UL
#define X86_FLAGS_ZF 0x0040UL
#define X86_FLAGS_SF 0x0080UL
#define X86_FLAGS_IF 0x0200UL
#define X86_FLAGS_DF 0x0400UL
#define X86_FLAGS_OF 0x0800UL
#define X86_FLAGS_NT 0x4000UL
#define X86_FLAGS_RF 0x10000UL
#define X86_FLAGS_AC 0x40000UL
#define X86_FLAGS_ID 0x200000UL

#define STR_(x) #x
#define STR(x) STR_(x)

struct regs_snapshot regs_after;	// registers right after `syscall`
unsigned long regs_flags_before;	// RFLAGS right before `syscall`
unsigned long regs_rsp_before;		// RSP right before `syscall`
extern const char regs_probe_ret[];	// the instruction after `syscall`

// void regs_probe(long nr, unsigned long flags): load flags into RFLAGS and the patterns
// into every other register, execute `syscall` with RAX = nr, store every register into
// regs_after, then restore the callee-saved registers and a clean RFLAGS (DF clear).
void regs_probe(long nr, unsigned long flags);
__asm__(".text\n"
	".globl regs_probe\n"
	".type regs_probe, @function\n"
	"regs_probe:\n"
	"	push %rbx\n"
	"	push %rbp\n"
	"	push %r12\n"
	"	push %r13\n"
	"	push %r14\n"
	"	push %r15\n"
	"	mov %rdi, %rax\n"
	"	push %rsi\n"
	"	popfq\n"
	// From here to `syscall` only mov/push/pop: none of them changes RFLAGS.
	"	pushfq\n"
	"	popq regs_flags_before(%rip)\n"
	"	mov %rsp, regs_rsp_before(%rip)\n"
	"	movabs $" STR(PAT_RBX) ", %rbx\n"
	"	movabs $" STR(PAT_RCX) ", %rcx\n"
	"	movabs $" STR(PAT_RDX) ", %rdx\n"
	"	movabs $" STR(PAT_RSI) ", %rsi\n"
	"	movabs $" STR(PAT_RDI) ", %rdi\n"
	"	movabs $" STR(PAT_RBP) ", %rbp\n"
	"	movabs $" STR(PAT_R8) ", %r8\n"
	"	movabs $" STR(PAT_R9) ", %r9\n"
	"	movabs $" STR(PAT_R10) ", %r10\n"
	"	movabs $" STR(PAT_R11) ", %r11\n"
	"	movabs $" STR(PAT_R12) ", %r12\n"
	"	movabs $" STR(PAT_R13) ", %r13\n"
	"	movabs $" STR(PAT_R14) ", %r14\n"
	"	movabs $" STR(PAT_R15) ", %r15\n"
	"	syscall\n"
	".globl regs_probe_ret\n"
	"regs_probe_ret:\n"
	"	mov %rax, regs_after+0(%rip)\n"
	"	mov %rbx, regs_after+8(%rip)\n"
	"	mov %rcx, regs_after+16(%rip)\n"
	"	mov %rdx, regs_after+24(%rip)\n"
	"	mov %rsi, regs_after+32(%rip)\n"
	"	mov %rdi, regs_after+40(%rip)\n"
	"	mov %rbp, regs_after+48(%rip)\n"
	"	mov %rsp, regs_after+56(%rip)\n"
	"	mov %r8, regs_after+64(%rip)\n"
	"	mov %r9, regs_after+72(%rip)\n"
	"	mov %r10, regs_after+80(%rip)\n"
	"	mov %r11, regs_after+88(%rip)\n"
	"	mov %r12, regs_after+96(%rip)\n"
	"	mov %r13, regs_after+104(%rip)\n"
	"	mov %r14, regs_after+112(%rip)\n"
	"	mov %r15, regs_after+120(%rip)\n"
	"	pushfq\n"
	"	popq regs_after+128(%rip)\n"
	"	push $" STR(X86_FLAGS_FIXED) "\n"
	"	popfq\n"
	"	pop %r15\n"
	"	pop %r14\n"
	"	pop %r13\n"
	"	pop %r12\n"
	"	pop %rbp\n"
	"	pop %rbx\n"
	"	ret\n"
	".size regs_probe, .-regs_probe\n");

#define CHECK_REG(reg, pattern) TAP_CHECK_EQ(regs_after.reg, (unsigned long)(pattern))

// Run nr with the given RFLAGS and check the whole contract; the result must be want_rax.
static void check_probe(long nr, unsigned long flags, long want_rax)
{
	regs_probe(nr, flags);
	TAP_CHECK_EQ(regs_after.rax, want_rax);
	CHECK_REG(rbx, PAT_RBX);
	CHECK_REG(rdx, PAT_RDX);
	CHECK_REG(rsi, PAT_RSI);
	CHECK_REG(rdi, PAT_RDI);
	CHECK_REG(rbp, PAT_RBP);
	CHECK_REG(rsp, regs_rsp_before);
	CHECK_REG(r8, PAT_R8);
	CHECK_REG(r9, PAT_R9);
	CHECK_REG(r10, PAT_R10);
	CHECK_REG(r12, PAT_R12);
	CHECK_REG(r13, PAT_R13);
	CHECK_REG(r14, PAT_R14);
	CHECK_REG(r15, PAT_R15);
	CHECK_REG(rcx, (unsigned long)regs_probe_ret);
	CHECK_REG(r11, regs_flags_before);
	CHECK_REG(flags, regs_flags_before);
	// The flags requested really were in effect, so the comparisons above mean something.
	TAP_CHECK_EQ(regs_flags_before & ~X86_FLAGS_IF, flags | X86_FLAGS_FIXED);
	TAP_CHECK(regs_flags_before & X86_FLAGS_IF);	// user mode always runs with IF set
	TAP_CHECK(!(regs_after.r11 & X86_FLAGS_RF));
}

static void test_regs_getpid(void)
{
	check_probe(SYS_getpid, X86_FLAGS_CF, getpid());
}

static void test_regs_enosys(void)
{
	check_probe(500, X86_FLAGS_CF | X86_FLAGS_ZF, -ENOSYS);
}

// close() takes an unsigned int: the low half of PAT_RDI, 0x01234567, is no open fd.
static void test_regs_error(void)
{
	check_probe(SYS_close, X86_FLAGS_SF | X86_FLAGS_PF, -EBADF);
}

// sched_yield may switch to another task and back: the registers must still survive.
static void test_regs_yield(void)
{
	for (int i = 0; i < 20 && !tap_failures; i++)
		check_probe(SYS_sched_yield, i % 2 ? X86_FLAGS_CF : X86_FLAGS_OF, 0);
}

// Every flag user mode may set: the kernel masks them for itself (FMASK) and must give all
// of them back in R11 and RFLAGS.
static void test_regs_all_flags(void)
{
	const unsigned long flags = X86_FLAGS_CF | X86_FLAGS_PF | X86_FLAGS_AF | X86_FLAGS_ZF |
				    X86_FLAGS_SF | X86_FLAGS_DF | X86_FLAGS_OF | X86_FLAGS_NT |
				    X86_FLAGS_AC | X86_FLAGS_ID;

	check_probe(SYS_getpid, flags, getpid());
	check_probe(SYS_getpid, 0, getpid());
}

// With DF set in user mode the kernel must still copy forwards (it clears DF on entry):
// uname() with DF set must fill in the same bytes as without.
static void test_df_set_copy(void)
{
	struct utsname want, got;
	long ret;

	memset(&got, 0, sizeof(got));
	TAP_REQUIRE(uname(&want) == 0);
	__asm__ volatile("std\n\t"
			 "syscall\n\t"
			 "cld"
			 : "=a"(ret)
			 : "a"((long)SYS_uname), "D"(&got)
			 : "rcx", "r11", "memory");
	TAP_CHECK_EQ(ret, 0);
	TAP_CHECK(memcmp(&want, &got, sizeof(want)) == 0);
}

static void test_unknown_enosys(void)
{
	// Above the table, INT_MAX, and values whose low 32 bits are negative as an int.
	static const long numbers[] = { 500, 512, 1000, 4096, 0x7fffffff, 0x80000000L,
					0xffffffffL, -1L, -100L };

	for (size_t i = 0; i < TAP_COUNT(numbers); i++) {
		long ret = tap_syscall0(numbers[i]);

		if (ret != -ENOSYS)
			tap_fail_at(__FILE__, __LINE__, "syscall %#lx returned %ld, want -ENOSYS",
				    numbers[i], ret);
	}
}

// Linux since 5.x treats the number as an int, so 0x100000000 + 39 is getpid; older Linux
// answered -ENOSYS. Either is correct; anything else (a crash, a wild table index) is not.
static void test_huge_number(void)
{
	long ret = tap_syscall0(0x100000000L + SYS_getpid);

	if (ret != -ENOSYS && ret != getpid())
		tap_fail_at(__FILE__, __LINE__, "syscall 0x100000027 returned %ld, want -ENOSYS "
			    "or the pid %d", ret, getpid());
}

// Each failing call returns -errno in RAX as a full 64-bit value within -4095..-1.
static void test_error_range(void)
{
	struct stat st;
	struct {
		const char *what;
		long ret, want;
	} calls[] = {
		{ "close(-1)", tap_syscall1(SYS_close, -1), -EBADF },
		{ "read(-1)", tap_syscall3(SYS_read, -1, 0, 0), -EBADF },
		{ "write(999)", tap_syscall3(SYS_write, 999, (long)"x", 1), -EBADF },
		{ "open(missing)", tap_syscall3(SYS_open, (long)"/no-such-file", O_RDONLY, 0),
		  -ENOENT },
		{ "open(\"/\", O_WRONLY)", tap_syscall3(SYS_open, (long)"/", O_WRONLY, 0),
		  -EISDIR },
		{ "stat(/dev/null/x)", tap_syscall2(SYS_stat, (long)"/dev/null/x", (long)&st),
		  -ENOTDIR },
		{ "syscall 500", tap_syscall0(500), -ENOSYS },
	};

	for (size_t i = 0; i < TAP_COUNT(calls); i++) {
		unsigned long raw = (unsigned long)calls[i].ret;

		if (raw < (unsigned long)-4095L || calls[i].ret != calls[i].want)
			tap_fail_at(__FILE__, __LINE__, "%s returned %#lx, want %ld", calls[i].what,
				    raw, calls[i].want);
	}
}

static const struct tap_test tests[] = {
	{ "getpid preserves all registers but RAX, RCX, R11", test_regs_getpid },
	{ "an unknown syscall preserves all registers", test_regs_enosys },
	{ "a failing syscall preserves all registers", test_regs_error },
	{ "sched_yield preserves all registers", test_regs_yield },
	{ "R11 and RFLAGS keep every user-settable flag", test_regs_all_flags },
	{ "syscalls copy correctly with DF set in user mode", test_df_set_copy },
	{ "unknown syscall numbers give -ENOSYS", test_unknown_enosys },
	{ "syscall 0x100000027 gives -ENOSYS or getpid", test_huge_number },
	{ "errors come back as -4095..-1", test_error_range },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
