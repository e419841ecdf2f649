// The benchmark suite: one static program that runs unchanged on Trapeze, on Linux in the
// same QEMU, and natively on the host (bench/run drives all three).
//
// Usage: bench [-s SCALE] [-T SECONDS] [-x TINY] [-f FILE] [OP...]
//        bench -l      list the ops, one a line, in table order
//
//   -s SCALE    multiply every iteration count by SCALE (default 1: sized for QEMU TCG,
//               where the whole suite takes seconds; the native run uses a larger SCALE)
//   -T SECONDS  the time limit of one op, all its repetitions included (default 120)
//   -x TINY     the program the exec benchmark runs (default /tiny, from bench/tiny.c)
//   -f FILE     the file the file benchmarks write and read (default /tmp/bench.dat)
//   OP...       run only these ops, in this order (default: all, in table order)
//
// Output, one line per op, through write(2) so nothing sits in a stdio buffer across fork:
//
//   # start NAME                    before an op starts (a crash is blamed on NAME)
//   NAME ITERATIONS NS_PER_OP       the result: ITERATIONS per repetition, median ns/op
//   NAME FAILED REASON              the op failed one of its own checks, or errored
//
// Method: each op runs one warm-up repetition (discarded), then BENCH_REPS timed
// repetitions of ITERATIONS operations; NS_PER_OP is the median repetition time divided by
// ITERATIONS. Each repetition times only the operations themselves (an op's setup, such as
// forking the pipe partner or mapping the region to fault in, is outside the clock).
// Every op checks its results; a wrong answer is a failure, never a fast number. An op
// that runs longer than its time limit (-T) is ended by SIGALRM, which kills the
// whole program: the harness then knows from the last "# start" line which op hung.
//
// Exit status: 0 if every op passed, 1 if any failed, 2 for a usage error.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include "tiny.h"

#define BENCH_REPS 5		// timed repetitions per op; the median is reported
#define PAGE_SIZE 4096
#define FAULT_REGION (16UL << 20)	// the page-fault op maps and touches 16 MiB
#define FILE_CHUNK 4096			// the file ops move 4 KiB per call ...
#define FILE_SIZE (4UL << 20)		// ... through a 4 MiB file
#define FILE_CHUNKS (FILE_SIZE / FILE_CHUNK)
#define WHY_MAX 160

// What every op may use: options, and where it explains a failure.
struct bench_ctx {
	long scale;
	unsigned int op_timeout; // seconds
	const char *tiny_path;
	const char *file_path;
	char why[WHY_MAX];
};

// One benchmark. rep() runs iters operations (its own base count times the scale), puts the
// nanoseconds they took in *ns and returns 0, or explains the failure with bench_fail().
struct bench_op {
	const char *name;
	long base_iters;
	int (*rep)(struct bench_ctx *ctx, long iters, uint64_t *ns);
	void (*done)(struct bench_ctx *ctx); // optional: release what rep() kept, pass or fail
};

