// Regression: clone(CLONE_SETTLS) took any TLS value; the kernel then loaded it into the
// FS base MSR when it first switched to the child, and a non-canonical value makes WRMSR
// fault in ring 0 (a kernel panic on real CPUs). Like arch_prctl(ARCH_SET_FS), clone must
// refuse an FS base outside user space with EPERM, as Linux does.
#define _GNU_SOURCE
#include "tap.h"

#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>

#define BAD_TLS ((long)0x8000000000000000UL)

static void test_settls_noncanonical_refused(void)
{
	long r = tap_syscall6(SYS_clone, CLONE_SETTLS | SIGCHLD, 0, 0, 0, BAD_TLS, 0);

	if (r == 0)
		_exit(0); // a child that should not exist: end it without touching TLS
	if (r > 0)
		tap_wait((pid_t)r);
	TAP_CHECK_EQ(r, -EPERM);
}

static void test_settls_kernel_address_refused(void)
{
	long r = tap_syscall6(SYS_clone, CLONE_SETTLS | SIGCHLD, 0, 0, 0,
			      (long)0xffffffff80000000UL, 0);

	if (r == 0)
		_exit(0);
	if (r > 0)
		tap_wait((pid_t)r);
	TAP_CHECK_EQ(r, -EPERM);
}

static uint64_t tls_block[4];

// A good TLS value still works: the child sees it through %fs.
static void test_settls_user_address_works(void)
{
	long r;
	int status;

	tls_block[0] = (uint64_t)tls_block; // %fs:0 points at itself, as the TLS ABI wants
	tls_block[1] = 0x5eed;
	r = tap_syscall6(SYS_clone, CLONE_SETTLS | SIGCHLD, 0, 0, 0, (long)tls_block, 0);
	if (r == 0) {
		uint64_t v;

		__asm__ volatile("movq %%fs:8, %0" : "=r"(v));
		_exit(v == 0x5eed ? 0 : 1);
	}
	TAP_REQUIRE(r > 0);
	status = tap_wait((pid_t)r);
	TAP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static const struct tap_test tests[] = {
	{ "clone CLONE_SETTLS with a non-canonical TLS is EPERM", test_settls_noncanonical_refused },
	{ "clone CLONE_SETTLS with a kernel address is EPERM", test_settls_kernel_address_refused },
	{ "clone CLONE_SETTLS with a user address sets the child's FS base",
	  test_settls_user_address_works },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
