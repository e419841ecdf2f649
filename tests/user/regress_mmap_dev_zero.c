// Regression: mmap of /dev/zero failed with ENODEV. Linux maps it as anonymous memory:
// private (zeroed, writable, copy-on-write) or shared between parent and child.
#include "tap.h"

#include <fcntl.h>
#include <sys/mman.h>

#define LEN (3 * 4096)

static void test_private(void)
{
	int fd = open("/dev/zero", O_RDWR);
	unsigned char *p;

	TAP_REQUIRE(fd >= 0);
	p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	TAP_REQUIRE(p != MAP_FAILED);
	for (size_t i = 0; i < LEN; i += 512)
		TAP_CHECK_EQ(p[i], 0);
	p[100] = 42;
	TAP_CHECK_EQ(p[100], 42);
	munmap(p, LEN);
}

static void test_shared_with_child(void)
{
	int fd = open("/dev/zero", O_RDWR);
	volatile int *p;
	pid_t pid;

	TAP_REQUIRE(fd >= 0);
	p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	TAP_REQUIRE(p != MAP_FAILED);
	pid = fork();
	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		p[1000] = 1234;
		_exit(0);
	}
	TAP_CHECK(WIFEXITED(tap_wait(pid)));
	TAP_CHECK_EQ(p[1000], 1234);
	munmap((void *)p, LEN);
}

static void test_write_only_fd(void)
{
	int fd = open("/dev/zero", O_WRONLY);

	TAP_REQUIRE(fd >= 0);
	errno = 0;
	TAP_CHECK(mmap(NULL, LEN, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED);
	TAP_CHECK_EQ(errno, EACCES);
	close(fd);
}

static const struct tap_test tests[] = {
	{ "a private mapping of /dev/zero is zeroed, writable memory", test_private },
	{ "a shared mapping of /dev/zero is shared with a child", test_shared_with_child },
	{ "/dev/zero opened write-only cannot be mapped (EACCES)", test_write_only_fd },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
