// Pipes and descriptor duplication: pipe and pipe2 (O_CLOEXEC, O_NONBLOCK and EAGAIN),
// readers and writers blocking and waking each other, EOF after the last writer, EPIPE and
// SIGPIPE after the last reader, PIPE_BUF atomicity with several writers, 1 MiB between two
// processes, poll and FIONREAD on pipes; dup, dup2, dup3 and fcntl's F_DUPFD,
// F_DUPFD_CLOEXEC, F_GETFD/F_SETFD and F_GETFL/F_SETFL.

#define _GNU_SOURCE
#include "tap.h"

#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>

#define NSEC_PER_MSEC 1000000LL
#define RECORD 4096			// PIPE_BUF on Linux: writes up to this size are atomic
#define WRITERS 4
#define RECORDS_PER_WRITER 16
#define BIG_TRANSFER (1 << 20)
#define WRITE_CHUNK 7777		// odd sizes, so that no boundary lines up
#define READ_CHUNK 5000

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * NSEC_PER_MSEC };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

#define CHECK_EXITED(status, code)                                                    \
	do {                                                                          \
		char buf_[96];                                                        \
		int st_ = (status);                                                   \
		if (st_ == -1 || !WIFEXITED(st_) || WEXITSTATUS(st_) != (code))       \
			tap_fail_at(__FILE__, __LINE__, "child %s, want exit status %d", \
				    st_ == -1 ? "not waited for" :                     \
				    tap_status_str(st_, buf_, sizeof(buf_)), (code)); \
	} while (0)

// Fill the pipe behind write end fd (made non-blocking for the while) until EAGAIN;
// return how many bytes it took.
static long fill_pipe(int fd)
{
	static char chunk[RECORD];
	int flags = fcntl(fd, F_GETFL);
	long total = 0;
	ssize_t n;

	TAP_REQUIRE(flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0);
	while ((n = write(fd, chunk, sizeof(chunk))) > 0)
		total += n;
	TAP_CHECK_EQ(n, -1);
	TAP_CHECK_EQ(errno, EAGAIN);
	while ((n = write(fd, chunk, 1)) > 0)
		total += n;
	TAP_CHECK_EQ(errno, EAGAIN);
	TAP_REQUIRE(fcntl(fd, F_SETFL, flags) == 0);
	return total;
}

