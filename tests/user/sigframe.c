// The signal frame and the exceptions behind signals: a CPU exception in user mode reaches
// the handler as the Linux signal with the right si_code and si_addr (SIGSEGV SEGV_MAPERR and
// SEGV_ACCERR, SIGFPE FPE_INTDIV, SIGILL ILL_ILLOPN, SIGTRAP for int3, SIGBUS past the end of
// a mapped file), and the handler can recover with siglongjmp or by returning after fixing
// the cause. The frame: the handler's entry stack alignment, the ucontext's registers (read
// and edited), registers and the red zone of the interrupted code intact after handlers,
// the direction flag cleared for the handler; sigaltstack. A fault whose signal is blocked
// or ignored kills.

#define _GNU_SOURCE
#include "tap.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>

#define PAGE_SIZE 4096
#define NSEC_PER_MSEC 1000000LL
#define REG_HITS_WANTED 20	// signals that must land inside the register loop
#define ALTSTACK_SIZE (64 << 10)

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * NSEC_PER_MSEC };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void set_handler(int sig, void (*handler)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = flags | SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	TAP_REQUIRE(sigaction(sig, &sa, NULL) == 0);
}

static void *map_pages(size_t pages, int prot)
{
	void *p = mmap(NULL, pages * PAGE_SIZE, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	TAP_REQUIRE(p != MAP_FAILED);
	return p;
}

// ---- faults caught by a handler ------------------------------------------------------------

static sigjmp_buf fault_env;
static volatile int fault_sig, fault_code, fault_hits;
static volatile uintptr_t fault_addr, fault_rip;

// Record the fault and leave the faulting code through siglongjmp.
static void fault_escape(int sig, siginfo_t *info, void *ucv)
{
	ucontext_t *uc = ucv;

	fault_hits++;
	fault_sig = sig;
	fault_code = info->si_code;
	fault_addr = (uintptr_t)info->si_addr;
	fault_rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	siglongjmp(fault_env, 1);
}

// The address of the faulting instruction, stored by the asm just before it runs.
static volatile uintptr_t insn_addr;

static void load_byte(uintptr_t addr)
{
	__asm__ volatile("lea 1f(%%rip), %%rax\n\t"
			 "mov %%rax, %[ip]\n"
			 "1:\tmovb (%[p]), %%al"
			 : [ip] "=m"(insn_addr) : [p] "r"(addr) : "rax", "memory");
}

static void store_byte(uintptr_t addr)
{
	__asm__ volatile("lea 1f(%%rip), %%rax\n\t"
			 "mov %%rax, %[ip]\n"
			 "1:\tmovb $1, (%[p])"
			 : [ip] "=m"(insn_addr) : [p] "r"(addr) : "rax", "memory");
}

static void divide_by_zero(void)
{
	__asm__ volatile("lea 1f(%%rip), %%rax\n\t"
			 "mov %%rax, %[ip]\n\t"
			 "xor %%edx, %%edx\n\t"
			 "mov $1, %%eax\n\t"
			 "xor %%ecx, %%ecx\n"
			 "1:\tdiv %%rcx"
			 : [ip] "=m"(insn_addr) : : "rax", "rcx", "rdx", "memory");
}

static void undefined_opcode(void)
{
	__asm__ volatile("lea 1f(%%rip), %%rax\n\t"
			 "mov %%rax, %[ip]\n"
			 "1:\tud2"
			 : [ip] "=m"(insn_addr) : : "rax", "memory");
}

// Run the fault twice (the second time checks that siglongjmp restored the mask, which had
// the signal blocked inside the handler) and check what the handler saw.
#define EXPECT_FAULT(stmt, sig, code, addr)                                           \
	do {                                                                          \
		for (volatile int round_ = 0; round_ < 2; round_++) {                 \
			fault_hits = 0;                                               \
			if (sigsetjmp(fault_env, 1) == 0) {                           \
				stmt;                                                 \
				tap_fail_at(__FILE__, __LINE__, "%s did not fault", #stmt); \
				break;                                                \
			}                                                             \
			TAP_CHECK_EQ(fault_hits, 1);                                  \
			TAP_CHECK_EQ(fault_sig, (sig));                               \
			TAP_CHECK_EQ(fault_code, (code));                             \
			TAP_CHECK_EQ(fault_addr, (addr));                             \
			TAP_CHECK_EQ(fault_rip, insn_addr);                           \
		}                                                                     \
	} while (0)

static void test_segv_maperr(void)
{
	char *page = map_pages(1, PROT_READ | PROT_WRITE);

	TAP_REQUIRE(munmap(page, PAGE_SIZE) == 0);
	set_handler(SIGSEGV, fault_escape, 0);
	EXPECT_FAULT(load_byte((uintptr_t)page + 0x123), SIGSEGV, SEGV_MAPERR,
		     (uintptr_t)page + 0x123);
	EXPECT_FAULT(store_byte((uintptr_t)page + 7), SIGSEGV, SEGV_MAPERR, (uintptr_t)page + 7);
	EXPECT_FAULT(load_byte(0), SIGSEGV, SEGV_MAPERR, 0);
	EXPECT_FAULT(load_byte(16), SIGSEGV, SEGV_MAPERR, 16);
}

static void test_segv_accerr(void)
{
	char *page = map_pages(1, PROT_READ);

	set_handler(SIGSEGV, fault_escape, 0);
	EXPECT_FAULT(store_byte((uintptr_t)page + 0x10), SIGSEGV, SEGV_ACCERR,
		     (uintptr_t)page + 0x10);
	TAP_REQUIRE(mprotect(page, PAGE_SIZE, PROT_NONE) == 0);
	EXPECT_FAULT(load_byte((uintptr_t)page + 0x20), SIGSEGV, SEGV_ACCERR,
		     (uintptr_t)page + 0x20);
}

// A non-canonical address is a #GP, not a page fault: Linux reports SI_KERNEL, address 0.
static void test_segv_general_protection(void)
{
	set_handler(SIGSEGV, fault_escape, 0);
	EXPECT_FAULT(load_byte(0x8000000000000000UL), SIGSEGV, SI_KERNEL, 0);
}

static void test_fpe_intdiv(void)
{
	set_handler(SIGFPE, fault_escape, 0);
	EXPECT_FAULT(divide_by_zero(), SIGFPE, FPE_INTDIV, insn_addr);
}

static void test_ill_illopn(void)
{
	set_handler(SIGILL, fault_escape, 0);
	EXPECT_FAULT(undefined_opcode(), SIGILL, ILL_ILLOPN, insn_addr);
}

static volatile uintptr_t trap_rip;

static void trap_handler(int sig, siginfo_t *info, void *ucv)
{
	ucontext_t *uc = ucv;

	fault_hits++;
	fault_code = info->si_code;
	trap_rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
}

// int3 is a trap: the handler sees RIP after the instruction, and returning resumes there.
static void test_trap_int3(void)
{
	uintptr_t after = 0;

	set_handler(SIGTRAP, trap_handler, 0);
	__asm__ volatile("int3\n"
			 "1:\tlea 1b(%%rip), %[after]"
			 : [after] "=r"(after) : : "memory");
	TAP_CHECK_EQ(fault_hits, 1);
	TAP_CHECK_EQ(fault_code, SI_KERNEL);
	TAP_CHECK_EQ(trap_rip, after);
}

// A 2-page shared mapping of a 10-byte file: the first page reads the data and then zeroes,
// touching the second page (wholly past the end of the file) is SIGBUS BUS_ADRERR.
static void test_sigbus_past_eof(void)
{
	char path[64];
	int fd;
	volatile char *map;

	snprintf(path, sizeof(path), "/tmp/sigframe.%d", (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	TAP_REQUIRE(fd >= 0);
	TAP_REQUIRE(write(fd, "0123456789", 10) == 10);
	map = mmap(NULL, 2 * PAGE_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	unlink(path);
	if (map == MAP_FAILED)
		tap_fail_at(__FILE__, __LINE__, "mmap of a file: errno %d (%s)", errno,
			    strerror(errno));
	TAP_REQUIRE(map != MAP_FAILED);
	close(fd);
	TAP_CHECK_EQ(map[0], '0');
	TAP_CHECK_EQ(map[9], '9');
	TAP_CHECK_EQ(map[10], 0);
	TAP_CHECK_EQ(map[PAGE_SIZE - 1], 0);
	set_handler(SIGBUS, fault_escape, 0);
	EXPECT_FAULT(load_byte((uintptr_t)map + PAGE_SIZE + 5), SIGBUS, BUS_ADRERR,
		     (uintptr_t)map + PAGE_SIZE + 5);
}

// ---- returning from a fault handler --------------------------------------------------------

static char *fixable_page;

static void fix_by_mprotect(int sig, siginfo_t *info, void *uc)
{
	fault_hits++;
	fault_addr = (uintptr_t)info->si_addr;
	mprotect(fixable_page, PAGE_SIZE, PROT_READ | PROT_WRITE);
}

// The handler makes the page writable and returns: the store runs again and succeeds.
static void test_return_after_fix(void)
{
	fixable_page = map_pages(1, PROT_READ);
	set_handler(SIGSEGV, fix_by_mprotect, 0);
	((volatile char *)fixable_page)[100] = 42;
	TAP_CHECK_EQ(fault_hits, 1);
	TAP_CHECK_EQ(fault_addr, (uintptr_t)fixable_page + 100);
	TAP_CHECK_EQ(fixable_page[100], 42);
}

static volatile long seen_rbx;

static void skip_ud2(int sig, siginfo_t *info, void *ucv)
{
	ucontext_t *uc = ucv;

	fault_hits++;
	seen_rbx = uc->uc_mcontext.gregs[REG_RBX];
	uc->uc_mcontext.gregs[REG_RIP] += 2;		// past the ud2
	uc->uc_mcontext.gregs[REG_RAX] = 0x1234;
	uc->uc_mcontext.gregs[REG_R12] = 0x5678;
}

// The ucontext holds the interrupted registers, and rt_sigreturn loads what the handler
// left there: the handler skips the ud2 and changes RAX and R12.
static void test_edit_ucontext(void)
{
	long rax, r12;

	set_handler(SIGILL, skip_ud2, 0);
	__asm__ volatile("movabs $0x0badc0ffee0ddf00, %%rbx\n\t"
			 "xor %%eax, %%eax\n\t"
			 "xor %%r12d, %%r12d\n\t"
			 "ud2\n\t"
			 "mov %%rax, %[rax]\n\t"
			 "mov %%r12, %[r12]"
			 : [rax] "=r"(rax), [r12] "=r"(r12) : : "rax", "rbx", "r12", "memory");
	TAP_CHECK_EQ(fault_hits, 1);
	TAP_CHECK_EQ(seen_rbx, 0x0badc0ffee0ddf00L);
	TAP_CHECK_EQ(rax, 0x1234);
	TAP_CHECK_EQ(r12, 0x5678);
}

// ---- fault signals that cannot be handled --------------------------------------------------

static void escape_handler_child_blocked(void)
{
	sigset_t set;

	set_handler(SIGSEGV, fault_escape, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGSEGV);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (sigsetjmp(fault_env, 1) == 0)
		load_byte(0);
	_exit(3);	// the handler ran: wrong
}

static void ignored_segv_child(void)
{
	signal(SIGSEGV, SIG_IGN);
	load_byte(0);
	_exit(3);
}

static void fault_in_handler(int sig, siginfo_t *info, void *uc)
{
	load_byte(8);	// SIGSEGV is blocked in its own handler
}

static void nested_fault_child(void)
{
	set_handler(SIGSEGV, fault_in_handler, 0);
	load_byte(0);
	_exit(3);
}

// A fault whose signal is blocked or ignored cannot be delivered: the task dies of it.
static void test_unhandleable_faults(void)
{
	TAP_CHECK_KILLED_BY(escape_handler_child_blocked, SIGSEGV);
	TAP_CHECK_KILLED_BY(ignored_segv_child, SIGSEGV);
	TAP_CHECK_KILLED_BY(nested_fault_child, SIGSEGV);
}

// ---- the frame -----------------------------------------------------------------------------

// An assembly handler: record RSP mod 16 at entry (the ABI wants 8, as after a call) and the
// direction flag, which the kernel must clear for the handler.
volatile uint64_t probe_rsp_mod16 = 99, probe_rflags;	// global: the asm names them
void align_probe_handler(int sig);
__asm__(".text\n"
	".globl align_probe_handler\n"
	"align_probe_handler:\n\t"
	"mov %rsp, %rax\n\t"
	"and $15, %rax\n\t"
	"mov %rax, probe_rsp_mod16(%rip)\n\t"
	"pushfq\n\t"
	"popq probe_rflags(%rip)\n\t"
	"ret\n");

#define RFLAGS_DF (1UL << 10)

static void test_handler_entry_state(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = align_probe_handler;
	TAP_REQUIRE(sigaction(SIGUSR1, &sa, NULL) == 0);
	// Raise with DF set: the handler must still start with DF clear.
	long ret = SYS_kill;

	__asm__ volatile("std\n\t"
			 "syscall\n\t"
			 "cld"
			 : "+a"(ret) : "D"(getpid()), "S"(SIGUSR1)
			 : "rcx", "r11", "memory");
	TAP_CHECK_EQ(ret, 0);
	TAP_CHECK_EQ(probe_rsp_mod16, 8);
	TAP_CHECK_EQ(probe_rflags & RFLAGS_DF, 0);
}

static volatile int reg_hits;

// Clobber every register a handler may clobber, including all the vector registers.
static void clobbering_handler(int sig)
{
	reg_hits++;
	__asm__ volatile("mov $-1, %%rax\n\tmov $-1, %%rcx\n\tmov $-1, %%rdx\n\t"
			 "mov $-1, %%rsi\n\tmov $-1, %%rdi\n\tmov $-1, %%r8\n\t"
			 "mov $-1, %%r9\n\tmov $-1, %%r10\n\tmov $-1, %%r11\n\t"
			 "pcmpeqd %%xmm0, %%xmm0\n\tpcmpeqd %%xmm1, %%xmm1\n\t"
			 "pcmpeqd %%xmm2, %%xmm2\n\tpcmpeqd %%xmm3, %%xmm3\n\t"
			 "pcmpeqd %%xmm4, %%xmm4\n\tpcmpeqd %%xmm5, %%xmm5\n\t"
			 "pcmpeqd %%xmm6, %%xmm6\n\tpcmpeqd %%xmm7, %%xmm7\n\t"
			 "pcmpeqd %%xmm8, %%xmm8\n\tpcmpeqd %%xmm9, %%xmm9\n\t"
			 "pcmpeqd %%xmm10, %%xmm10\n\tpcmpeqd %%xmm11, %%xmm11\n\t"
			 "pcmpeqd %%xmm12, %%xmm12\n\tpcmpeqd %%xmm13, %%xmm13\n\t"
			 "pcmpeqd %%xmm14, %%xmm14\n\tpcmpeqd %%xmm15, %%xmm15"
			 : : : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11",
			   "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
			   "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",
			   "xmm15");
}

// A child that sends SIGUSR1 to pid every millisecond until pid is gone.
static pid_t signal_pump(pid_t pid)
{
	pid_t child = fork();

	TAP_REQUIRE(child >= 0);
	if (child == 0) {
		while (kill(pid, SIGUSR1) == 0)
			sleep_ms(1);
		_exit(0);
	}
	return child;
}

// The general registers (all but RSP and RBP), 16 vector registers, the direction flag and
// the 128-byte red zone below RSP are set to patterns; the code spins until 20 signals have
// been handled by a handler that clobbers them all; then everything is compared.
struct reg_state {
	uint64_t gpr[14];	// rax rbx rcx rdx rsi rdi r8..r15 (rax, rcx: the loop's own)
	uint64_t xmm[16][2];
	uint64_t redzone[16];	// redzone[0] at -128(%rsp), redzone[15] at -8(%rsp)
	uint64_t rflags;
};

_Static_assert(offsetof(struct reg_state, xmm) == 0x70, "reg_state layout");
_Static_assert(offsetof(struct reg_state, redzone) == 0x170, "reg_state layout");
_Static_assert(offsetof(struct reg_state, rflags) == 0x1f0, "reg_state layout");

// The asm lowers RSP by 264 bytes first (RBP saved, then 256), so that its red zone lies
// below anything the compiler keeps in its own; in and out are kept at 0(%rsp), 8(%rsp).
static void run_register_loop(struct reg_state *in, struct reg_state *out)
{
	__asm__ volatile(
		"push %%rbp\n\t"
		"sub $256, %%rsp\n\t"
		"mov %%rdi, 0(%%rsp)\n\t"
		"mov %%rsi, 8(%%rsp)\n\t"
		"movdqu 0x70(%%rdi), %%xmm0\n\tmovdqu 0x80(%%rdi), %%xmm1\n\t"
		"movdqu 0x90(%%rdi), %%xmm2\n\tmovdqu 0xa0(%%rdi), %%xmm3\n\t"
		"movdqu 0xb0(%%rdi), %%xmm4\n\tmovdqu 0xc0(%%rdi), %%xmm5\n\t"
		"movdqu 0xd0(%%rdi), %%xmm6\n\tmovdqu 0xe0(%%rdi), %%xmm7\n\t"
		"movdqu 0xf0(%%rdi), %%xmm8\n\tmovdqu 0x100(%%rdi), %%xmm9\n\t"
		"movdqu 0x110(%%rdi), %%xmm10\n\tmovdqu 0x120(%%rdi), %%xmm11\n\t"
		"movdqu 0x130(%%rdi), %%xmm12\n\tmovdqu 0x140(%%rdi), %%xmm13\n\t"
		"movdqu 0x150(%%rdi), %%xmm14\n\tmovdqu 0x160(%%rdi), %%xmm15\n\t"
		"mov $16, %%ecx\n"
		"1:\tmov 0x170-8(%%rdi,%%rcx,8), %%rax\n\t"
		"mov %%rax, -136(%%rsp,%%rcx,8)\n\t"
		"loop 1b\n\t"
		"mov 0x08(%%rdi), %%rbx\n\tmov 0x18(%%rdi), %%rdx\n\t"
		"mov 0x20(%%rdi), %%rsi\n\tmov 0x30(%%rdi), %%r8\n\t"
		"mov 0x38(%%rdi), %%r9\n\tmov 0x40(%%rdi), %%r10\n\t"
		"mov 0x48(%%rdi), %%r11\n\tmov 0x50(%%rdi), %%r12\n\t"
		"mov 0x58(%%rdi), %%r13\n\tmov 0x60(%%rdi), %%r14\n\t"
		"mov 0x68(%%rdi), %%r15\n\tmov 0x28(%%rdi), %%rdi\n\t"
		"std\n\t"
		// Spin until the handler has run REG_HITS_WANTED times, or give up.
		"mov $2000000000, %%rcx\n"
		"2:\tmov %[hits], %%eax\n\t"
		"cmp %[want], %%eax\n\t"
		"jae 3f\n\t"
		"dec %%rcx\n\t"
		"jnz 2b\n"
		"3:\tmov 8(%%rsp), %%rax\n\t"
		"mov %%rbx, 0x08(%%rax)\n\tmov %%rdx, 0x18(%%rax)\n\t"
		"mov %%rsi, 0x20(%%rax)\n\tmov %%rdi, 0x28(%%rax)\n\t"
		"mov %%r8, 0x30(%%rax)\n\tmov %%r9, 0x38(%%rax)\n\t"
		"mov %%r10, 0x40(%%rax)\n\tmov %%r11, 0x48(%%rax)\n\t"
		"mov %%r12, 0x50(%%rax)\n\tmov %%r13, 0x58(%%rax)\n\t"
		"mov %%r14, 0x60(%%rax)\n\tmov %%r15, 0x68(%%rax)\n\t"
		"movdqu %%xmm0, 0x70(%%rax)\n\tmovdqu %%xmm1, 0x80(%%rax)\n\t"
		"movdqu %%xmm2, 0x90(%%rax)\n\tmovdqu %%xmm3, 0xa0(%%rax)\n\t"
		"movdqu %%xmm4, 0xb0(%%rax)\n\tmovdqu %%xmm5, 0xc0(%%rax)\n\t"
		"movdqu %%xmm6, 0xd0(%%rax)\n\tmovdqu %%xmm7, 0xe0(%%rax)\n\t"
		"movdqu %%xmm8, 0xf0(%%rax)\n\tmovdqu %%xmm9, 0x100(%%rax)\n\t"
		"movdqu %%xmm10, 0x110(%%rax)\n\tmovdqu %%xmm11, 0x120(%%rax)\n\t"
		"movdqu %%xmm12, 0x130(%%rax)\n\tmovdqu %%xmm13, 0x140(%%rax)\n\t"
		"movdqu %%xmm14, 0x150(%%rax)\n\tmovdqu %%xmm15, 0x160(%%rax)\n\t"
		"mov $16, %%ecx\n"
		"4:\tmov -136(%%rsp,%%rcx,8), %%rdx\n\t"
		"mov %%rdx, 0x170-8(%%rax,%%rcx,8)\n\t"
		"loop 4b\n\t"
		"pushfq\n\t"		// the red zone is saved: pushing may overwrite it now
		"cld\n\t"
		"popq 0x1f0(%%rax)\n\t"
		"add $256, %%rsp\n\t"
		"pop %%rbp"
		: "+D"(in), "+S"(out)
		: [hits] "m"(reg_hits), [want] "i"(REG_HITS_WANTED)
		: "rax", "rbx", "rcx", "rdx", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
		  "r15", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
		  "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory", "cc");
}

static void test_registers_survive_handlers(void)
{
	struct reg_state in, out;
	pid_t pump;

	for (int i = 0; i < 14; i++)
		in.gpr[i] = 0x1111111111111111ULL * (uint64_t)(i + 1) ^ 0x0123456789abcdefULL;
	for (int i = 0; i < 16; i++) {
		in.xmm[i][0] = 0xa5a5a5a500000000ULL | (uint64_t)i;
		in.xmm[i][1] = 0x5a5a5a5a00000000ULL | (uint64_t)(i << 8);
		in.redzone[i] = 0xfeedface00000000ULL | (uint64_t)i;
	}
	memset(&out, 0, sizeof(out));
	signal(SIGUSR1, clobbering_handler);
	pump = signal_pump(getpid());
	run_register_loop(&in, &out);
	kill(pump, SIGKILL);
	tap_wait(pump);
	tap_diag("%d signals handled during the loop", reg_hits);
	TAP_CHECK(reg_hits >= REG_HITS_WANTED);
	// gpr[0] (rax) and gpr[2] (rcx) are the loop's own.
	for (int i = 1; i < 14; i++)
		if (i != 2 && out.gpr[i] != in.gpr[i])
			tap_fail_at(__FILE__, __LINE__, "register slot %d: %#llx, want %#llx",
				    i, (unsigned long long)out.gpr[i],
				    (unsigned long long)in.gpr[i]);
	for (int i = 0; i < 16; i++)
		if (memcmp(out.xmm[i], in.xmm[i], 16) != 0)
			tap_fail_at(__FILE__, __LINE__, "xmm%d changed", i);
	for (int i = 0; i < 16; i++)
		if (out.redzone[i] != in.redzone[i])
			tap_fail_at(__FILE__, __LINE__, "red zone qword %d: %#llx", i,
				    (unsigned long long)out.redzone[i]);
	TAP_CHECK(out.rflags & RFLAGS_DF);
}

// ---- sigaltstack ---------------------------------------------------------------------------

static char *alt_base;
static volatile uintptr_t handler_local;
static volatile int handler_ss_flags = -1, handler_sigaltstack_err;

static void altstack_handler(int sig)
{
	stack_t ss, other;
	char local;

	handler_local = (uintptr_t)&local;
	if (sigaltstack(NULL, &ss) == 0)
		handler_ss_flags = ss.ss_flags;
	// Changing the alternate stack while running on it is refused.
	other.ss_sp = malloc(ALTSTACK_SIZE);
	other.ss_size = ALTSTACK_SIZE;
	other.ss_flags = 0;
	handler_sigaltstack_err = sigaltstack(&other, NULL) == -1 ? errno : 0;
}

static int on_alt_stack(uintptr_t addr)
{
	return addr >= (uintptr_t)alt_base && addr < (uintptr_t)alt_base + ALTSTACK_SIZE;
}

static void test_sigaltstack(void)
{
	struct sigaction sa;
	stack_t ss, old;

	alt_base = map_pages(ALTSTACK_SIZE / PAGE_SIZE, PROT_READ | PROT_WRITE);
	TAP_REQUIRE(sigaltstack(NULL, &old) == 0);
	TAP_CHECK_EQ(old.ss_flags, SS_DISABLE);
	ss.ss_sp = alt_base;
	ss.ss_size = 1024;
	ss.ss_flags = 0;
	TAP_CHECK_EQ(sigaltstack(&ss, NULL), -1);	// below MINSIGSTKSZ
	TAP_CHECK_EQ(errno, ENOMEM);
	ss.ss_size = ALTSTACK_SIZE;
	ss.ss_flags = 0x1234;
	TAP_CHECK_EQ(sigaltstack(&ss, NULL), -1);
	TAP_CHECK_EQ(errno, EINVAL);
	ss.ss_flags = 0;
	TAP_REQUIRE(sigaltstack(&ss, NULL) == 0);
	TAP_REQUIRE(sigaltstack(NULL, &old) == 0);
	TAP_CHECK(old.ss_sp == alt_base);
	TAP_CHECK_EQ(old.ss_size, ALTSTACK_SIZE);
	TAP_CHECK_EQ(old.ss_flags, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = altstack_handler;
	sa.sa_flags = SA_ONSTACK;
	TAP_REQUIRE(sigaction(SIGUSR1, &sa, NULL) == 0);
	kill(getpid(), SIGUSR1);
	TAP_CHECK(on_alt_stack(handler_local));
	TAP_CHECK_EQ(handler_ss_flags, SS_ONSTACK);
	TAP_CHECK_EQ(handler_sigaltstack_err, EPERM);

	// Without SA_ONSTACK the handler stays on the normal stack.
	sa.sa_flags = 0;
	TAP_REQUIRE(sigaction(SIGUSR1, &sa, NULL) == 0);
	handler_local = 0;
	kill(getpid(), SIGUSR1);
	TAP_CHECK(handler_local != 0 && !on_alt_stack(handler_local));
	TAP_CHECK_EQ(handler_ss_flags, 0);
}

static volatile int overflow_depth;
static volatile int recursion_limit = 1 << 30;	// never reached: the stack ends first

static int recurse_forever(int n)
{
	volatile char pad[512];

	if (n >= recursion_limit)
		return 0;
	pad[0] = (char)n;
	overflow_depth = n;
	return recurse_forever(n + 1) + pad[0];
}

// A stack overflow: the SIGSEGV can only be handled on the alternate stack; the handler
// leaves through siglongjmp.
static void test_stack_overflow_on_altstack(void)
{
	struct sigaction sa;
	stack_t ss;

	alt_base = map_pages(ALTSTACK_SIZE / PAGE_SIZE, PROT_READ | PROT_WRITE);
	ss.ss_sp = alt_base;
	ss.ss_size = ALTSTACK_SIZE;
	ss.ss_flags = 0;
	TAP_REQUIRE(sigaltstack(&ss, NULL) == 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fault_escape;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	TAP_REQUIRE(sigaction(SIGSEGV, &sa, NULL) == 0);
	if (sigsetjmp(fault_env, 1) == 0) {
		recurse_forever(0);
		tap_fail_at(__FILE__, __LINE__, "the recursion returned");
		return;
	}
	tap_diag("overflowed at depth %d", overflow_depth);
	TAP_CHECK_EQ(fault_sig, SIGSEGV);
	TAP_CHECK(overflow_depth > 1000);
}

static const struct tap_test tests[] = {
	{ "SIGSEGV SEGV_MAPERR with si_addr, recovered by siglongjmp", test_segv_maperr },
	{ "SIGSEGV SEGV_ACCERR for a write to a read-only page", test_segv_accerr },
	{ "SIGSEGV SI_KERNEL for a non-canonical address", test_segv_general_protection },
	{ "SIGFPE FPE_INTDIV at the div instruction", test_fpe_intdiv },
	{ "SIGILL ILL_ILLOPN at the ud2 instruction", test_ill_illopn },
	{ "SIGTRAP for int3, resumed after it", test_trap_int3 },
	{ "SIGBUS BUS_ADRERR past the end of a mapped file", test_sigbus_past_eof },
	{ "a SIGSEGV handler fixes the page and returns", test_return_after_fix },
	{ "the handler reads and edits the ucontext registers", test_edit_ucontext },
	{ "faults with the signal blocked, ignored or nested kill", test_unhandleable_faults },
	{ "handler entry: stack aligned as after a call, DF clear", test_handler_entry_state },
	{ "registers, vector registers, DF and red zone survive handlers",
	  test_registers_survive_handlers },
	{ "sigaltstack: errors, SA_ONSTACK, SS_ONSTACK, EPERM while on it", test_sigaltstack },
	{ "stack overflow handled on the alternate stack", test_stack_overflow_on_altstack },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
