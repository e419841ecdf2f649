// Regression: growing a file must not bring back bytes a shared mapping stored past its
// end. A mapping covers the file's last page whole, so a program can store past the end of
// file; Linux never writes those bytes to the file, and they read as zeroes when the file
// grows (ftruncate, or a write past the end). ramfs kept them, and they reappeared.
#include "tap.h"
#include "fs_tmpdir.h"

#include <fcntl.h>
#include <sys/mman.h>

// A 10-byte file, mapped shared, with a byte stored at offset 100 (past the end).
static char *dirty_past_end(int fd)
{
	char *m;

	TAP_REQUIRE(write(fd, "0123456789", 10) == 10);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	TAP_REQUIRE(m != MAP_FAILED);
	m[100] = 'X';
	TAP_REQUIRE(msync(m, 4096, MS_SYNC) == 0);
	return m;
}

static void test_ftruncate_up(void)
{
	int fd = tmpfile_open();
	char *m = dirty_past_end(fd), c = '?';

	TAP_REQUIRE(ftruncate(fd, 200) == 0);
	TAP_CHECK_EQ(pread(fd, &c, 1, 100), 1);
	TAP_CHECK_EQ(c, 0);
	TAP_CHECK_EQ(m[100], 0);
	munmap(m, 4096);
}

static void test_write_past_end(void)
{
	int fd = tmpfile_open();
	char *m = dirty_past_end(fd), c = '?';

	TAP_REQUIRE(pwrite(fd, "Z", 1, 300) == 1);
	TAP_CHECK_EQ(pread(fd, &c, 1, 100), 1);
	TAP_CHECK_EQ(c, 0);
	TAP_CHECK_EQ(pread(fd, &c, 1, 300), 1);
	TAP_CHECK_EQ(c, 'Z');
	munmap(m, 4096);
}

static void test_truncate_down_up(void)
{
	int fd = tmpfile_open();
	char buf[10];

	TAP_REQUIRE(write(fd, "0123456789", 10) == 10);
	TAP_REQUIRE(ftruncate(fd, 3) == 0);
	TAP_REQUIRE(ftruncate(fd, 10) == 0);
	TAP_CHECK_EQ(pread(fd, buf, 10, 0), 10);
	TAP_CHECK(memcmp(buf, "012\0\0\0\0\0\0\0", 10) == 0);
}

static const struct tap_test tests[] = {
	{ "ftruncate up: bytes a mapping stored past the end read as zeroes",
	  test_ftruncate_up },
	{ "a write past the end: the gap reads as zeroes", test_write_past_end },
	{ "ftruncate down then up reads zeroes", test_truncate_down_up },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
