// Regression: mremap refused (EFAULT) to shrink a range that spans more than one VMA or a
// hole, although Linux always allows a shrink in place: it just unmaps the tail, whatever
// lies there. An allocator that mprotects a guard page at the end of a block and later
// shrinks the block with mremap hit it. A move (MREMAP_FIXED) still needs the part that
// stays to lie in one VMA.
#define _GNU_SOURCE // mremap

#include "tap.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>

#define PAGE 4096UL

// An 8-page read-write anonymous area, page i filled with 'a' + i.
static char *area8(void)
{
	char *p = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);

	TAP_REQUIRE(p != MAP_FAILED);
	for (int i = 0; i < 8; i++)
		memset(p + i * PAGE, 'a' + i, PAGE);
	return p;
}

// Whether every page of [p, p + len) is mapped (msync fails with ENOMEM on a hole).
static bool mapped(char *p, size_t len)
{
	return msync(p, len, MS_ASYNC) == 0;
}

static void test_shrink_across_two_vmas(void)
{
	char *p = area8();

	// The second half becomes a VMA of its own (a guard area, say).
	TAP_CHECK_EQ(mprotect(p + 4 * PAGE, 4 * PAGE, PROT_READ), 0);
	TAP_CHECK(mremap(p, 8 * PAGE, 2 * PAGE, 0) == p);
	TAP_CHECK(mapped(p, 2 * PAGE));
	for (int i = 2; i < 8; i++)
		TAP_CHECK(!mapped(p + i * PAGE, PAGE));
	TAP_CHECK_EQ(p[0], 'a');
	TAP_CHECK_EQ(p[PAGE], 'b');
	munmap(p, 2 * PAGE);
}

static void test_shrink_across_hole(void)
{
	char *p = area8();

	TAP_CHECK_EQ(munmap(p + 4 * PAGE, 2 * PAGE), 0);
	// The part that stays may itself span areas: only the tail is unmapped.
	TAP_CHECK_EQ(mprotect(p + PAGE, PAGE, PROT_READ), 0);
	TAP_CHECK(mremap(p, 8 * PAGE, 3 * PAGE, 0) == p);
	TAP_CHECK(mapped(p, 3 * PAGE));
	TAP_CHECK(!mapped(p + 6 * PAGE, PAGE));
	TAP_CHECK(!mapped(p + 7 * PAGE, PAGE));
	TAP_CHECK_EQ(p[2 * PAGE], 'c');
	munmap(p, 3 * PAGE);
}

static void test_same_size_beyond_vma(void)
{
	char *p = area8();

	TAP_CHECK_EQ(munmap(p + 6 * PAGE, 2 * PAGE), 0);
	// Nothing to do: Linux returns the address without looking past the first area.
	TAP_CHECK(mremap(p, 8 * PAGE, 8 * PAGE, 0) == p);
	TAP_CHECK(mapped(p, 6 * PAGE));
	munmap(p, 6 * PAGE);
}

static void test_move_shrink_across_two_vmas(void)
{
	char *p = area8();
	char *dst = mmap(NULL, 4 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *q;

	TAP_REQUIRE(dst != MAP_FAILED);
	TAP_CHECK_EQ(mprotect(p + 4 * PAGE, 4 * PAGE, PROT_READ), 0);
	// What stays (2 pages) lies in the first area: the tail goes, the rest moves.
	q = mremap(p, 8 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	TAP_CHECK(q == dst);
	if (q == dst) {
		TAP_CHECK_EQ(q[0], 'a');
		TAP_CHECK_EQ(q[PAGE + 7], 'b');
	}
	TAP_CHECK(!mapped(p, PAGE));
	TAP_CHECK(!mapped(p + 5 * PAGE, PAGE));
	munmap(dst, 4 * PAGE);
}

static void test_move_keeping_two_vmas_fails(void)
{
	char *p = area8();
	char *dst = mmap(NULL, 8 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	TAP_REQUIRE(dst != MAP_FAILED);
	TAP_CHECK_EQ(mprotect(p + 4 * PAGE, 4 * PAGE, PROT_READ), 0);
	// A move of more than the first area is refused, and the area it would keep stays.
	errno = 0;
	TAP_CHECK(mremap(p, 8 * PAGE, 6 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, dst) == MAP_FAILED);
	TAP_CHECK_EQ(errno, EFAULT);
	TAP_CHECK(mapped(p, 6 * PAGE));
	TAP_CHECK_EQ(p[5 * PAGE], 'f');
	munmap(p, 8 * PAGE);
	munmap(dst, 8 * PAGE);
}

static void test_grow_across_two_vmas_fails(void)
{
	char *p = area8();

	TAP_CHECK_EQ(mprotect(p + 4 * PAGE, 4 * PAGE, PROT_READ), 0);
	errno = 0;
	TAP_CHECK(mremap(p, 8 * PAGE, 10 * PAGE, MREMAP_MAYMOVE) == MAP_FAILED);
	TAP_CHECK_EQ(errno, EFAULT);
	TAP_CHECK(mapped(p, 8 * PAGE));
	munmap(p, 8 * PAGE);
}

static const struct tap_test tests[] = {
	{ "mremap shrinks a range that spans two areas", test_shrink_across_two_vmas },
	{ "mremap shrinks a range with a hole in it", test_shrink_across_hole },
	{ "mremap to the same size past the first area returns the address",
	  test_same_size_beyond_vma },
	{ "a shrinking move drops a tail that spans areas", test_move_shrink_across_two_vmas },
	{ "a move keeping more than one area is EFAULT", test_move_keeping_two_vmas_fails },
	{ "growing a range that spans two areas is EFAULT", test_grow_across_two_vmas_fails },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