// Read from fd until len bytes or EOF; return the count.
static size_t read_full(int fd, void *buf, size_t len, size_t chunk)
{
	size_t got = 0;

	while (got < len) {
		size_t want = len - got < chunk ? len - got : chunk;
		ssize_t n = read(fd, (char *)buf + got, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

// ---- pipe and pipe2 ------------------------------------------------------------------------

static void test_pipe_basics(void)
{
	int fds[2];
	char buf[16];

	TAP_REQUIRE(pipe(fds) == 0);
	TAP_CHECK(fds[0] >= 0 && fds[1] >= 0 && fds[0] != fds[1]);
	TAP_CHECK_EQ(fcntl(fds[0], F_GETFL) & O_ACCMODE, O_RDONLY);
	TAP_CHECK_EQ(fcntl(fds[1], F_GETFL) & O_ACCMODE, O_WRONLY);
	TAP_CHECK_EQ(fcntl(fds[0], F_GETFD), 0);
	TAP_CHECK_EQ(write(fds[1], "hello", 5), 5);
	TAP_CHECK_EQ(write(fds[1], "", 0), 0);
	TAP_CHECK_EQ(read(fds[0], buf, 0), 0);
	TAP_CHECK_EQ(read(fds[0], buf, 3), 3);
	TAP_CHECK(memcmp(buf, "hel", 3) == 0);
	TAP_CHECK_EQ(read(fds[0], buf, sizeof(buf)), 2);	// what is there, not more
	TAP_CHECK(memcmp(buf, "lo", 2) == 0);
	TAP_CHECK_EQ(write(fds[0], "x", 1), -1);	// the read end cannot be written
	TAP_CHECK_EQ(errno, EBADF);
	TAP_CHECK_EQ(read(fds[1], buf, 1), -1);
	TAP_CHECK_EQ(errno, EBADF);
	TAP_CHECK_EQ(lseek(fds[0], 0, SEEK_SET), -1);
	TAP_CHECK_EQ(errno, ESPIPE);
	TAP_CHECK_EQ(tap_syscall1(SYS_pipe, 8), -EFAULT);	// raw: libc would not allow it
	TAP_CHECK_EQ(close(fds[0]), 0);
	TAP_CHECK_EQ(close(fds[1]), 0);
}

static void test_pipe2_flags(void)
{
	int fds[2];
	char c;

	TAP_REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
	TAP_CHECK_EQ(fcntl(fds[0], F_GETFD), FD_CLOEXEC);
	TAP_CHECK_EQ(fcntl(fds[1], F_GETFD), FD_CLOEXEC);
	TAP_CHECK_EQ(fcntl(fds[0], F_GETFL) & O_NONBLOCK, 0);
	close(fds[0]);
	close(fds[1]);

	TAP_REQUIRE(pipe2(fds, O_NONBLOCK) == 0);
	TAP_CHECK_EQ(fcntl(fds[0], F_GETFD), 0);
	TAP_CHECK(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
	TAP_CHECK(fcntl(fds[1], F_GETFL) & O_NONBLOCK);
	TAP_CHECK_EQ(read(fds[0], &c, 1), -1);
	TAP_CHECK_EQ(errno, EAGAIN);
	close(fds[0]);
	close(fds[1]);

	TAP_CHECK_EQ(pipe2(fds, 0x7), -1);	// not a pipe2 flag
	TAP_CHECK_EQ(errno, EINVAL);
}

// A non-blocking pipe fills up (EAGAIN on write), gives back exactly what went in, and then
// is empty again (EAGAIN on read).
static void test_nonblocking_full_and_empty(void)
{
	int fds[2];
	long capacity, got = 0;
	char buf[RECORD];
	ssize_t n;

	TAP_REQUIRE(pipe2(fds, O_NONBLOCK) == 0);
	capacity = fill_pipe(fds[1]);
	tap_diag("capacity %ld bytes", capacity);
	TAP_CHECK(capacity >= RECORD);
	TAP_CHECK_EQ(write(fds[1], buf, RECORD), -1);
	TAP_CHECK_EQ(errno, EAGAIN);
	while ((n = read(fds[0], buf, sizeof(buf))) > 0)
		got += n;
	TAP_CHECK_EQ(n, -1);
	TAP_CHECK_EQ(errno, EAGAIN);
	TAP_CHECK_EQ(got, capacity);
}

// ---- blocking and waking -------------------------------------------------------------------

// A reader blocked on an empty pipe wakes when a byte arrives; a writer blocked on a full
// pipe wakes when the reader makes room.
static void test_blocking_wakeups(void)
{
	int fds[2];
	long capacity;
	char buf[RECORD];
	pid_t pid;
	long long t0;

	TAP_REQUIRE(pipe(fds) == 0);
	pid = fork();
	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		char c = 0;

		close(fds[1]);
		_exit(read(fds[0], &c, 1) == 1 && c == 'w' ? 0 : 1);
	}
	sleep_ms(100);		// the child sleeps in read by now
	TAP_CHECK_EQ(waitpid(pid, NULL, WNOHANG), 0);
	TAP_CHECK_EQ(write(fds[1], "w", 1), 1);
	CHECK_EXITED(tap_wait(pid), 0);

	capacity = fill_pipe(fds[1]);
	pid = fork();
	TAP_REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(write(fds[1], buf, 100) == 100 ? 0 : 1);
	sleep_ms(100);
	TAP_CHECK_EQ(waitpid(pid, NULL, WNOHANG), 0);	// still blocked: the pipe is full
	t0 = now_ns();
	TAP_CHECK_EQ((long)read_full(fds[0], buf, RECORD, RECORD), RECORD);
	CHECK_EXITED(tap_wait(pid), 0);
	TAP_CHECK(now_ns() - t0 < 2000 * NSEC_PER_MSEC);
	TAP_CHECK_EQ((long)read_full(fds[0], buf, sizeof(buf), sizeof(buf)), RECORD);
	TAP_CHECK(capacity > 0);
}

// EOF comes only when every write end is closed, in every process; a blocked reader wakes
// for it.
static void test_eof_after_last_writer(void)
{
	int fds[2], second;
	char c;
	pid_t pid;

	TAP_REQUIRE(pipe(fds) == 0);
	second = dup(fds[1]);
	TAP_REQUIRE(second >= 0);
	close(fds[1]);
	TAP_REQUIRE(fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0);
	TAP_CHECK_EQ(read(fds[0], &c, 1), -1);		// a writer remains: no EOF
	TAP_CHECK_EQ(errno, EAGAIN);
	TAP_REQUIRE(fcntl(fds[0], F_SETFL, 0) == 0);

	pid = fork();		// a second process holds the write end too
	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		sleep_ms(150);
		_exit(0);
	}
	close(second);
	long long t0 = now_ns();
	TAP_CHECK_EQ(read(fds[0], &c, 1), 0);		// blocks until the child exits
	TAP_CHECK(now_ns() - t0 >= 100 * NSEC_PER_MSEC);
	TAP_CHECK_EQ(read(fds[0], &c, 1), 0);		// and EOF stays
	CHECK_EXITED(tap_wait(pid), 0);
}

// Data written before the last writer closed is still read before EOF.
static void test_data_before_eof(void)
{
	int fds[2];
	char buf[8];

	TAP_REQUIRE(pipe(fds) == 0);
	TAP_CHECK_EQ(write(fds[1], "tail", 4), 4);
	close(fds[1]);
	TAP_CHECK_EQ(read(fds[0], buf, sizeof(buf)), 4);
	TAP_CHECK_EQ(read(fds[0], buf, sizeof(buf)), 0);
}

// ---- EPIPE and SIGPIPE ---------------------------------------------------------------------

static int epipe_fd;

static void write_to_closed_pipe(void)
{
	write(epipe_fd, "x", 1);
	_exit(0);
}

static volatile int sigpipe_hits;

static void on_sigpipe(int sig)
{
	sigpipe_hits++;
}

static void test_epipe_and_sigpipe(void)
{
	int fds[2];

	TAP_REQUIRE(pipe(fds) == 0);
	close(fds[0]);
	epipe_fd = fds[1];
	TAP_CHECK_KILLED_BY(write_to_closed_pipe, SIGPIPE);	// the default action

	signal(SIGPIPE, on_sigpipe);
	TAP_CHECK_EQ(write(fds[1], "x", 1), -1);
	TAP_CHECK_EQ(errno, EPIPE);
	TAP_CHECK_EQ(sigpipe_hits, 1);

	signal(SIGPIPE, SIG_IGN);
	TAP_CHECK_EQ(write(fds[1], "x", 1), -1);
	TAP_CHECK_EQ(errno, EPIPE);
	TAP_CHECK_EQ(sigpipe_hits, 1);
}

// A writer blocked on a full pipe gets EPIPE when the last reader goes away.
static void test_blocked_writer_gets_epipe(void)
{
	int fds[2];
	char buf[RECORD];
	pid_t pid;

	signal(SIGPIPE, SIG_IGN);
	TAP_REQUIRE(pipe(fds) == 0);
	fill_pipe(fds[1]);
	pid = fork();
	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		_exit(write(fds[1], buf, sizeof(buf)) == -1 && errno == EPIPE ? 0 : 1);
	}
	close(fds[1]);
	sleep_ms(100);
	TAP_CHECK_EQ(waitpid(pid, NULL, WNOHANG), 0);
	close(fds[0]);
	CHECK_EXITED(tap_wait(pid), 0);
}

// ---- atomicity and volume ------------------------------------------------------------------

// Four writers each write 16 records of PIPE_BUF bytes, every byte of a record the same: the
// stream must consist of whole records, never two interleaved inside one.
static void test_atomic_writes(void)
{
	static unsigned char stream[WRITERS * RECORDS_PER_WRITER * RECORD];
	int fds[2], count[WRITERS] = { 0 };
	pid_t pids[WRITERS];
	size_t got;

	TAP_REQUIRE(pipe(fds) == 0);
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		TAP_REQUIRE(pids[w] >= 0);
		if (pids[w] == 0) {
			unsigned char rec[RECORD];

			close(fds[0]);
			for (int r = 0; r < RECORDS_PER_WRITER; r++) {
				memset(rec, w * RECORDS_PER_WRITER + r + 1, sizeof(rec));
				if (write(fds[1], rec, sizeof(rec)) != sizeof(rec))
					_exit(1);
			}
			_exit(0);
		}
	}
	close(fds[1]);
	got = read_full(fds[0], stream, sizeof(stream), 3000);
	TAP_CHECK_EQ(got, sizeof(stream));
	for (size_t off = 0; off < got; off += RECORD) {
		unsigned char id = stream[off];
		int w = (id - 1) / RECORDS_PER_WRITER;

		for (size_t i = 1; i < RECORD; i++)
			if (stream[off + i] != id) {
				tap_fail_at(__FILE__, __LINE__,
					    "record at %zu: byte %zu is %u, record began with %u",
					    off, i, stream[off + i], id);
				return;
			}
		// Each writer's records arrive in its own order.
		if (w < 0 || w >= WRITERS || (id - 1) % RECORDS_PER_WRITER != count[w]) {
			tap_fail_at(__FILE__, __LINE__, "record id %u out of order", id);
			return;
		}
		count[w]++;
	}
	for (int w = 0; w < WRITERS; w++)
		CHECK_EXITED(tap_wait(pids[w]), 0);
}

