// Open files and descriptors as Linux has them: O_APPEND, pread/pwrite offsets, EFBIG,
// ftruncate, SEEK_DATA/SEEK_HOLE, descriptors shared across fork, close-on-exec, dup2,
// fcntl flags, pipe capacity and poll, and no memory lost by open/close, pipe/close and
// mkdir/rmdir loops.
#define _GNU_SOURCE
#include "tap.h"
#include "fs_tmpdir.h"

#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>

#define CHECK_ERR(call, err)                         \
	do {                                         \
		errno = 0;                           \
		TAP_CHECK_EQ((long)(call), -1L);     \
		TAP_CHECK_EQ(errno, (err));          \
	} while (0)

static off_t file_size(int fd)
{
	struct stat st;

	TAP_REQUIRE(fstat(fd, &st) == 0);
	return st.st_size;
}

// --- data and offsets --------------------------------------------------------------------------

static void test_append(void)
{
	int fd = tmpfile_open(), fl;
	char buf[16] = { 0 };

	TAP_REQUIRE(write(fd, "abc", 3) == 3);
	fl = fcntl(fd, F_GETFL);
	TAP_REQUIRE(fcntl(fd, F_SETFL, fl | O_APPEND) == 0);
	TAP_CHECK(fcntl(fd, F_GETFL) & O_APPEND);
	TAP_CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	TAP_CHECK_EQ(write(fd, "de", 2), 2);
	TAP_CHECK_EQ(lseek(fd, 0, SEEK_CUR), 5);
	TAP_CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 5);
	TAP_CHECK_STR(buf, "abcde");
	// Unsupported or open-time-only flags are ignored; the access mode cannot change.
	TAP_CHECK_EQ(fcntl(fd, F_SETFL, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK), 0);
	TAP_CHECK_EQ(fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_TRUNC),
		     O_RDWR | O_NONBLOCK);
	TAP_CHECK_EQ(file_size(fd), 5);
}

static void test_pread_pwrite(void)
{
	int fd = tmpfile_open(), p[2];
	char buf[8] = { 0 };

	TAP_CHECK_EQ(pwrite(fd, "xyz", 3, 10), 3);
	TAP_CHECK_EQ(lseek(fd, 0, SEEK_CUR), 0); // the file position does not move
	TAP_CHECK_EQ(file_size(fd), 13);
	TAP_CHECK_EQ(pread(fd, buf, 4, 8), 4);
	TAP_CHECK(memcmp(buf, "\0\0xy", 4) == 0);
	TAP_CHECK_EQ(pread(fd, buf, 4, 100), 0);
	CHECK_ERR(pread(fd, buf, 1, -1), EINVAL);
	CHECK_ERR(pwrite(fd, buf, 1, -1), EINVAL);
	CHECK_ERR(lseek(fd, -1, SEEK_SET), EINVAL);
	// Past the largest file the file system can hold: EFBIG, and no SIGXFSZ.
	CHECK_ERR(pwrite(fd, "x", 1, INT64_MAX - 1), EFBIG);
	TAP_REQUIRE(pipe(p) == 0);
	CHECK_ERR(pread(p[0], buf, 1, 0), ESPIPE);
	CHECK_ERR(lseek(p[0], 0, SEEK_CUR), ESPIPE);
}

static void test_ftruncate(void)
{
	int fd = tmpfile_open(), rd;
	char buf[8];
	char path[64];

	TAP_REQUIRE(write(fd, "0123456789", 10) == 10);
	TAP_CHECK_EQ(ftruncate(fd, 4), 0);
	TAP_CHECK_EQ(file_size(fd), 4);
	TAP_CHECK_EQ(ftruncate(fd, 8), 0);
	TAP_CHECK_EQ(pread(fd, buf, 8, 0), 8);
	TAP_CHECK(memcmp(buf, "0123\0\0\0\0", 8) == 0);
	TAP_CHECK_EQ(lseek(fd, 0, SEEK_CUR), 10); // the position stays past the end
	CHECK_ERR(ftruncate(fd, -1), EINVAL);
	// Not open for writing: EINVAL.
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	rd = open(path, O_RDONLY);
	if (rd >= 0) {
		CHECK_ERR(ftruncate(rd, 0), EINVAL);
		close(rd);
	}
}

