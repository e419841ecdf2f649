// Regression: getdents64 on /proc/<pid>/fd after an lseek to a position past INT_MAX.
// proc_fd_readdir narrowed the position to an int descriptor number, which came out
// negative (0x80000002 - 2 became INT_MIN), and indexed its bitmap of open descriptors with
// it: a kernel page fault and a panic from one lseek and one getdents64. Linux refuses such
// positions in lseek (EINVAL) or lists nothing from them; either is fine here, as long as
// the kernel survives and no descriptor number below the position is listed.
#include "tap.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>

struct dirent64_hdr {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

// Seek the directory at path to pos and read it: an lseek error (EINVAL) or a getdents64
// that lists no descriptor number below pos - 2 both pass.
static void check_seek_read(const char *path, off_t pos)
{
	char buf[4096];
	int fd = open(path, O_RDONLY | O_DIRECTORY);
	long n;

	TAP_REQUIRE(fd >= 0);
	if (lseek(fd, pos, SEEK_SET) < 0) {
		TAP_CHECK_EQ(errno, EINVAL);
		close(fd);
		return;
	}
	n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
	TAP_CHECK(n >= 0);
	for (long off = 0; off < n;) {
		struct dirent64_hdr *de = (struct dirent64_hdr *)(buf + off);

		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			TAP_CHECK(atoll(de->d_name) >= pos - 2);
		off += de->d_reclen;
	}
	close(fd);
}

static void test_fd_dir_past_int_max(void)
{
	check_seek_read("/proc/self/fd", 0x80000002LL);
	check_seek_read("/proc/self/fd", 0xffffffffLL);
	check_seek_read("/proc/self/fd", 1LL << 40);
	check_seek_read("/proc/self/fd", INT64_MAX);
}

static void test_other_proc_dirs_far_positions(void)
{
	check_seek_read("/proc/self", 0x80000002LL);
	check_seek_read("/proc/self", INT64_MAX);
	check_seek_read("/proc", 0x80000002LL);
	check_seek_read("/proc", INT64_MAX);
}

static void test_fd_dir_small_position(void)
{
	char buf[4096];
	int fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
	long n;
	bool saw_fd = false;

	TAP_REQUIRE(fd >= 0);
	// Position 2 + fd lists descriptor fd (the directory itself) first.
	TAP_REQUIRE(lseek(fd, 2 + fd, SEEK_SET) == 2 + fd);
	n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
	TAP_CHECK(n > 0);
	for (long off = 0; off < n;) {
		struct dirent64_hdr *de = (struct dirent64_hdr *)(buf + off);

		TAP_CHECK(atoi(de->d_name) >= fd);
		if (atoi(de->d_name) == fd)
			saw_fd = true;
		off += de->d_reclen;
	}
	TAP_CHECK(saw_fd);
	close(fd);
}

static const struct tap_test tests[] = {
	{ "getdents64 on /proc/self/fd after lseek past INT_MAX", test_fd_dir_past_int_max },
	{ "getdents64 on /proc and /proc/self at far positions", test_other_proc_dirs_far_positions },
	{ "getdents64 on /proc/self/fd resumes at the descriptor its position names",
	  test_fd_dir_small_position },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