static uint32_t fnv1a(const unsigned char *p, size_t len, uint32_t h)
{
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void fill_pattern(unsigned char *p, size_t len)
{
	uint32_t x = 2463534242u;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
}

// 1 MiB from one process to another in odd-sized writes and reads; length and checksum.
static void test_large_transfer(void)
{
	static unsigned char data[BIG_TRANSFER], recv[BIG_TRANSFER];
	int fds[2];
	pid_t pid;
	size_t got;

	fill_pattern(data, sizeof(data));
	TAP_REQUIRE(pipe(fds) == 0);
	pid = fork();
	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		size_t off = 0;

		close(fds[0]);
		while (off < sizeof(data)) {
			size_t n = sizeof(data) - off < WRITE_CHUNK ? sizeof(data) - off
								     : WRITE_CHUNK;
			ssize_t w = write(fds[1], data + off, n);

			if (w <= 0)
				_exit(1);
			off += (size_t)w;
		}
		_exit(0);
	}
	close(fds[1]);
	got = read_full(fds[0], recv, sizeof(recv), READ_CHUNK);
	TAP_CHECK_EQ(got, sizeof(recv));
	TAP_CHECK_EQ(read(fds[0], recv, 1), 0);
	TAP_CHECK_EQ(fnv1a(recv, got, 2166136261u), fnv1a(data, sizeof(data), 2166136261u));
	TAP_CHECK(memcmp(recv, data, sizeof(data)) == 0);
	CHECK_EXITED(tap_wait(pid), 0);
}

