// Regression: mmap refused (EINVAL) prot values with bits other than PROT_READ, PROT_WRITE
// and PROT_EXEC, and mprotect refused PROT_SEM. Linux's mmap ignores the other bits, and
// its mprotect accepts PROT_SEM (and refuses the rest, as before).
#include "tap.h"

#include <sys/mman.h>

#ifndef PROT_SEM
#define PROT_SEM 0x8
#endif
#define PROT_UNKNOWN 0x10

#define PAGE 4096UL

static void test_mmap_ignores_other_bits(void)
{
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE | PROT_SEM | PROT_UNKNOWN,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	TAP_CHECK(p != MAP_FAILED);
	if (p == MAP_FAILED)
		return;
	p[0] = 1; // the bits that count are there
	TAP_CHECK_EQ(p[0], 1);
	munmap(p, PAGE);
}

static void test_mprotect_prot_sem(void)
{
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	TAP_REQUIRE(p != MAP_FAILED);
	TAP_CHECK_EQ(mprotect(p, PAGE, PROT_READ | PROT_WRITE | PROT_SEM), 0);
	p[0] = 2;
	TAP_CHECK_EQ(p[0], 2);
	errno = 0;
	TAP_CHECK_EQ(mprotect(p, PAGE, PROT_READ | PROT_UNKNOWN), -1);
	TAP_CHECK_EQ(errno, EINVAL);
	munmap(p, PAGE);
}

static const struct tap_test tests[] = {
	{ "mmap ignores prot bits other than read, write and exec", test_mmap_ignores_other_bits },
	{ "mprotect accepts PROT_SEM and refuses unknown bits", test_mprotect_prot_sem },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