static void test_seek_data_hole(void)
{
	int fd = tmpfile_open();
	off_t size = 3 * 65536, data, hole;

	TAP_REQUIRE(write(fd, "data", 4) == 4);
	TAP_REQUIRE(ftruncate(fd, size) == 0);
	data = lseek(fd, 0, SEEK_DATA);
	if (data < 0 && errno == EINVAL)
		tap_skip("SEEK_DATA is not supported");
	// Holes may be reported as data, but answers must be consistent.
	TAP_CHECK_EQ(data, 0);
	hole = lseek(fd, 0, SEEK_HOLE);
	TAP_CHECK(hole >= 4 && hole <= size);
	hole = lseek(fd, size - 1, SEEK_HOLE);
	TAP_CHECK(hole == size - 1 || hole == size);
	data = lseek(fd, 100, SEEK_DATA);
	TAP_CHECK(data == -1 ? errno == ENXIO : data >= 100 && data < size);
	CHECK_ERR(lseek(fd, size, SEEK_DATA), ENXIO);
	CHECK_ERR(lseek(fd, size, SEEK_HOLE), ENXIO);
	CHECK_ERR(lseek(fd, -1, SEEK_DATA), ENXIO);
}

// --- descriptors -------------------------------------------------------------------------------

static void test_fork_shares_offset(void)
{
	int fd = tmpfile_open(), status;
	pid_t pid;

	TAP_REQUIRE(write(fd, "abc", 3) == 3);
	pid = fork();
	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		// The child's descriptor is the same open file: same offset, same flags.
		_exit(lseek(fd, 0, SEEK_CUR) == 3 && write(fd, "child", 5) == 5 &&
		      fcntl(fd, F_SETFL, O_APPEND) == 0 && close(fd) == 0 ? 0 : 1);
	}
	TAP_REQUIRE(waitpid(pid, &status, 0) == pid);
	TAP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	TAP_CHECK_EQ(lseek(fd, 0, SEEK_CUR), 8);
	TAP_CHECK(fcntl(fd, F_GETFL) & O_APPEND);
	TAP_CHECK_EQ(fcntl(fd, F_GETFD), 0); // descriptor flags are not shared
}

static void test_dup2_and_cloexec_flags(void)
{
	int fd = tmpfile_open(), other = tmpfile_open();

	TAP_CHECK_EQ(dup2(fd, fd), fd);
	CHECK_ERR(dup2(9999, 9999), EBADF);
	CHECK_ERR(dup3(fd, fd, 0), EINVAL);
	TAP_REQUIRE(fcntl(other, F_SETFD, FD_CLOEXEC) == 0);
	TAP_CHECK_EQ(dup2(fd, other), other);
	TAP_CHECK_EQ(fcntl(other, F_GETFD), 0); // dup2 clears close-on-exec
	TAP_CHECK_EQ(lseek(fd, 7, SEEK_SET), 7);
	TAP_CHECK_EQ(lseek(other, 0, SEEK_CUR), 7);
	TAP_CHECK_EQ(dup3(fd, other, O_CLOEXEC), other);
	TAP_CHECK_EQ(fcntl(other, F_GETFD), FD_CLOEXEC);
	TAP_CHECK_EQ(fcntl(fd, F_SETFD, 0xff), 0); // only FD_CLOEXEC is kept
	TAP_CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	CHECK_ERR(fcntl(9999, F_GETFD), EBADF);
}

static void test_close_on_exec(void)
{
	int keep = tmpfile_open(), gone = open("/dev/null", O_RDONLY | O_CLOEXEC), status;
	char arg_keep[16], arg_gone[16];
	pid_t pid;

	TAP_REQUIRE(gone >= 0);
	snprintf(arg_keep, sizeof(arg_keep), "%d", keep);
	snprintf(arg_gone, sizeof(arg_gone), "%d", gone);
	pid = fork();
	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		execl("/proc/self/exe", "fs_files", "--cloexec-child", arg_keep, arg_gone,
		      (char *)NULL);
		_exit(127);
	}
	TAP_REQUIRE(waitpid(pid, &status, 0) == pid);
	TAP_CHECK(WIFEXITED(status));
	TAP_CHECK_EQ(WEXITSTATUS(status), 0);
}

// After exec: keep must be open, gone closed.
static int cloexec_child(int keep, int gone)
{
	return fcntl(keep, F_GETFD) == 0 && fcntl(gone, F_GETFD) == -1 && errno == EBADF ? 0 : 1;
}

// --- pipes -------------------------------------------------------------------------------------

static void test_pipe_capacity(void)
{
	static char big[4097];
	char buf[4096] = { 0 };
	long total = 0, n;
	int p[2];

	TAP_REQUIRE(pipe2(p, O_NONBLOCK) == 0);
	TAP_CHECK_EQ(fcntl(p[0], F_GETPIPE_SZ), 65536);
	CHECK_ERR(fcntl(tmpfile_open(), F_GETPIPE_SZ), EBADF); // not a pipe
	while ((n = write(p[1], buf, sizeof(buf))) > 0)
		total += n;
	TAP_CHECK_EQ(n, -1);
	TAP_CHECK_EQ(errno, EAGAIN);
	TAP_CHECK_EQ(total, 65536);
	CHECK_ERR(write(p[1], buf, 1), EAGAIN);
	// With a page free, a write larger than PIPE_BUF goes in part.
	TAP_CHECK_EQ(read(p[0], buf, sizeof(buf)), (long)sizeof(buf));
	TAP_CHECK_EQ(write(p[1], big, sizeof(big)), 4096);
}