// ---- poll and FIONREAD ---------------------------------------------------------------------

static void test_poll_and_fionread(void)
{
	int fds[2], avail = -1;
	struct pollfd p[2];

	TAP_REQUIRE(pipe(fds) == 0);
	p[0] = (struct pollfd){ .fd = fds[0], .events = POLLIN };
	p[1] = (struct pollfd){ .fd = fds[1], .events = POLLOUT };
	TAP_CHECK_EQ(poll(p, 2, 0), 1);
	TAP_CHECK_EQ(p[0].revents, 0);
	TAP_CHECK_EQ(p[1].revents, POLLOUT);
	TAP_CHECK_EQ(ioctl(fds[0], FIONREAD, &avail), 0);
	TAP_CHECK_EQ(avail, 0);

	TAP_CHECK_EQ(write(fds[1], "abc", 3), 3);
	TAP_CHECK_EQ(poll(p, 1, 0), 1);
	TAP_CHECK_EQ(p[0].revents, POLLIN);
	TAP_CHECK_EQ(ioctl(fds[0], FIONREAD, &avail), 0);
	TAP_CHECK_EQ(avail, 3);

	close(fds[1]);		// data and hang-up
	TAP_CHECK_EQ(poll(p, 1, 0), 1);
	TAP_CHECK_EQ(p[0].revents, POLLIN | POLLHUP);

	TAP_REQUIRE(pipe(fds) == 0);
	p[1].fd = fds[1];
	close(fds[0]);		// no reader: the write end reports an error
	TAP_CHECK_EQ(poll(&p[1], 1, 0), 1);
	TAP_CHECK(p[1].revents & POLLERR);
}

