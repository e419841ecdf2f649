// statfs(2) and fstatfs(2): the file system type of /proc and /dev, and the errors.
// Passes on Linux too (/proc is procfs, /dev is devtmpfs or tmpfs: both say TMPFS_MAGIC).
#include "tap.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/vfs.h>

#define PROC_SUPER_MAGIC 0x9fa0
#define TMPFS_MAGIC 0x01021994

static void test_types(void)
{
	struct statfs st;

	TAP_REQUIRE(statfs("/proc", &st) == 0);
	TAP_CHECK_EQ((long)st.f_type, PROC_SUPER_MAGIC);
	TAP_CHECK_EQ((long)st.f_namelen, 255);
	TAP_CHECK(st.f_bsize > 0);
	TAP_REQUIRE(statfs("/dev", &st) == 0);
	TAP_CHECK_EQ((long)st.f_type, TMPFS_MAGIC);
}

static void test_fstatfs_matches(void)
{
	struct statfs a, b;
	int fd = open("/proc", O_RDONLY | O_DIRECTORY);

	TAP_REQUIRE(fd >= 0);
	TAP_REQUIRE(fstatfs(fd, &a) == 0);
	TAP_REQUIRE(statfs("/proc", &b) == 0);
	TAP_CHECK_EQ((long)a.f_type, (long)b.f_type);
	TAP_CHECK_EQ(a.f_fsid.__val[0], b.f_fsid.__val[0]);
	close(fd);
}

static void test_errors(void)
{
	struct statfs st;

	errno = 0;
	TAP_CHECK_EQ(statfs("/no/such/path", &st), -1);
	TAP_CHECK_EQ(errno, ENOENT);
	errno = 0;
	TAP_CHECK_EQ(fstatfs(-1, &st), -1);
	TAP_CHECK_EQ(errno, EBADF);
	// Raw: libc's wrapper may copy the result itself.
	TAP_CHECK_EQ(syscall(SYS_statfs, "/proc", (void *)8), -1);
	TAP_CHECK_EQ(errno, EFAULT);
}

static const struct tap_test tests[] = {
	{ "statfs: /proc is procfs, /dev is tmpfs", test_types },
	{ "fstatfs agrees with statfs", test_fstatfs_matches },
	{ "statfs: ENOENT, EBADF, EFAULT", test_errors },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