static void test_pipe_poll(void)
{
	struct pollfd pf[2];
	int p[2];

	TAP_REQUIRE(pipe(p) == 0);
	pf[0] = (struct pollfd){ .fd = p[0], .events = POLLIN | POLLOUT };
	pf[1] = (struct pollfd){ .fd = p[1], .events = POLLIN | POLLOUT };
	TAP_CHECK_EQ(poll(pf, 2, 0), 1);
	TAP_CHECK_EQ(pf[0].revents, 0);
	TAP_CHECK_EQ(pf[1].revents, POLLOUT);
	TAP_REQUIRE(write(p[1], "x", 1) == 1);
	TAP_CHECK_EQ(poll(pf, 2, 0), 2);
	TAP_CHECK_EQ(pf[0].revents, POLLIN);
	close(p[1]);
	TAP_CHECK_EQ(poll(pf, 1, 1000), 1);
	TAP_CHECK_EQ(pf[0].revents, POLLIN | POLLHUP);
	TAP_REQUIRE(pipe(p) == 0);
	close(p[0]);
	pf[1] = (struct pollfd){ .fd = p[1], .events = POLLOUT };
	TAP_CHECK_EQ(poll(&pf[1], 1, 1000), 1);
	TAP_CHECK(pf[1].revents & POLLERR);
	signal(SIGPIPE, SIG_IGN);
	CHECK_ERR(write(p[1], "x", 1), EPIPE);
	pf[0] = (struct pollfd){ .fd = 9999, .events = POLLIN };
	TAP_CHECK_EQ(poll(pf, 1, 0), 1);
	TAP_CHECK_EQ(pf[0].revents, POLLNVAL);
}

// --- memory ------------------------------------------------------------------------------------

static long free_kib(void)
{
	struct sysinfo si;

	TAP_REQUIRE(sysinfo(&si) == 0);
	return (long)(si.freeram * si.mem_unit / 1024);
}

static void churn(int rounds)
{
	char dir[] = "/tmp/fs_files_leakXXXXXX", path[64];
	int p[2];

	TAP_REQUIRE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/f", dir);
	for (int i = 0; i < rounds; i++) {
		int fd = open(path, O_CREAT | O_RDWR, 0644);

		TAP_REQUIRE(fd >= 0);
		close(fd);
		TAP_REQUIRE(pipe(p) == 0);
		close(p[0]);
		close(p[1]);
		snprintf(path, sizeof(path), "%s/d", dir);
		TAP_REQUIRE(mkdir(path, 0755) == 0);
		TAP_REQUIRE(rmdir(path) == 0);
		snprintf(path, sizeof(path), "%s/f", dir);
	}
	unlink(path);
	rmdir(dir);
}

static void test_no_leaks(void)
{
	long lost = 0;

	churn(200); // warm the allocator's caches
	// A real leak loses memory every time; other programs' activity (on Linux) only
	// sometimes. Three tries.
	for (int attempt = 0; attempt < 3; attempt++) {
		long before = free_kib();

		churn(3000);
		lost = before - free_kib();
		if (lost < 512)
			break;
	}
	if (lost >= 512)
		tap_fail_at(__FILE__, __LINE__, "3000 rounds lost %ld KiB", lost);
}

static const struct tap_test tests[] = {
	{ "O_APPEND writes at the end; F_SETFL ignores flags it cannot change", test_append },
	{ "pread/pwrite: offsets, holes, negative offsets, EFBIG, pipes", test_pread_pwrite },
	{ "ftruncate down and up reads zeroes", test_ftruncate },
	{ "SEEK_DATA and SEEK_HOLE give consistent answers", test_seek_data_hole },
	{ "a forked child shares the open file's offset and flags", test_fork_shares_offset },
	{ "dup2 onto itself, dup3, FD_CLOEXEC", test_dup2_and_cloexec_flags },
	{ "exec closes O_CLOEXEC descriptors and keeps the others", test_close_on_exec },
	{ "pipes hold 64 KiB (F_GETPIPE_SZ); a large write may go in part", test_pipe_capacity },
	{ "poll on pipes: POLLIN, POLLOUT, POLLHUP, POLLERR, POLLNVAL", test_pipe_poll },
	{ "open/close, pipe/close, mkdir/rmdir lose no memory", test_no_leaks },
};

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--cloexec-child") == 0)
		return cloexec_child(atoi(argv[2]), atoi(argv[3]));
	return tap_run(tests, TAP_COUNT(tests));
}
