// Regression: a signal handler's address is whatever rt_sigaction was given. Delivering a
// signal to a non-canonical handler made the kernel return to user mode through IRETQ with
// a non-canonical RIP, which faults in ring 0 on real CPUs: a kernel panic any program
// could cause. The fault must be the program's: SIGSEGV, as Linux gives.
#define _GNU_SOURCE
#include "tap.h"

#include <stdint.h>
#include <sys/syscall.h>

#define SA_RESTORER_FLAG 0x04000000

// The kernel's struct sigaction (rt_sigaction), set through the raw call so that libc
// cannot refuse or wrap the handler.
struct kernel_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

static void restorer(void)
{
	tap_syscall0(SYS_rt_sigreturn);
}

static void set_raw_handler(int sig, uint64_t handler, uint64_t extra_flags)
{
	struct kernel_sigaction ka = { handler, SA_RESTORER_FLAG | extra_flags,
				       (uint64_t)restorer, 0 };

	if (tap_syscall6(SYS_rt_sigaction, sig, (long)&ka, 0, 8, 0, 0) != 0)
		_exit(3);
}

static void noncanonical_handler(void)
{
	set_raw_handler(SIGUSR1, 0x8000000000000000UL, 0);
	raise(SIGUSR1);
	_exit(0); // not reached
}

static void kernel_address_handler(void)
{
	set_raw_handler(SIGUSR1, 0xffffffff80000000UL, 0);
	raise(SIGUSR1);
	_exit(0);
}

// SIGSEGV's own handler is bad too, and not blocked while it "runs": still a clean death.
static void noncanonical_segv_handler_nodefer(void)
{
	set_raw_handler(SIGSEGV, 0x0000800000000000UL, 0x40000000 /* SA_NODEFER */);
	set_raw_handler(SIGUSR1, 0x0000800000000000UL, 0);
	raise(SIGUSR1);
	_exit(0);
}

static void test_noncanonical(void)
{
	TAP_CHECK_KILLED_BY(noncanonical_handler, SIGSEGV);
}

static void test_kernel_address(void)
{
	TAP_CHECK_KILLED_BY(kernel_address_handler, SIGSEGV);
}

static void test_segv_handler_bad_too(void)
{
	TAP_CHECK_KILLED_BY(noncanonical_segv_handler_nodefer, SIGSEGV);
}

static const struct tap_test tests[] = {
	{ "a signal handler at a non-canonical address: SIGSEGV", test_noncanonical },
	{ "a signal handler at a kernel address: SIGSEGV", test_kernel_address },
	{ "bad SIGUSR1 and SA_NODEFER SIGSEGV handlers: killed by SIGSEGV",
	  test_segv_handler_bad_too },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
