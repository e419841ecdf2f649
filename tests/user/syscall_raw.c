// The first system calls, made with the raw `syscall` instruction so that the libc cannot
// hide what the kernel returned: read, write, open, close, stat, getpid and exit, by their
// Linux x86-64 numbers. Each test checks the result and the errno a kernel must give for
// the common mistakes (bad descriptor, missing file).

#include "tap.h"

#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

// The Linux x86-64 numbers, written out: this test is about exactly these.
enum {
	NR_READ = 0,
	NR_WRITE = 1,
	NR_OPEN = 2,
	NR_CLOSE = 3,
	NR_STAT = 4,
	NR_GETPID = 39,
	NR_EXIT = 60,
};
_Static_assert(NR_READ == SYS_read && NR_WRITE == SYS_write && NR_OPEN == SYS_open &&
		       NR_CLOSE == SYS_close && NR_STAT == SYS_stat && NR_GETPID == SYS_getpid &&
		       NR_EXIT == SYS_exit,
	       "Linux x86-64 system call numbers");

#define MISSING_PATH "/no-such-file-in-trapeze"
#define FILL_BYTE 0xaa

static long raw_read(long fd, void *buf, long len)
{
	return tap_syscall3(NR_READ, fd, (long)buf, len);
}

static long raw_write(long fd, const void *buf, long len)
{
	return tap_syscall3(NR_WRITE, fd, (long)buf, len);
}

static long raw_open(const char *path, long flags)
{
	return tap_syscall3(NR_OPEN, (long)path, flags, 0);
}

static long raw_close(long fd)
{
	return tap_syscall1(NR_CLOSE, fd);
}

static long raw_stat(const char *path, struct stat *st)
{
	return tap_syscall2(NR_STAT, (long)path, (long)st);
}

// The path this program was started from: a regular file every kernel under test has.
static const char *self_path(void)
{
	const char *path = (const char *)getauxval(AT_EXECFN);

	TAP_REQUIRE(path != NULL && path[0] != '\0');
	return path;
}

static void test_write_stdout(void)
{
	static const char msg[] = "# raw write to stdout\n";

	TAP_CHECK_EQ(raw_write(STDOUT_FILENO, msg, sizeof(msg) - 1), sizeof(msg) - 1);
	TAP_CHECK_EQ(raw_write(STDOUT_FILENO, msg, 0), 0);
}

static void test_write_bad_fd(void)
{
	long fd = raw_open("/dev/null", O_RDONLY);

	TAP_CHECK_EQ(raw_write(-1, "x", 1), -EBADF);
	TAP_CHECK_EQ(raw_write(999, "x", 1), -EBADF);
	TAP_REQUIRE(fd >= 0);
	TAP_CHECK_EQ(raw_write(fd, "x", 1), -EBADF);	// opened read-only
	TAP_CHECK_EQ(raw_close(fd), 0);
	TAP_CHECK_EQ(raw_write(fd, "x", 1), -EBADF);	// closed
}

static void test_open_existing(void)
{
	long null_fd = raw_open("/dev/null", O_RDWR);
	long self_fd = raw_open(self_path(), O_RDONLY);

	TAP_CHECK(null_fd >= 0);
	TAP_CHECK(self_fd >= 0);
	TAP_CHECK(self_fd != null_fd);
	TAP_CHECK_EQ(raw_write(null_fd, "discarded", 9), 9);
	TAP_CHECK_EQ(raw_close(null_fd), 0);
	TAP_CHECK_EQ(raw_close(self_fd), 0);
}

// POSIX: open() returns the lowest-numbered free descriptor.
static void test_open_lowest_fd(void)
{
	long a = raw_open("/dev/null", O_RDONLY);
	long b = raw_open("/dev/null", O_RDONLY);

	TAP_REQUIRE(a >= 0 && b >= 0);
	TAP_CHECK(b > a);
	TAP_CHECK_EQ(raw_close(a), 0);
	TAP_CHECK_EQ(raw_open("/dev/null", O_RDONLY), a);
}

