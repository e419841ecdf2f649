// Anonymous memory and the shape of an address space: demand-zero pages that cost memory
// only once touched, a large mapping touched sparsely, munmap splitting an area, mprotect
// faults with SEGV_ACCERR, the stack growing on demand up to RLIMIT_STACK, and mmap refusing
// what can never be provided.
//
// Memory use is measured where it can be measured honestly: in Trapeze as the system's
// used memory (sysinfo: nothing else runs in the guest), on Linux as this process's
// resident set (/proc/self/statm), since the host's free memory moves with everything else
// the host does.

#include "tap.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

#define PAGE 4096UL
#define MIB (1UL << 20)
#define SLACK MIB // page tables, slab pages, libc: what a check of memory use tolerates

static bool on_trapeze(void)
{
	struct utsname u;

	return uname(&u) == 0 && strcmp(u.sysname, "Trapeze") == 0;
}

// Bytes of memory in use, as the top of this file says.
static long mem_used(void)
{
	char buf[128];
	long size, resident;
	ssize_t n;
	int fd;

	if (on_trapeze()) {
		struct sysinfo si;

		if (sysinfo(&si) != 0)
			return -1;
		return (long)((si.totalram - si.freeram) * si.mem_unit);
	}
	fd = open("/proc/self/statm", O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (sscanf(buf, "%ld %ld", &size, &resident) != 2)
		return -1;
	return resident * (long)PAGE;
}

static char *map_anon(size_t len, int prot)
{
	char *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

// --- catching a fault ---------------------------------------------------------------------

static sigjmp_buf fault_jump;
static volatile int fault_sig, fault_code;
static void *volatile fault_addr;

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	fault_sig = sig;
	fault_code = si->si_code;
	fault_addr = si->si_addr;
	siglongjmp(fault_jump, 1);
}

// Read or write the byte at p; the signal that raised (0 if none), with si_code and si_addr
// in fault_code and fault_addr.
static int probe(volatile char *p, bool write)
{
	struct sigaction sa, old_segv, old_bus;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fault_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	fault_sig = 0;
	if (!sigsetjmp(fault_jump, 1)) {
		if (write)
			*p = 1;
		else
			(void)*p;
	}
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	return fault_sig;
}

// --- tests -----------------------------------------------------------------------------------

static void test_zero_and_lazy(void)
{
	const size_t len = 32 * MIB, touched = 16 * MIB;
	long before = mem_used(), mapped, written;
	char *p = map_anon(len, PROT_READ | PROT_WRITE);

	TAP_REQUIRE(before > 0 && p != NULL);
	mapped = mem_used();
	TAP_CHECK(mapped - before < (long)SLACK);
	for (size_t off = 0; off < touched; off += PAGE) {
		if (p[off] != 0 || p[off + PAGE - 1] != 0 || p[off + 1234] != 0) {
			tap_fail_at(__FILE__, __LINE__, "fresh page at %#zx is not zero", off);
			break;
		}
		p[off] = 'x';
	}
	written = mem_used();
	if (written - mapped < (long)(touched - SLACK) || written - mapped > (long)(touched + SLACK))
		tap_fail_at(__FILE__, __LINE__, "touching %zu MiB used %ld KiB", touched / MIB,
			    (written - mapped) >> 10);
	TAP_CHECK_EQ(munmap(p, len), 0);
	TAP_CHECK(mem_used() - before < (long)SLACK);
}

static void test_sparse_64mib(void)
{
	const size_t len = 64 * MIB, stride = MIB, pages = len / stride;
	long before = mem_used(), used;
	unsigned char *p = (unsigned char *)map_anon(len, PROT_READ | PROT_WRITE);

	TAP_REQUIRE(before > 0 && p != NULL);
	for (size_t i = 0; i < pages; i++)
		p[i * stride + (i * 97) % stride] = (unsigned char)(i + 1);
	used = mem_used() - before;
	if (used < (long)(pages * PAGE * 3 / 4) || used > (long)(pages * PAGE + SLACK))
		tap_fail_at(__FILE__, __LINE__, "%zu pages touched in 64 MiB used %ld KiB", pages,
			    used >> 10);
	for (size_t i = 0; i < pages; i++)
		TAP_CHECK_EQ(p[i * stride + (i * 97) % stride], (unsigned char)(i + 1));
	// Untouched pages in between read as zero.
	for (size_t i = 0; i + 1 < pages; i++)
		TAP_CHECK_EQ(p[i * stride + stride / 2 + 3], 0);
	TAP_CHECK_EQ(munmap(p, len), 0);
	TAP_CHECK(mem_used() - before < (long)SLACK);
}

static void test_munmap_middle(void)
{
	const size_t n = 16, hole = 6, hole_len = 4;
	char *p = map_anon(n * PAGE, PROT_READ | PROT_WRITE), *q;

	TAP_REQUIRE(p != NULL);
	for (size_t i = 0; i < n; i++)
		memset(p + i * PAGE, 'a' + (int)i, PAGE);
	TAP_REQUIRE(munmap(p + hole * PAGE, hole_len * PAGE) == 0);
	for (size_t i = 0; i < n; i++) {
		if (i >= hole && i < hole + hole_len) {
			TAP_CHECK_EQ(probe(p + i * PAGE + 5, false), SIGSEGV);
			TAP_CHECK_EQ(fault_code, SEGV_MAPERR);
			TAP_CHECK(fault_addr == p + i * PAGE + 5);
		} else {
			TAP_CHECK_EQ(p[i * PAGE], 'a' + (int)i);
			TAP_CHECK_EQ(p[i * PAGE + PAGE - 1], 'a' + (int)i);
		}
	}
	// Both sides are separate areas now: each can go on its own; the hole can be mapped
	// again and reads as zero.
	q = mmap(p + hole * PAGE, hole_len * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	TAP_CHECK(q == p + hole * PAGE);
	if (q == p + hole * PAGE)
		TAP_CHECK_EQ(q[17], 0);
	TAP_CHECK_EQ(mprotect(p, hole * PAGE, PROT_READ), 0);
	TAP_CHECK_EQ(p[PAGE], 'b');
	TAP_CHECK_EQ(munmap(p, n * PAGE), 0);
}

static void test_mprotect_accerr(void)
{
	char *p = map_anon(3 * PAGE, PROT_READ | PROT_WRITE);

	TAP_REQUIRE(p != NULL);
	memset(p, 'q', 3 * PAGE);
	TAP_REQUIRE(mprotect(p + PAGE, PAGE, PROT_READ) == 0);
	TAP_CHECK_EQ(probe(p + PAGE + 100, true), SIGSEGV);
	TAP_CHECK_EQ(fault_code, SEGV_ACCERR);
	TAP_CHECK(fault_addr == p + PAGE + 100);
	TAP_CHECK_EQ(p[PAGE + 100], 'q'); // still readable, unchanged
	TAP_CHECK_EQ(probe(p + 2 * PAGE, true), 0); // the neighbours keep their rights
	TAP_CHECK_EQ(probe(p, true), 0);
	TAP_REQUIRE(mprotect(p + PAGE, PAGE, PROT_NONE) == 0);
	TAP_CHECK_EQ(probe(p + PAGE, false), SIGSEGV);
	TAP_CHECK_EQ(fault_code, SEGV_ACCERR);
	TAP_REQUIRE(mprotect(p + PAGE, PAGE, PROT_READ | PROT_WRITE) == 0);
	TAP_CHECK_EQ(probe(p + PAGE + 100, true), 0);
	TAP_CHECK_EQ(p[PAGE + 101], 'q'); // the page kept its data through PROT_NONE
	TAP_CHECK_EQ(munmap(p, 3 * PAGE), 0);
}

// Use frames of about 1 KiB each: depth * 1 KiB of stack.
static __attribute__((noinline)) long recurse(int depth)
{
	volatile char frame[1000];

	frame[0] = (char)depth;
	frame[sizeof(frame) - 1] = (char)(depth >> 8);
	if (depth == 0)
		return frame[0];
	return recurse(depth - 1) + frame[0] + frame[sizeof(frame) - 1];
}

static long expected_sum(int depth)
{
	long sum = 0;

	for (int d = 1; d <= depth; d++)
		sum += (char)d + (char)(d >> 8);
	return sum;
}

static void test_stack_4mib(void)
{
	const int depth = 4 * 1024; // 4 MiB of frames, at least

	TAP_CHECK_EQ(recurse(depth), expected_sum(depth));
}

static void overflow_stack(void)
{
	recurse(64 * 1024); // 64 MiB: far past an 8 MiB limit
}

static void test_stack_limit(void)
{
	struct rlimit rl;

	TAP_REQUIRE(getrlimit(RLIMIT_STACK, &rl) == 0);
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 32 * MIB)
		tap_skip("RLIMIT_STACK is unlimited or above 32 MiB here");
	TAP_CHECK_KILLED_BY(overflow_stack, SIGSEGV);
}

// Whether Linux's heuristic overcommit (vm.overcommit_memory 0) is in force. Trapeze has
// no such file and always is.
static bool overcommit_heuristic(void)
{
	char buf[8] = "";
	ssize_t n;
	int fd = open("/proc/sys/vm/overcommit_memory", O_RDONLY);

	if (fd < 0)
		return true;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n >= 1 && buf[0] == '0';
}

// Linux's heuristic overcommit refuses one mapping larger than RAM plus swap.
static void test_overcommit(void)
{
	struct sysinfo si;
	size_t huge;
	char *p;

	TAP_REQUIRE(sysinfo(&si) == 0);
	if (!overcommit_heuristic())
		tap_skip("vm.overcommit_memory is not the heuristic mode (0) here");
	huge = (size_t)(si.totalram + si.totalswap) * si.mem_unit + 64 * MIB;
	errno = 0;
	p = mmap(NULL, huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TAP_CHECK(p == MAP_FAILED);
	TAP_CHECK_EQ(errno, ENOMEM);
	if (p != MAP_FAILED)
		munmap(p, huge);
	// MAP_NORESERVE is accepted: memory is committed only where it is touched.
	p = mmap(NULL, huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	TAP_CHECK(p != MAP_FAILED);
	if (p != MAP_FAILED) {
		p[0] = 1;
		p[huge - 1] = 2;
		TAP_CHECK_EQ(p[0] + p[huge - 1], 3);
		TAP_CHECK_EQ(p[huge / 2], 0);
		TAP_CHECK_EQ(munmap(p, huge), 0);
	}
	// So is a read-only private mapping, which can never be written.
	p = mmap(NULL, huge, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TAP_CHECK(p != MAP_FAILED);
	if (p != MAP_FAILED)
		TAP_CHECK_EQ(munmap(p, huge), 0);
}

static const struct tap_test tests[] = {
	{ "fresh anonymous pages read as zero and cost memory only when touched",
	  test_zero_and_lazy },
	{ "a 64 MiB private mapping touched sparsely costs only the touched pages",
	  test_sparse_64mib },
	{ "munmap in the middle of an area splits it; the hole faults with SEGV_MAPERR",
	  test_munmap_middle },
	{ "a write to a page made read-only by mprotect gives SIGSEGV with SEGV_ACCERR",
	  test_mprotect_accerr },
	{ "the stack grows on demand through 4 MiB of recursion", test_stack_4mib },
	{ "recursion past RLIMIT_STACK ends in SIGSEGV", test_stack_limit },
	{ "mmap larger than RAM fails with ENOMEM; MAP_NORESERVE is accepted", test_overcommit },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
