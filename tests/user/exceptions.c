// CPU exceptions raised in user mode end the process with the signal Linux sends, and
// nothing else: the kernel survives, the parent sees WIFSIGNALED with that signal.
//  #DE -> SIGFPE; #PF and #GP from bad accesses -> SIGSEGV; #GP from privileged
//  instructions and from `int` on a kernel-only vector -> SIGSEGV; #UD -> SIGILL;
//  #BP -> SIGTRAP.
// Each fault happens in a forked grandchild, in inline assembly the compiler cannot drop.

#include "tap.h"

#include <stdint.h>
#include <sys/mman.h>

#define PAGE_SIZE 4096

// A child body that executes insns; it only returns if the CPU did not fault.
#define FAULT_CHILD(name, insns, ...)                                                 \
	static void name(void)                                                        \
	{                                                                             \
		__asm__ volatile(insns ::: __VA_ARGS__);                              \
	}

// Loads through the address in RCX, and calls to it.
#define LOAD_FROM(name, addr) \
	FAULT_CHILD(name, "movabs $" #addr ", %%rcx\n\tmov (%%rcx), %%rax", "rax", "rcx", "memory")
#define CALL_TO(name, addr) \
	FAULT_CHILD(name, "movabs $" #addr ", %%rax\n\tcall *%%rax", "rax", "memory")

FAULT_CHILD(child_div_zero, "xor %%edx, %%edx\n\tmov $1, %%eax\n\txor %%ecx, %%ecx\n\tdiv %%rcx",
	    "rax", "rcx", "rdx")
FAULT_CHILD(child_idiv_overflow,
	    "movabs $0x8000000000000000, %%rax\n\tcqo\n\tmov $-1, %%rcx\n\tidiv %%rcx",
	    "rax", "rcx", "rdx")

LOAD_FROM(child_load_null, 0)
LOAD_FROM(child_load_kernel_text, 0xffffffff80000000)
LOAD_FROM(child_load_kernel_half, 0xffff800000000000)
LOAD_FROM(child_load_noncanonical_low, 0x0000800000000000)
LOAD_FROM(child_load_noncanonical_high, 0x8000000000000000)
CALL_TO(child_call_null, 0)
CALL_TO(child_call_kernel, 0xffffffff80000000)
CALL_TO(child_call_noncanonical, 0x0000800000000000)

FAULT_CHILD(child_hlt, "hlt")
FAULT_CHILD(child_cli, "cli")
FAULT_CHILD(child_sti, "sti")
FAULT_CHILD(child_in, "in $0x60, %%al", "rax")
FAULT_CHILD(child_out, "mov $0x41, %%al\n\tout %%al, $0x80", "rax")
FAULT_CHILD(child_in_dx, "mov $0x3f8, %%dx\n\tin %%dx, %%al", "rax", "rdx")
FAULT_CHILD(child_out_dx, "mov $0x3f8, %%dx\n\tmov $0x41, %%al\n\tout %%al, %%dx", "rax", "rdx")
FAULT_CHILD(child_write_cr3, "xor %%eax, %%eax\n\tmov %%rax, %%cr3", "rax")
FAULT_CHILD(child_read_cr0, "mov %%cr0, %%rax", "rax")
FAULT_CHILD(child_wrmsr, "xor %%eax, %%eax\n\txor %%edx, %%edx\n\tmov $0xc0000100, %%ecx\n\twrmsr",
	    "rax", "rcx", "rdx")
FAULT_CHILD(child_rdmsr, "mov $0xc0000100, %%ecx\n\trdmsr", "rax", "rcx", "rdx")
FAULT_CHILD(child_invlpg, "invlpg (%%rsp)", "memory")
FAULT_CHILD(child_lgdt, "sub $16, %%rsp\n\tlgdt (%%rsp)\n\tadd $16, %%rsp", "memory")
FAULT_CHILD(child_lidt, "sub $16, %%rsp\n\tlidt (%%rsp)\n\tadd $16, %%rsp", "memory")
FAULT_CHILD(child_ltr, "xor %%eax, %%eax\n\tltr %%ax", "rax")
FAULT_CHILD(child_clts, "clts")
FAULT_CHILD(child_wbinvd, "wbinvd")
FAULT_CHILD(child_swapgs, "swapgs")
FAULT_CHILD(child_sysret, "sysretq")

FAULT_CHILD(child_int_gp, "int $0x0d")
FAULT_CHILD(child_int_pf, "int $0x0e")
FAULT_CHILD(child_int_0x20, "int $0x20")

FAULT_CHILD(child_ud2, "ud2")
FAULT_CHILD(child_into, ".byte 0xce")	// `into`: invalid in 64-bit mode
FAULT_CHILD(child_int3, "int3")
FAULT_CHILD(child_int_3, ".byte 0xcd, 0x03")	// the two-byte `int $3`

static void child_load_unmapped(void)
{
	char *page = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);

	if (page == MAP_FAILED || munmap(page, PAGE_SIZE) != 0)
		_exit(2);
	__asm__ volatile("mov (%0), %%al" : : "r"(page) : "rax", "memory");
}

static void child_store_readonly(void)
{
	char *page = mmap(NULL, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (page == MAP_FAILED)
		_exit(2);
	__asm__ volatile("movb $1, (%0)" : : "r"(page) : "memory");
}

static void child_store_code(void)
{
	__asm__ volatile("movb $0xc3, (%0)" : : "r"((uintptr_t)child_hlt) : "memory");
}

// A `ret` in a readable, writable, not executable page.
static void child_exec_noexec(void)
{
	unsigned char *page = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (page == MAP_FAILED)
		_exit(2);
	page[0] = 0xc3;
	__asm__ volatile("call *%0" : : "r"(page) : "memory");
}

static void test_divide_error(void)
{
	TAP_CHECK_KILLED_BY(child_div_zero, SIGFPE);
	TAP_CHECK_KILLED_BY(child_idiv_overflow, SIGFPE);
}

static void test_load_null(void)
{
	TAP_CHECK_KILLED_BY(child_load_null, SIGSEGV);
}

static void test_load_unmapped(void)
{
	TAP_CHECK_KILLED_BY(child_load_unmapped, SIGSEGV);
}

static void test_load_kernel(void)
{
	TAP_CHECK_KILLED_BY(child_load_kernel_text, SIGSEGV);
	TAP_CHECK_KILLED_BY(child_load_kernel_half, SIGSEGV);
}

static void test_load_noncanonical(void)
{
	TAP_CHECK_KILLED_BY(child_load_noncanonical_low, SIGSEGV);
	TAP_CHECK_KILLED_BY(child_load_noncanonical_high, SIGSEGV);
}

static void test_store_readonly(void)
{
	TAP_CHECK_KILLED_BY(child_store_readonly, SIGSEGV);
	TAP_CHECK_KILLED_BY(child_store_code, SIGSEGV);
}

static void test_bad_jumps(void)
{
	TAP_CHECK_KILLED_BY(child_call_null, SIGSEGV);
	TAP_CHECK_KILLED_BY(child_call_kernel, SIGSEGV);
	TAP_CHECK_KILLED_BY(child_call_noncanonical, SIGSEGV);
}

static void test_exec_noexec(void)
{
	TAP_CHECK_KILLED_BY(child_exec_noexec, SIGSEGV);
}

static void test_hlt(void)
{
	TAP_CHECK_KILLED_BY(child_hlt, SIGSEGV);
}

static void test_cli_sti(void)
{
	TAP_CHECK_KILLED_BY(child_cli, SIGSEGV);
	TAP_CHECK_KILLED_BY(child_sti, SIGSEGV);
}

// User mode has IOPL 0 and no I/O permission bitmap: every port is closed.
static void test_port_io(void)
{
	TAP_CHECK_KILLED_BY(child_in, SIGSEGV);
	TAP_CHECK_KILLED_BY(child_out, SIGSEGV);
	TAP_CHECK_KILLED_BY(child_in_dx, SIGSEGV);
	TAP_CHECK_KILLED_BY(child_out_dx, SIGSEGV);
}

static void test_control_registers(void)
{
	TAP_CHECK_KILLED_BY(child_write_cr3, SIGSEGV);
	TAP_CHECK_KILLED_BY(child_read_cr0, SIGSEGV);
}

static void test_msr(void)
{
	TAP_CHECK_KILLED_BY(child_wrmsr, SIGSEGV);
	TAP_CHECK_KILLED_BY(child_rdmsr, SIGSEGV);
}

static void test_other_privileged(void)
{
	TAP_CHECK_KILLED_BY(child_invlpg, SIGSEGV);
	TAP_CHECK_KILLED_BY(child_lgdt, SIGSEGV);
	TAP_CHECK_KILLED_BY(child_lidt, SIGSEGV);
	TAP_CHECK_KILLED_BY(child_ltr, SIGSEGV);
	TAP_CHECK_KILLED_BY(child_clts, SIGSEGV);
	TAP_CHECK_KILLED_BY(child_wbinvd, SIGSEGV);
	TAP_CHECK_KILLED_BY(child_swapgs, SIGSEGV);
	TAP_CHECK_KILLED_BY(child_sysret, SIGSEGV);
}

// Only the breakpoint vector (3) may be raised from user mode with `int`; the gates of
// exceptions and interrupts have DPL 0, so `int $n` on them is a #GP.
static void test_int_kernel_vectors(void)
{
	TAP_CHECK_KILLED_BY(child_int_gp, SIGSEGV);
	TAP_CHECK_KILLED_BY(child_int_pf, SIGSEGV);
	TAP_CHECK_KILLED_BY(child_int_0x20, SIGSEGV);
}

static void test_invalid_opcode(void)
{
	TAP_CHECK_KILLED_BY(child_ud2, SIGILL);
	TAP_CHECK_KILLED_BY(child_into, SIGILL);
}

static void test_breakpoint(void)
{
	TAP_CHECK_KILLED_BY(child_int3, SIGTRAP);
	TAP_CHECK_KILLED_BY(child_int_3, SIGTRAP);
}

static const struct tap_test tests[] = {
	{ "divide error raises SIGFPE", test_divide_error },
	{ "load from NULL raises SIGSEGV", test_load_null },
	{ "load from an unmapped page raises SIGSEGV", test_load_unmapped },
	{ "load from kernel addresses raises SIGSEGV", test_load_kernel },
	{ "load from non-canonical addresses raises SIGSEGV", test_load_noncanonical },
	{ "store to read-only memory raises SIGSEGV", test_store_readonly },
	{ "jumps to NULL, kernel and non-canonical addresses raise SIGSEGV", test_bad_jumps },
	{ "executing a non-executable page raises SIGSEGV", test_exec_noexec },
	{ "hlt raises SIGSEGV", test_hlt },
	{ "cli and sti raise SIGSEGV", test_cli_sti },
	{ "in and out raise SIGSEGV", test_port_io },
	{ "control register access raises SIGSEGV", test_control_registers },
	{ "rdmsr and wrmsr raise SIGSEGV", test_msr },
	{ "other privileged instructions raise SIGSEGV", test_other_privileged },
	{ "int on kernel vectors raises SIGSEGV", test_int_kernel_vectors },
	{ "invalid opcodes raise SIGILL", test_invalid_opcode },
	{ "int3 raises SIGTRAP", test_breakpoint },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