static void test_open_missing(void)
{
	TAP_CHECK_EQ(raw_open(MISSING_PATH, O_RDONLY), -ENOENT);
	TAP_CHECK_EQ(raw_open("/no-such-dir-in-trapeze/file", O_RDONLY), -ENOENT);
	TAP_CHECK_EQ(raw_open("", O_RDONLY), -ENOENT);
	TAP_CHECK_EQ(raw_open("/dev/null/file", O_RDONLY), -ENOTDIR);
}

static void test_read_dev_zero(void)
{
	unsigned char buf[256];
	long fd = raw_open("/dev/zero", O_RDONLY);
	int zeros = 0, untouched = 0;

	TAP_REQUIRE(fd >= 0);
	memset(buf, FILL_BYTE, sizeof(buf));
	TAP_CHECK_EQ(raw_read(fd, buf, 100), 100);
	for (int i = 0; i < 100; i++)
		zeros += buf[i] == 0;
	for (size_t i = 100; i < sizeof(buf); i++)
		untouched += buf[i] == FILL_BYTE;
	TAP_CHECK_EQ(zeros, 100);
	TAP_CHECK_EQ(untouched, sizeof(buf) - 100);	// nothing written past the count
	TAP_CHECK_EQ(raw_read(fd, buf, 0), 0);
	TAP_CHECK_EQ(raw_close(fd), 0);
}

// Read the whole program file in odd-sized pieces: it starts with the ELF magic, the
// total is the size stat reports, and a read at end of file returns 0.
static void test_read_file(void)
{
	static char buf[1000];
	struct stat st;
	long fd = raw_open(self_path(), O_RDONLY);
	long n, total = 0;

	TAP_REQUIRE(fd >= 0);
	TAP_REQUIRE(raw_stat(self_path(), &st) == 0);
	n = raw_read(fd, buf, 4);
	TAP_CHECK_EQ(n, 4);
	TAP_CHECK(memcmp(buf, "\177ELF", 4) == 0);
	total = n;
	while ((n = raw_read(fd, buf, sizeof(buf))) > 0)
		total += n;
	TAP_CHECK_EQ(n, 0);
	TAP_CHECK_EQ(total, st.st_size);
	TAP_CHECK_EQ(raw_read(fd, buf, sizeof(buf)), 0);
	TAP_CHECK_EQ(raw_close(fd), 0);
}

static void test_read_bad_fd(void)
{
	char buf[8];
	long fd = raw_open("/dev/null", O_WRONLY);

	TAP_CHECK_EQ(raw_read(-1, buf, sizeof(buf)), -EBADF);
	TAP_CHECK_EQ(raw_read(999, buf, sizeof(buf)), -EBADF);
	TAP_REQUIRE(fd >= 0);
	TAP_CHECK_EQ(raw_read(fd, buf, sizeof(buf)), -EBADF);	// opened write-only
}

static void test_close_twice(void)
{
	long fd = raw_open("/dev/null", O_RDONLY);
	char buf[8];

	TAP_REQUIRE(fd >= 0);
	TAP_CHECK_EQ(raw_close(fd), 0);
	TAP_CHECK_EQ(raw_close(fd), -EBADF);
	TAP_CHECK_EQ(raw_read(fd, buf, sizeof(buf)), -EBADF);
	TAP_CHECK_EQ(raw_close(-1), -EBADF);
	TAP_CHECK_EQ(raw_close(999), -EBADF);
}

static void test_stat_dev_null(void)
{
	struct stat st;

	memset(&st, FILL_BYTE, sizeof(st));
	TAP_REQUIRE(raw_stat("/dev/null", &st) == 0);
	TAP_CHECK(S_ISCHR(st.st_mode));
	TAP_CHECK_EQ(st.st_nlink >= 1, 1);
}

// Programs compare st_rdev against the Linux numbers (1:3 is /dev/null, 1:5 /dev/zero).
static void test_stat_dev_numbers(void)
{
	struct stat st;

	TAP_REQUIRE(raw_stat("/dev/null", &st) == 0);
	TAP_CHECK_EQ(major(st.st_rdev), 1);
	TAP_CHECK_EQ(minor(st.st_rdev), 3);
	TAP_REQUIRE(raw_stat("/dev/zero", &st) == 0);
	TAP_CHECK(S_ISCHR(st.st_mode));
	TAP_CHECK_EQ(major(st.st_rdev), 1);
	TAP_CHECK_EQ(minor(st.st_rdev), 5);
}