// ---- dup, dup2, dup3, fcntl ----------------------------------------------------------------

static void test_dup(void)
{
	int fds[2], d;
	char buf[4];

	TAP_REQUIRE(pipe(fds) == 0);
	close(0);		// the lowest free descriptor is 0 now
	d = dup(fds[1]);
	TAP_CHECK_EQ(d, 0);
	TAP_CHECK_EQ(write(d, "dup", 3), 3);	// the same pipe
	TAP_CHECK_EQ(read(fds[0], buf, 3), 3);
	TAP_CHECK(memcmp(buf, "dup", 3) == 0);
	// One open file: status flags are shared.
	TAP_REQUIRE(fcntl(fds[1], F_SETFL, O_NONBLOCK) == 0);
	TAP_CHECK(fcntl(d, F_GETFL) & O_NONBLOCK);
	// Descriptor flags are not: dup never sets FD_CLOEXEC.
	TAP_REQUIRE(fcntl(fds[1], F_SETFD, FD_CLOEXEC) == 0);
	d = dup(fds[1]);
	TAP_CHECK(d > 0);
	TAP_CHECK_EQ(fcntl(d, F_GETFD), 0);
	TAP_CHECK_EQ(dup(-1), -1);
	TAP_CHECK_EQ(errno, EBADF);
	TAP_CHECK_EQ(dup(999), -1);
	TAP_CHECK_EQ(errno, EBADF);
}

static void test_dup2(void)
{
	int fds[2], other[2];
	char c;

	TAP_REQUIRE(pipe(fds) == 0 && pipe(other) == 0);
	TAP_CHECK_EQ(dup2(fds[0], fds[0]), fds[0]);	// same fd: returned, nothing else
	TAP_CHECK_EQ(fcntl(fds[0], F_GETFD), 0);
	TAP_CHECK_EQ(dup2(999, 999), -1);	// ... but it must be open
	TAP_CHECK_EQ(errno, EBADF);
	TAP_CHECK_EQ(dup2(-1, 50), -1);
	TAP_CHECK_EQ(errno, EBADF);
	TAP_CHECK_EQ(dup2(fds[0], -1), -1);
	TAP_CHECK_EQ(errno, EBADF);

	// dup2 onto an open descriptor closes it first, silently.
	TAP_REQUIRE(fcntl(other[0], F_SETFD, FD_CLOEXEC) == 0);
	TAP_CHECK_EQ(dup2(fds[0], other[0]), other[0]);
	TAP_CHECK_EQ(fcntl(other[0], F_GETFD), 0);	// FD_CLOEXEC is off on the new one
	TAP_CHECK_EQ(write(fds[1], "q", 1), 1);
	TAP_CHECK_EQ(read(other[0], &c, 1), 1);
	TAP_CHECK_EQ(c, 'q');
	// The pipe whose read end that was now has no reader: writing fails.
	signal(SIGPIPE, SIG_IGN);
	TAP_CHECK_EQ(write(other[1], "x", 1), -1);
	TAP_CHECK_EQ(errno, EPIPE);
	TAP_CHECK_EQ(dup2(fds[0], 200), 200);	// a high number
	TAP_CHECK_EQ(fcntl(200, F_GETFL) & O_ACCMODE, O_RDONLY);
}

