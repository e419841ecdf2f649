// Bad user pointers must give -EFAULT and leave both the kernel and the process running:
// NULL, kernel-half addresses, non-canonical addresses, pages that are read-only, PROT_NONE
// or unmapped, and buffers that start mapped and run into a hole. Raw system calls keep
// the libc out of the way.
//
// Where a buffer is partly valid, Linux's answer depends on the file type; the cases here
// are the ones where it is fixed (checked against Linux 6.x):
//  - read() from /dev/zero or a regular file stops at the hole and returns the bytes
//    copied before it (the file offset advances by that much);
//  - a pipe copies all or nothing: write() and read() give -EFAULT, and a failed read
//    leaves the data in the pipe.
// Writes go to a pipe, not to stdout: stdout may be /dev/null, where Linux never touches
// the buffer and returns the count.

#include "tap.h"

#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define PAGE_SIZE 4096
#define FILL_BYTE 0x55

// Addresses no user access may reach: NULL, the kernel half, the non-canonical hole, and
// the last page below the hole (Linux never maps it: a `syscall` at its very end would
// return to the non-canonical 2^47).
static const unsigned long bad_addrs[] = {
	0,
	0xffffffff80000000UL,
	0xffff800000000000UL,
	0x0000800000000000UL,
	0x8000000000000000UL,
	0xfffffffffffff000UL,
	0x00007ffffffff000UL,
};

static long raw_read(long fd, unsigned long buf, long len)
{
	return tap_syscall3(SYS_read, fd, (long)buf, len);
}

static long raw_write(long fd, unsigned long buf, long len)
{
	return tap_syscall3(SYS_write, fd, (long)buf, len);
}

static long raw_open(unsigned long path, long flags)
{
	return tap_syscall3(SYS_open, (long)path, flags, 0);
}

static long raw_stat(unsigned long path, unsigned long st)
{
	return tap_syscall2(SYS_stat, (long)path, (long)st);
}

static long open_or_die(const char *path, long flags)
{
	long fd = raw_open((unsigned long)path, flags);

	TAP_REQUIRE(fd >= 0);
	return fd;
}

// Two pages, the first mapped read-write and filled with FILL_BYTE, the second unmapped.
// Returns the address of the hole. Nothing else in the test may map memory afterwards, or
// the hole could be filled.
static char *map_with_hole(void)
{
	char *base = mmap(NULL, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	TAP_REQUIRE(base != MAP_FAILED);
	TAP_REQUIRE(munmap(base + PAGE_SIZE, PAGE_SIZE) == 0);
	memset(base, FILL_BYTE, PAGE_SIZE);
	return base + PAGE_SIZE;
}

// A page filled with FILL_BYTE, then given protection prot.
static char *map_protected(int prot)
{
	char *page = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);

	TAP_REQUIRE(page != MAP_FAILED);
	memset(page, FILL_BYTE, PAGE_SIZE);
	TAP_REQUIRE(mprotect(page, PAGE_SIZE, prot) == 0);
	return page;
}

static int count_bytes(const char *p, size_t len, char byte)
{
	int n = 0;

	for (size_t i = 0; i < len; i++)
		n += p[i] == byte;
	return n;
}

// The write end of a new pipe whose read end stays open (so writes get no EPIPE).
static long pipe_for_writes(void)
{
	int fds[2];

	TAP_REQUIRE(pipe(fds) == 0);
	return fds[1];
}