// Write all of s to stdout; errors are dropped (there is nowhere to report them).
static void out_write(const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

static void out_printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		out_write(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

// Record why the op failed (with errno's text when with_errno) and return -1.
static int bench_fail(struct bench_ctx *ctx, int with_errno, const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	vsnprintf(ctx->why, sizeof(ctx->why), fmt, ap);
	va_end(ap);
	len = strlen(ctx->why);
	if (with_errno)
		snprintf(ctx->why + len, sizeof(ctx->why) - len, ": %s", strerror(err));
	return -1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// Wait for pid and check that it exited with want. Returns 0, or -1 after bench_fail().
static int child_reap(struct bench_ctx *ctx, pid_t pid, int want)
{
	int status;
	pid_t got;

	do
		got = waitpid(pid, &status, 0);
	while (got < 0 && errno == EINTR);
	if (got != pid)
		return bench_fail(ctx, 1, "waitpid returned %d, not the child %d", (int)got, (int)pid);
	if (WIFSIGNALED(status))
		return bench_fail(ctx, 0, "child killed by signal %d", WTERMSIG(status));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != want)
		return bench_fail(ctx, 0, "child status %#x, want exit %d", status, want);
	return 0;
}

// --- system calls and scheduling ---------------------------------------------------------

// The cheapest real system call: getppid through syscall(), so no libc caching can answer
// it. Every result must equal the parent pid read before the clock starts.
static int rep_null_syscall(struct bench_ctx *ctx, long iters, uint64_t *ns)
{
	long want = getppid();
	long bad = 0;
	uint64_t t0 = now_ns();

	for (long i = 0; i < iters; i++)
		bad |= syscall(SYS_getppid) ^ want;
	*ns = now_ns() - t0;
	if (bad)
		return bench_fail(ctx, 0, "getppid returned something other than %ld", want);
	return 0;
}

// sched_yield with nothing else runnable: the scheduler's fast path.
static int rep_sched_yield(struct bench_ctx *ctx, long iters, uint64_t *ns)
{
	uint64_t t0 = now_ns();

	for (long i = 0; i < iters; i++) {
		if (sched_yield() != 0)
			return bench_fail(ctx, 1, "sched_yield");
	}
	*ns = now_ns() - t0;
	return 0;
}

// --- pipes -------------------------------------------------------------------------------

// The pipe partner: answer every byte with the byte plus one until end of file.
static _Noreturn void pipe_echo(int in, int out)
{
	unsigned char b;
	ssize_t n;

	for (;;) {
		n = read(in, &b, 1);
		if (n == 0)
			_exit(0);
		if (n != 1)
			_exit(1);
		b++;
		if (write(out, &b, 1) != 1)
			_exit(2);
	}
}

// Send iters bytes through to_child, each answered on from_child; check every answer.
static int pipe_pingpong(struct bench_ctx *ctx, int to_child, int from_child, long iters)
{
	for (long i = 0; i < iters; i++) {
		unsigned char b = (unsigned char)i, got = 0;

		if (write(to_child, &b, 1) != 1)
			return bench_fail(ctx, 1, "pipe write");
		if (read(from_child, &got, 1) != 1)
			return bench_fail(ctx, 1, "pipe read (or end of file)");
		if (got != (unsigned char)(b + 1))
			return bench_fail(ctx, 0, "pipe returned byte %u for %u", got, b);
	}
	return 0;
}

// One-byte round trip to a second process and back: two pipe writes, two reads and two
// context switches per operation on one CPU. The partner is forked outside the clock.
static int rep_pipe_roundtrip(struct bench_ctx *ctx, long iters, uint64_t *ns)
{
	int down[2], up[2], err;
	uint64_t t0;
	pid_t pid;

	if (pipe(down) < 0)
		return bench_fail(ctx, 1, "pipe");
	if (pipe(up) < 0)
		return bench_fail(ctx, 1, "pipe");
	pid = fork();
	if (pid < 0)
		return bench_fail(ctx, 1, "fork");
	if (pid == 0) {
		close(down[1]);
		close(up[0]);
		pipe_echo(down[0], up[1]);
	}
	close(down[0]);
	close(up[1]);
	t0 = now_ns();
	err = pipe_pingpong(ctx, down[1], up[0], iters);
	*ns = now_ns() - t0;
	close(down[1]);
	close(up[0]);
	if (err) {
		waitpid(pid, NULL, 0);
		return err;
	}
	return child_reap(ctx, pid, 0);
}

// --- processes ---------------------------------------------------------------------------

#define FORK_CHILD_STATUS 7

// fork, the child's _exit and the parent's waitpid: a whole short-lived process.
static int rep_fork_exit_wait(struct bench_ctx *ctx, long iters, uint64_t *ns)
{
	uint64_t t0 = now_ns();

	for (long i = 0; i < iters; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return bench_fail(ctx, 1, "fork");
		if (pid == 0)
			_exit(FORK_CHILD_STATUS);
		if (child_reap(ctx, pid, FORK_CHILD_STATUS))
			return -1;
	}
	*ns = now_ns() - t0;
	return 0;
}

// fork, execve of the tiny static program (which exits with TINY_STATUS at once), waitpid.
static int rep_fork_exec_wait(struct bench_ctx *ctx, long iters, uint64_t *ns)
{
	char *argv[] = { (char *)ctx->tiny_path, NULL };
	char *envp[] = { NULL };
	uint64_t t0 = now_ns();

	for (long i = 0; i < iters; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return bench_fail(ctx, 1, "fork");
		if (pid == 0) {
			execve(ctx->tiny_path, argv, envp);
			dprintf(STDERR_FILENO, "bench: execve %s: %s\n", ctx->tiny_path,
				strerror(errno));
			_exit(TINY_EXEC_FAILED);
		}
		if (child_reap(ctx, pid, TINY_STATUS)) {
			char why[WHY_MAX];

			memcpy(why, ctx->why, sizeof(why));
			return bench_fail(ctx, 0, "%s did not run or exit %d (%s; %d: execve failed)",
					  ctx->tiny_path, TINY_STATUS, why, TINY_EXEC_FAILED);
		}
	}
	*ns = now_ns() - t0;
	return 0;
}

// --- memory ------------------------------------------------------------------------------

// Write one byte to each page of a fresh 16 MiB anonymous mapping: one demand-zero page
// fault per page. iters counts pages, FAULT_REGION / PAGE_SIZE per mapping. The mapping
// and unmapping are outside the clock. Afterwards every page must hold its byte and the
// bytes never written must still read zero.
static int rep_page_fault(struct bench_ctx *ctx, long iters, uint64_t *ns)
{
	long pages = FAULT_REGION / PAGE_SIZE;

	*ns = 0;
	for (long done = 0; done < iters; done += pages) {
		volatile unsigned char *p = mmap(NULL, FAULT_REGION, PROT_READ | PROT_WRITE,
						 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint64_t t0;
		long bad = 0;

		if (p == MAP_FAILED)
			return bench_fail(ctx, 1, "mmap of 16 MiB");
		t0 = now_ns();
		for (long i = 0; i < pages; i++)
			p[i * PAGE_SIZE] = (unsigned char)(i | 1);
		*ns += now_ns() - t0;
		for (long i = 0; i < pages; i++)
			bad |= (p[i * PAGE_SIZE] != (unsigned char)(i | 1)) |
			       p[i * PAGE_SIZE + PAGE_SIZE - 1];
		if (munmap((void *)p, FAULT_REGION) < 0)
			return bench_fail(ctx, 1, "munmap");
		if (bad)
			return bench_fail(ctx, 0, "a faulted-in page lost its byte or was not zero");
	}
	return 0;
}

// Map one anonymous page and unmap it again without touching it: VMA bookkeeping only.
static int rep_mmap_munmap(struct bench_ctx *ctx, long iters, uint64_t *ns)
{
	uint64_t t0 = now_ns();

	for (long i = 0; i < iters; i++) {
		void *p = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			return bench_fail(ctx, 1, "mmap");
		if (munmap(p, PAGE_SIZE) < 0)
			return bench_fail(ctx, 1, "munmap");
	}
	*ns = now_ns() - t0;
	return 0;
}

// --- files -------------------------------------------------------------------------------

// The file's contents, mapped by the first repetition of a file op and unmapped by
// file_done() after the op: chunk k holds bytes (k * 7 + i) & 0xff, so a chunk written to or
// read from the wrong offset is caught. Mapped only while a file op runs, so that it does
// not enlarge the process the fork ops copy.
static unsigned char *file_src;
static unsigned char file_buf[FILE_CHUNK];

static int file_src_get(struct bench_ctx *ctx)
{
	void *p;

	if (file_src)
		return 0;
	p = mmap(NULL, FILE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return bench_fail(ctx, 1, "mmap of the 4 MiB source buffer");
	file_src = p;
	for (long k = 0; k < (long)FILE_CHUNKS; k++) {
		for (long i = 0; i < FILE_CHUNK; i++)
			file_src[k * FILE_CHUNK + i] = (unsigned char)(k * 7 + i);
	}
	return 0;
}

static void file_done(struct bench_ctx *ctx)
{
	if (file_src)
		munmap(file_src, FILE_SIZE);
	file_src = NULL;
	unlink(ctx->file_path);
}

// Read the whole file in 4 KiB chunks from offset 0. Inside the clock each chunk's first
// byte is checked (one compare); with check_all, every byte (outside any clock).
static int file_read_pass(struct bench_ctx *ctx, int fd, int check_all, uint64_t *ns)
{
	uint64_t t0;

	if (lseek(fd, 0, SEEK_SET) != 0)
		return bench_fail(ctx, 1, "lseek %s", ctx->file_path);
	t0 = now_ns();
	for (long k = 0; k < (long)FILE_CHUNKS; k++) {
		const unsigned char *want = file_src + k * FILE_CHUNK;

		if (read(fd, file_buf, FILE_CHUNK) != FILE_CHUNK)
			return bench_fail(ctx, 1, "read of chunk %ld (or a short read)", k);
		if (file_buf[0] != want[0] ||
		    (check_all && memcmp(file_buf, want, FILE_CHUNK) != 0))
			return bench_fail(ctx, 0, "chunk %ld read back wrong", k);
	}
	*ns += now_ns() - t0;
	if (read(fd, file_buf, 1) != 0)
		return bench_fail(ctx, 0, "no end of file after %lu bytes", FILE_SIZE);
	return 0;
}

// Write the whole file from scratch in 4 KiB chunks. Truncating it to empty is outside the
// clock, so every chunk write also allocates the file's page.
static int file_write_pass(struct bench_ctx *ctx, int fd, uint64_t *ns)
{
	uint64_t t0;

	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) != 0)
		return bench_fail(ctx, 1, "ftruncate/lseek %s", ctx->file_path);
	t0 = now_ns();
	for (long k = 0; k < (long)FILE_CHUNKS; k++) {
		if (write(fd, file_src + k * FILE_CHUNK, FILE_CHUNK) != FILE_CHUNK)
			return bench_fail(ctx, 1, "write of chunk %ld (or a short write)", k);
	}
	*ns += now_ns() - t0;
	return 0;
}

// iters counts chunks, FILE_CHUNKS per pass over the file. After the timed passes the
// file is read back and checked byte for byte.
static int rep_file_write(struct bench_ctx *ctx, long iters, uint64_t *ns)
{
	uint64_t unused = 0;
	int fd, err = file_src_get(ctx);

	if (err)
		return err;
	fd = open(ctx->file_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return bench_fail(ctx, 1, "open %s", ctx->file_path);
	*ns = 0;
	for (long done = 0; done < iters && !err; done += FILE_CHUNKS)
		err = file_write_pass(ctx, fd, ns);
	if (!err)
		err = file_read_pass(ctx, fd, 1, &unused);
	close(fd);
	return err;
}

// The file is written outside the clock, then read whole (iters / FILE_CHUNKS times) and
// checked byte for byte in one more, untimed, pass.
static int rep_file_read(struct bench_ctx *ctx, long iters, uint64_t *ns)
{
	uint64_t unused = 0;
	int fd, err = file_src_get(ctx);

	if (err)
		return err;
	fd = open(ctx->file_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return bench_fail(ctx, 1, "open %s", ctx->file_path);
	err = file_write_pass(ctx, fd, &unused);
	*ns = 0;
	for (long done = 0; done < iters && !err; done += FILE_CHUNKS)
		err = file_read_pass(ctx, fd, 0, ns);
	if (!err)
		err = file_read_pass(ctx, fd, 1, &unused);
	close(fd);
	return err;
}

// --- the driver --------------------------------------------------------------------------

// Iteration counts at scale 1 are sized for QEMU TCG: each timed repetition takes some tens
// of milliseconds of guest time on Linux there. Page-fault and file counts are whole
// regions and whole files.
static const struct bench_op bench_ops[] = {
	{ "null_syscall", 20000, rep_null_syscall, NULL },
	{ "sched_yield", 20000, rep_sched_yield, NULL },
	{ "pipe_roundtrip", 2000, rep_pipe_roundtrip, NULL },
	{ "fork_exit_wait", 100, rep_fork_exit_wait, NULL },
	{ "fork_exec_wait", 50, rep_fork_exec_wait, NULL },
	{ "page_fault", FAULT_REGION / PAGE_SIZE, rep_page_fault, NULL },
	{ "mmap_munmap", 5000, rep_mmap_munmap, NULL },
	{ "file_write_4k", FILE_CHUNKS, rep_file_write, file_done },
	{ "file_read_4k", FILE_CHUNKS, rep_file_read, file_done },
};

#define BENCH_NOPS (sizeof(bench_ops) / sizeof(bench_ops[0]))

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

// Warm up, time BENCH_REPS repetitions, print the median per operation. Returns 0 or -1
// after printing the failure.
static int bench_op_run(struct bench_ctx *ctx, const struct bench_op *op)
{
	long iters = op->base_iters * ctx->scale;
	uint64_t ns[BENCH_REPS + 1];
	int err = 0;

	out_printf("# start %s\n", op->name);
	ctx->why[0] = '\0';
	alarm(ctx->op_timeout);
	// ns[0] is the warm-up.
	for (int r = 0; r <= BENCH_REPS && !err; r++)
		err = op->rep(ctx, iters, &ns[r]);
	alarm(0);
	if (op->done)
		op->done(ctx);
	for (int r = 1; r <= BENCH_REPS && !err; r++) {
		if (ns[r] == 0)
			err = bench_fail(ctx, 0, "CLOCK_MONOTONIC did not advance over a repetition");
	}
	if (err) {
		out_printf("%s FAILED %s\n", op->name, ctx->why[0] ? ctx->why : "unknown error");
		return -1;
	}
	qsort(ns + 1, BENCH_REPS, sizeof(ns[0]), u64_cmp);
	out_printf("%s %ld %.1f\n", op->name, iters,
		   (double)ns[1 + BENCH_REPS / 2] / (double)iters);
	return 0;
}

static const struct bench_op *bench_op_find(const char *name)
{
	for (size_t i = 0; i < BENCH_NOPS; i++) {
		if (strcmp(bench_ops[i].name, name) == 0)
			return &bench_ops[i];
	}
	return NULL;
}

static int ops_list(void)
{
	for (size_t i = 0; i < BENCH_NOPS; i++)
		out_printf("%s\n", bench_ops[i].name);
	return 0;
}

static _Noreturn void usage(void)
{
	out_printf("usage: bench [-s SCALE] [-T SECONDS] [-x TINY] [-f FILE] [OP...]\nops:");
	for (size_t i = 0; i < BENCH_NOPS; i++)
		out_printf(" %s", bench_ops[i].name);
	out_printf("\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct bench_ctx ctx = { .scale = 1, .op_timeout = 120, .tiny_path = "/tiny",
				 .file_path = "/tmp/bench.dat" };
	int opt, failed = 0;

	while ((opt = getopt(argc, argv, "ls:T:x:f:")) != -1) {
		if (opt == 'l')
			return ops_list();
		else if (opt == 's')
			ctx.scale = strtol(optarg, NULL, 10);
		else if (opt == 'T')
			ctx.op_timeout = (unsigned int)strtoul(optarg, NULL, 10);
		else if (opt == 'x')
			ctx.tiny_path = optarg;
		else if (opt == 'f')
			ctx.file_path = optarg;
		else
			usage();
	}
	if (ctx.scale < 1 || ctx.op_timeout < 1)
		usage();
	for (int i = optind; i < argc; i++) {
		if (!bench_op_find(argv[i]))
			usage();
	}
	for (size_t i = 0; optind == argc && i < BENCH_NOPS; i++)
		failed |= bench_op_run(&ctx, &bench_ops[i]);
	for (int i = optind; i < argc; i++)
		failed |= bench_op_run(&ctx, bench_op_find(argv[i]));
	return failed ? 1 : 0;
}