static void test_stat_root(void)
{
	struct stat st;

	memset(&st, FILL_BYTE, sizeof(st));
	TAP_REQUIRE(raw_stat("/", &st) == 0);
	TAP_CHECK(S_ISDIR(st.st_mode));
	TAP_CHECK(!S_ISCHR(st.st_mode) && !S_ISREG(st.st_mode));
	TAP_CHECK(st.st_nlink >= 2);	// "." and the parent's entry, even for "/"
}

static void test_stat_file(void)
{
	struct stat st;

	memset(&st, FILL_BYTE, sizeof(st));
	TAP_REQUIRE(raw_stat(self_path(), &st) == 0);
	TAP_CHECK(S_ISREG(st.st_mode));
	TAP_CHECK(st.st_size > 0);
	TAP_CHECK(st.st_mode & S_IXUSR);	// we are running it
	TAP_CHECK(st.st_ino != 0);
}

static void test_stat_missing(void)
{
	struct stat st;

	TAP_CHECK_EQ(raw_stat(MISSING_PATH, &st), -ENOENT);
	TAP_CHECK_EQ(raw_stat("", &st), -ENOENT);
	TAP_CHECK_EQ(raw_stat("/dev/null/file", &st), -ENOTDIR);
}

// The child reports the low byte of its raw getpid as its exit status.
static void child_exit_with_pid(void)
{
	long pid = tap_syscall0(NR_GETPID);

	_exit(pid == getpid() ? (int)(pid & 0xff) : 0);
}

static void test_getpid(void)
{
	long pid = tap_syscall0(NR_GETPID);
	pid_t child;
	int status;

	TAP_CHECK(pid > 0);
	TAP_CHECK_EQ(pid, getpid());
	TAP_CHECK_EQ(tap_syscall0(NR_GETPID), pid);	// stable

	child = fork();
	TAP_REQUIRE(child >= 0);
	if (child == 0)
		child_exit_with_pid();
	TAP_CHECK(child != pid);
	status = tap_wait(child);
	TAP_REQUIRE(status != -1 && WIFEXITED(status));
	TAP_CHECK_EQ(WEXITSTATUS(status), child & 0xff);
}

static long exit_code;

// Exit through the raw call; if it ever returns, say so with a status the test rejects.
static void child_raw_exit(void)
{
	tap_syscall1(NR_EXIT, exit_code);
	_exit(99);
}

static void test_exit(void)
{
	static const long codes[] = { 0, 42, 255, 0x1234 };
	char buf[96];

	for (size_t i = 0; i < TAP_COUNT(codes); i++) {
		int status;

		exit_code = codes[i];
		status = tap_fork_status(child_raw_exit);
		TAP_REQUIRE(status != -1);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != (codes[i] & 0xff))
			tap_fail_at(__FILE__, __LINE__, "exit(%#lx): child %s, want status %ld",
				    codes[i], tap_status_str(status, buf, sizeof(buf)),
				    codes[i] & 0xff);
	}
}

static const struct tap_test tests[] = {
	{ "raw write to stdout returns the count", test_write_stdout },
	{ "raw write to a bad or read-only fd gives -EBADF", test_write_bad_fd },
	{ "raw open of /dev/null and of the program file", test_open_existing },
	{ "raw open returns the lowest free descriptor", test_open_lowest_fd },
	{ "raw open of a missing path gives -ENOENT", test_open_missing },
	{ "raw read from /dev/zero gives zeros, exactly count bytes", test_read_dev_zero },
	{ "raw read of a file returns its bytes, then 0 at the end", test_read_file },
	{ "raw read from a bad or write-only fd gives -EBADF", test_read_bad_fd },
	{ "raw close twice gives -EBADF", test_close_twice },
	{ "raw stat of /dev/null is a character device", test_stat_dev_null },
	{ "raw stat gives Linux device numbers for /dev/null, /dev/zero", test_stat_dev_numbers },
	{ "raw stat of / is a directory", test_stat_root },
	{ "raw stat of the program is an executable regular file", test_stat_file },
	{ "raw stat of a missing path gives -ENOENT", test_stat_missing },
	{ "raw getpid matches libc and differs in a forked child", test_getpid },
	{ "raw exit ends a child with its status", test_exit },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