#define CHECK_EFAULT(call, addr)                                                      \
	do {                                                                          \
		long ret_ = (call);                                                   \
		if (ret_ != -EFAULT)                                                  \
			tap_fail_at(__FILE__, __LINE__, "%s with %#lx returned %ld, want -EFAULT", \
				    #call, (unsigned long)(addr), ret_);              \
	} while (0)

static void test_write_bad_addrs(void)
{
	long out = pipe_for_writes();

	for (size_t i = 0; i < TAP_COUNT(bad_addrs); i++) {
		CHECK_EFAULT(raw_write(out, bad_addrs[i], 1), bad_addrs[i]);
		CHECK_EFAULT(raw_write(out, bad_addrs[i], PAGE_SIZE), bad_addrs[i]);
	}
}

static void test_read_bad_addrs(void)
{
	long zero = open_or_die("/dev/zero", O_RDONLY);
	long file = open_or_die((const char *)getauxval(AT_EXECFN), O_RDONLY);

	for (size_t i = 0; i < TAP_COUNT(bad_addrs); i++) {
		CHECK_EFAULT(raw_read(zero, bad_addrs[i], 1), bad_addrs[i]);
		CHECK_EFAULT(raw_read(zero, bad_addrs[i], PAGE_SIZE), bad_addrs[i]);
		CHECK_EFAULT(raw_read(file, bad_addrs[i], 16), bad_addrs[i]);
	}
}

static void test_path_bad_addrs(void)
{
	struct stat st;

	for (size_t i = 0; i < TAP_COUNT(bad_addrs); i++) {
		CHECK_EFAULT(raw_open(bad_addrs[i], O_RDONLY), bad_addrs[i]);
		CHECK_EFAULT(raw_stat(bad_addrs[i], (unsigned long)&st), bad_addrs[i]);
		CHECK_EFAULT(raw_stat((unsigned long)"/", bad_addrs[i]), bad_addrs[i]);
	}
}

static void test_read_into_readonly(void)
{
	char *page = map_protected(PROT_READ);
	long zero = open_or_die("/dev/zero", O_RDONLY);

	CHECK_EFAULT(raw_read(zero, (unsigned long)page, 16), page);
	CHECK_EFAULT(raw_read(zero, (unsigned long)page, PAGE_SIZE), page);
	CHECK_EFAULT(raw_stat((unsigned long)"/", (unsigned long)page), page);
	TAP_CHECK_EQ(count_bytes(page, PAGE_SIZE, FILL_BYTE), PAGE_SIZE);	// untouched
}

static void test_prot_none(void)
{
	char *page = map_protected(PROT_NONE);
	long zero = open_or_die("/dev/zero", O_RDONLY);
	long out = pipe_for_writes();

	CHECK_EFAULT(raw_read(zero, (unsigned long)page, 16), page);
	CHECK_EFAULT(raw_write(out, (unsigned long)page, 16), page);
	CHECK_EFAULT(raw_open((unsigned long)page, O_RDONLY), page);
	TAP_REQUIRE(mprotect(page, PAGE_SIZE, PROT_READ) == 0);
	TAP_CHECK_EQ(count_bytes(page, PAGE_SIZE, FILL_BYTE), PAGE_SIZE);
}

static void test_unmapped(void)
{
	char *hole = map_with_hole();
	long zero = open_or_die("/dev/zero", O_RDONLY);
	long out = pipe_for_writes();

	CHECK_EFAULT(raw_read(zero, (unsigned long)hole, 16), hole);
	CHECK_EFAULT(raw_write(out, (unsigned long)hole, 16), hole);
	CHECK_EFAULT(raw_open((unsigned long)hole, O_RDONLY), hole);
}

// Ranges whose start is a valid user address but whose end is not.
static void test_ranges_past_user_space(void)
{
	long zero = open_or_die("/dev/zero", O_RDONLY);
	long out = pipe_for_writes();

	CHECK_EFAULT(raw_read(zero, 0x00007ffffffffff0UL, 32), 0x00007ffffffffff0UL);
	CHECK_EFAULT(raw_read(zero, 0xfffffffffffff000UL, 2 * PAGE_SIZE), 0xfffffffffffff000UL);
	CHECK_EFAULT(raw_write(out, 0x00007ffffffffff0UL, 32), 0x00007ffffffffff0UL);
}

static void test_read_zero_into_hole(void)
{
	char *hole = map_with_hole();
	long zero = open_or_die("/dev/zero", O_RDONLY);

	TAP_CHECK_EQ(raw_read(zero, (unsigned long)(hole - 100), 200), 100);
	TAP_CHECK_EQ(count_bytes(hole - 100, 100, 0), 100);
	TAP_CHECK_EQ(count_bytes(hole - PAGE_SIZE, PAGE_SIZE - 100, FILL_BYTE), PAGE_SIZE - 100);
}

static void test_read_file_into_hole(void)
{
	char *hole = map_with_hole();
	long fd = open_or_die((const char *)getauxval(AT_EXECFN), O_RDONLY);
	char head[8];

	TAP_CHECK_EQ(raw_read(fd, (unsigned long)(hole - 100), 200), 100);
	TAP_CHECK(memcmp(hole - 100, "\177ELF", 4) == 0);
	TAP_CHECK_EQ(lseek(fd, 0, SEEK_CUR), 100);	// the offset moved by what was copied
	TAP_CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	TAP_CHECK_EQ(raw_read(fd, (unsigned long)head, sizeof(head)), sizeof(head));
	TAP_CHECK(memcmp(head, hole - 100, sizeof(head)) == 0);
}

static void test_pipe_write_from_hole(void)
{
	char *hole = map_with_hole();
	char got[300];
	int fds[2];

	TAP_REQUIRE(pipe(fds) == 0);
	CHECK_EFAULT(raw_write(fds[1], (unsigned long)(hole - 100), 200), hole - 100);
	// Nothing of the failed write reached the pipe: only the marker comes out.
	TAP_CHECK_EQ(raw_write(fds[1], (unsigned long)"Z", 1), 1);
	TAP_CHECK_EQ(raw_read(fds[0], (unsigned long)got, sizeof(got)), 1);
	TAP_CHECK_EQ(got[0], 'Z');
}

static void test_pipe_read_into_hole(void)
{
	char *hole = map_with_hole();
	char got[300];
	int fds[2];

	TAP_REQUIRE(pipe(fds) == 0);
	TAP_CHECK_EQ(raw_write(fds[1], (unsigned long)"0123456789", 10), 10);
	CHECK_EFAULT(raw_read(fds[0], (unsigned long)(hole - 5), 10), hole - 5);
	// The failed read consumed nothing.
	TAP_CHECK_EQ(raw_read(fds[0], (unsigned long)got, sizeof(got)), 10);
	TAP_CHECK(memcmp(got, "0123456789", 10) == 0);
}

// A path whose NUL is the last mapped byte is fine; one that runs into the hole is not.
static void test_path_at_hole(void)
{
	char *hole = map_with_hole();
	struct stat st;
	long fd;

	memcpy(hole - 10, "/dev/null", 10);
	fd = raw_open((unsigned long)(hole - 10), O_RDONLY);
	TAP_CHECK(fd >= 0);
	TAP_CHECK_EQ(raw_stat((unsigned long)(hole - 10), (unsigned long)&st), 0);
	TAP_CHECK(S_ISCHR(st.st_mode));

	memcpy(hole - 9, "/dev/null", 9);	// overwrites the NUL
	CHECK_EFAULT(raw_open((unsigned long)(hole - 9), O_RDONLY), hole - 9);
	CHECK_EFAULT(raw_stat((unsigned long)(hole - 9), (unsigned long)&st), hole - 9);
	// A stat buffer that runs into the hole.
	CHECK_EFAULT(raw_stat((unsigned long)"/", (unsigned long)(hole - 8)), hole - 8);
}

static const struct tap_test tests[] = {
	{ "write from NULL, kernel and non-canonical addresses gives -EFAULT",
	  test_write_bad_addrs },
	{ "read into NULL, kernel and non-canonical addresses gives -EFAULT",
	  test_read_bad_addrs },
	{ "open and stat with bad pointers give -EFAULT", test_path_bad_addrs },
	{ "read into a read-only page gives -EFAULT and leaves it alone", test_read_into_readonly },
	{ "PROT_NONE pages give -EFAULT", test_prot_none },
	{ "unmapped pages give -EFAULT", test_unmapped },
	{ "ranges running out of user space give -EFAULT", test_ranges_past_user_space },
	{ "read from /dev/zero stops at a hole in the buffer", test_read_zero_into_hole },
	{ "read from a file stops at a hole in the buffer", test_read_file_into_hole },
	{ "pipe write from a buffer with a hole gives -EFAULT", test_pipe_write_from_hole },
	{ "pipe read into a buffer with a hole gives -EFAULT, data stays",
	  test_pipe_read_into_hole },
	{ "paths and stat buffers at the edge of a hole", test_path_at_hole },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