// Through the raw system call: musl's dup3() checks the same-fd case itself and turns a
// dup3 without O_CLOEXEC into dup2.
static long raw_dup3(long oldfd, long newfd, long flags)
{
	return tap_syscall3(SYS_dup3, oldfd, newfd, flags);
}

static void test_dup3(void)
{
	int fds[2];

	TAP_REQUIRE(pipe(fds) == 0);
	TAP_CHECK_EQ(raw_dup3(fds[0], fds[0], 0), -EINVAL);	// unlike dup2
	TAP_CHECK_EQ(raw_dup3(fds[0], fds[0], O_CLOEXEC), -EINVAL);
	TAP_CHECK_EQ(raw_dup3(fds[0], 60, O_CLOEXEC), 60);
	TAP_CHECK_EQ(fcntl(60, F_GETFD), FD_CLOEXEC);
	TAP_CHECK_EQ(raw_dup3(fds[0], 61, 0), 61);
	TAP_CHECK_EQ(fcntl(61, F_GETFD), 0);
	TAP_CHECK_EQ(raw_dup3(fds[0], 61, O_CLOEXEC), 61);	// onto an open one
	TAP_CHECK_EQ(fcntl(61, F_GETFD), FD_CLOEXEC);
	TAP_CHECK_EQ(raw_dup3(fds[0], 62, O_NONBLOCK), -EINVAL);	// only O_CLOEXEC
	TAP_CHECK_EQ(raw_dup3(999, 63, 0), -EBADF);
	TAP_CHECK_EQ(raw_dup3(fds[0], -1, 0), -EBADF);
	TAP_CHECK_EQ(dup3(fds[0], 64, O_CLOEXEC), 64);	// and the libc function
	TAP_CHECK_EQ(fcntl(64, F_GETFD), FD_CLOEXEC);
}

static void test_fcntl_dupfd(void)
{
	int fds[2], d;
	struct rlimit lim;

	TAP_REQUIRE(pipe(fds) == 0);
	TAP_REQUIRE(dup2(fds[0], 30) == 30 && dup2(fds[0], 31) == 31);
	d = fcntl(fds[0], F_DUPFD, 30);		// lowest free >= 30: 32
	TAP_CHECK_EQ(d, 32);
	TAP_CHECK_EQ(fcntl(d, F_GETFD), 0);
	d = fcntl(fds[0], F_DUPFD_CLOEXEC, 30);
	TAP_CHECK_EQ(d, 33);
	TAP_CHECK_EQ(fcntl(d, F_GETFD), FD_CLOEXEC);
	close(31);
	TAP_CHECK_EQ(fcntl(fds[0], F_DUPFD, 30), 31);
	int lowest = 0;
	while (fcntl(lowest, F_GETFD) >= 0)
		lowest++;
	d = fcntl(fds[0], F_DUPFD, 0);		// from 0: the lowest free overall
	TAP_CHECK_EQ(d, lowest);
	TAP_REQUIRE(getrlimit(RLIMIT_NOFILE, &lim) == 0);
	TAP_CHECK_EQ(fcntl(fds[0], F_DUPFD, (int)lim.rlim_cur), -1);
	TAP_CHECK_EQ(errno, EINVAL);
	TAP_CHECK_EQ(fcntl(fds[0], F_DUPFD, -1), -1);
	TAP_CHECK_EQ(errno, EINVAL);
	TAP_CHECK_EQ(fcntl(999, F_DUPFD, 0), -1);
	TAP_CHECK_EQ(errno, EBADF);
}

static void test_fcntl_flags(void)
{
	int fds[2];
	char c;

	TAP_REQUIRE(pipe(fds) == 0);
	TAP_CHECK_EQ(fcntl(fds[0], F_GETFD), 0);
	TAP_CHECK_EQ(fcntl(fds[0], F_SETFD, FD_CLOEXEC), 0);
	TAP_CHECK_EQ(fcntl(fds[0], F_GETFD), FD_CLOEXEC);
	TAP_CHECK_EQ(fcntl(fds[1], F_GETFD), 0);	// per descriptor
	TAP_CHECK_EQ(fcntl(fds[0], F_SETFD, 0), 0);
	TAP_CHECK_EQ(fcntl(fds[0], F_GETFD), 0);

	TAP_CHECK_EQ(fcntl(fds[0], F_GETFL) & O_NONBLOCK, 0);
	TAP_CHECK_EQ(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
	TAP_CHECK(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
	TAP_CHECK_EQ(read(fds[0], &c, 1), -1);		// the flag takes effect
	TAP_CHECK_EQ(errno, EAGAIN);
	// F_SETFL cannot change the access mode.
	TAP_CHECK_EQ(fcntl(fds[0], F_SETFL, O_RDWR), 0);
	TAP_CHECK_EQ(fcntl(fds[0], F_GETFL) & O_ACCMODE, O_RDONLY);
	TAP_CHECK_EQ(fcntl(fds[0], F_GETFL) & O_NONBLOCK, 0);	// and O_NONBLOCK is off again
	TAP_CHECK_EQ(fcntl(999, F_GETFL), -1);
	TAP_CHECK_EQ(errno, EBADF);
	TAP_CHECK_EQ(fcntl(fds[0], 12345), -1);
	TAP_CHECK_EQ(errno, EINVAL);
}

static const struct tap_test tests[] = {
	{ "pipe: ends, short reads, EBADF on the wrong end, ESPIPE, EFAULT", test_pipe_basics },
	{ "pipe2: O_CLOEXEC, O_NONBLOCK, EINVAL", test_pipe2_flags },
	{ "non-blocking: EAGAIN when full and when empty", test_nonblocking_full_and_empty },
	{ "blocked reader and blocked writer are woken", test_blocking_wakeups },
	{ "EOF only after the last writer, in any process, closes", test_eof_after_last_writer },
	{ "data written before close is read before EOF", test_data_before_eof },
	{ "no reader: SIGPIPE kills by default, EPIPE if handled or ignored",
	  test_epipe_and_sigpipe },
	{ "a blocked writer gets EPIPE when the last reader closes",
	  test_blocked_writer_gets_epipe },
	{ "PIPE_BUF writes from 4 writers never interleave", test_atomic_writes },
	{ "1 MiB between two processes, checksum", test_large_transfer },
	{ "poll and FIONREAD on pipes", test_poll_and_fionread },
	{ "dup: lowest free fd, shared status flags, no FD_CLOEXEC", test_dup },
	{ "dup2: same fd returned, target closed first, EBADF", test_dup2 },
	{ "dup3: EINVAL for the same fd, O_CLOEXEC", test_dup3 },
	{ "fcntl F_DUPFD and F_DUPFD_CLOEXEC: lowest >= arg", test_fcntl_dupfd },
	{ "fcntl F_GETFD/F_SETFD, F_GETFL/F_SETFL with O_NONBLOCK", test_fcntl_flags },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
