// A small TAP harness for the in-guest user tests (header-only).
//
// Each test program lists its tests in a table and hands it to tap_run():
//
//	static const struct tap_test tests[] = {
//		{ "printf reaches the console", test_printf },
//	};
//	int main(void) { return tap_run(tests, TAP_COUNT(tests)); }
//
// tap_run() prints "1..N", then runs every test in a forked child with a time limit
// (alarm(TAP_TIMEOUT) in the child) and prints "ok K - name" or "not ok K - name" with
// "# ..." diagnostics. A test fails when a TAP_CHECK fails, when it exits non-zero or
// when a signal kills it, so a crash in one test cannot hide the others. The program
// exits 0 only if every test passed.
//
// All output goes through write(2) in one call per line, never through stdio, so nothing
// sits in a stdio buffer when the harness forks and nothing is printed twice.
//
// The same programs run natively on Linux (the reference) and inside Trapeze.

#ifndef TAP_H
#define TAP_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define TAP_TIMEOUT 10		// seconds a test may run before SIGALRM ends it
#define TAP_EXIT_SKIP 77	// exit status with which a test child reports "skipped"

struct tap_test {
	const char *name;
	void (*fn)(void);
};

#define TAP_COUNT(table) (sizeof(table) / sizeof((table)[0]))

// Number of failed checks in the running test. Each test runs in its own child, so this
// starts at zero for every test.
static int tap_failures;

// Write all of buf to fd, retrying short writes and EINTR. Errors are dropped: there is
// nowhere left to report them.
static inline void tap_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

// Print one line to stdout: prefix, the formatted text, newline, in a single write so that
// lines from a parent and its children never interleave mid-line.
static inline void tap_vline(const char *prefix, const char *fmt, va_list ap)
{
	char line[512];
	int len = snprintf(line, sizeof(line), "%s", prefix);

	len += vsnprintf(line + len, sizeof(line) - (size_t)len - 1, fmt, ap);
	if (len > (int)sizeof(line) - 2)
		len = (int)sizeof(line) - 2;
	line[len++] = '\n';
	tap_write_all(STDOUT_FILENO, line, (size_t)len);
}

static inline void tap_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void tap_line(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vline("", fmt, ap);
	va_end(ap);
}

// Print a TAP diagnostic line ("# ...").
static inline void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vline("# ", fmt, ap);
	va_end(ap);
}

// Record a failed check and say where it is.
static inline void tap_fail_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline void tap_fail_at(const char *file, int line, const char *fmt, ...)
{
	char prefix[160];
	va_list ap;

	tap_failures++;
	snprintf(prefix, sizeof(prefix), "# %s:%d: ", file, line);
	va_start(ap, fmt);
	tap_vline(prefix, fmt, ap);
	va_end(ap);
}

// Check cond; on failure print "# file:line: cond" and mark the test failed, then go on.
#define TAP_CHECK(cond)                                                      \
	do {                                                                 \
		if (!(cond))                                                 \
			tap_fail_at(__FILE__, __LINE__, "%s", #cond);        \
	} while (0)

// Check that two integer (or pointer) values are equal; print both on failure.
#define TAP_CHECK_EQ(a, b)                                                   \
	do {                                                                 \
		long long tap_a_ = (long long)(a), tap_b_ = (long long)(b);  \
		if (tap_a_ != tap_b_)                                        \
			tap_fail_at(__FILE__, __LINE__,                      \
				    "%s == %s: got %lld (%#llx), want %lld (%#llx)", \
				    #a, #b, tap_a_, (unsigned long long)tap_a_, tap_b_, \
				    (unsigned long long)tap_b_);             \
	} while (0)

// Check that two NUL-terminated strings are equal; print both on failure.
#define TAP_CHECK_STR(a, b)                                                  \
	do {                                                                 \
		const char *tap_a_ = (a), *tap_b_ = (b);                     \
		if (!tap_a_ || !tap_b_ || strcmp(tap_a_, tap_b_) != 0)       \
			tap_fail_at(__FILE__, __LINE__, "%s == %s: got \"%s\", want \"%s\"", \
				    #a, #b, tap_a_ ? tap_a_ : "(null)",      \
				    tap_b_ ? tap_b_ : "(null)");             \
	} while (0)

// Like TAP_CHECK, but end the test at once: for checks the rest of the test depends on.
#define TAP_REQUIRE(cond)                                                    \
	do {                                                                 \
		if (!(cond)) {                                               \
			tap_fail_at(__FILE__, __LINE__, "%s (required)", #cond); \
			exit(1);                                             \
		}                                                            \
	} while (0)

// End the running test as skipped (e.g. the thing it tests is absent), with a reason.
static inline void tap_skip(const char *reason)
{
	tap_diag("skip: %s", reason);
	exit(TAP_EXIT_SKIP);
}

static inline const char *tap_signal_name(int sig)
{
	switch (sig) {
	case SIGHUP: return "SIGHUP";
	case SIGINT: return "SIGINT";
	case SIGQUIT: return "SIGQUIT";
	case SIGILL: return "SIGILL";
	case SIGTRAP: return "SIGTRAP";
	case SIGABRT: return "SIGABRT";
	case SIGBUS: return "SIGBUS";
	case SIGFPE: return "SIGFPE";
	case SIGKILL: return "SIGKILL";
	case SIGSEGV: return "SIGSEGV";
	case SIGPIPE: return "SIGPIPE";
	case SIGALRM: return "SIGALRM, timed out";
	case SIGTERM: return "SIGTERM";
	case SIGSYS: return "SIGSYS";
	default: return "?";
	}
}

// Describe a wait status, e.g. "exited with status 1" or "killed by signal 11 (SIGSEGV)".
static inline const char *tap_status_str(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
			 tap_signal_name(WTERMSIG(status)));
	else
		snprintf(buf, size, "stopped or unknown, wait status %#x", (unsigned int)status);
	return buf;
}

// Wait for pid, retrying EINTR. Returns the wait status, or -1 (with a diagnostic).
static inline int tap_wait(pid_t pid)
{
	int status;
	pid_t got;

	do
		got = waitpid(pid, &status, 0);
	while (got < 0 && errno == EINTR);
	if (got != pid) {
		tap_diag("waitpid(%d) returned %d, errno %d (%s)", (int)pid, (int)got, errno,
			 strerror(errno));
		return -1;
	}
	return status;
}

// Run fn in a forked child that exits 0 if fn returns; return the child's wait status, or -1
// if fork or waitpid failed. The child gets its own alarm so that a hang there cannot
// outlive the test. For tests that expect the child to die (exceptions) or to exit.
static inline int tap_fork_status(void (*fn)(void))
{
	pid_t pid = fork();

	if (pid < 0) {
		tap_diag("fork failed: errno %d (%s)", errno, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		alarm(TAP_TIMEOUT / 2);
		fn();
		_exit(0);
	}
	return tap_wait(pid);
}

// Check that fn, run in a forked child, is killed by signal sig.
#define TAP_CHECK_KILLED_BY(fn, sig)                                          \
	do {                                                                  \
		int tap_st_ = tap_fork_status(fn);                            \
		char tap_buf_[96];                                            \
		if (tap_st_ == -1 || !WIFSIGNALED(tap_st_) || WTERMSIG(tap_st_) != (sig)) \
			tap_fail_at(__FILE__, __LINE__, "%s: child %s, want signal %d (%s)", \
				    #fn, tap_st_ == -1 ? "was not run" :      \
				    tap_status_str(tap_st_, tap_buf_, sizeof(tap_buf_)), \
				    (sig), tap_signal_name(sig));             \
	} while (0)

// Raw system calls through the `syscall` instruction, bypassing libc: the return value is
// the kernel's RAX unchanged (-4095..-1 for errors), errno is not touched. The kernel
// clobbers RCX and R11.
static inline long tap_syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline long tap_syscall0(long nr)
{
	return tap_syscall6(nr, 0, 0, 0, 0, 0, 0);
}

static inline long tap_syscall1(long nr, long a1)
{
	return tap_syscall6(nr, a1, 0, 0, 0, 0, 0);
}

static inline long tap_syscall2(long nr, long a1, long a2)
{
	return tap_syscall6(nr, a1, a2, 0, 0, 0, 0);
}

static inline long tap_syscall3(long nr, long a1, long a2, long a3)
{
	return tap_syscall6(nr, a1, a2, a3, 0, 0, 0);
}

// Run one test in a forked child and print its TAP line. Returns 1 if it passed or was
// skipped, 0 if it failed.
static inline int tap_run_one(const struct tap_test *test, int number)
{
	char buf[96];
	pid_t pid;
	int status;

	pid = fork();
	if (pid < 0) {
		tap_line("not ok %d - %s", number, test->name);
		tap_diag("fork failed: errno %d (%s)", errno, strerror(errno));
		return 0;
	}
	if (pid == 0) {
		alarm(TAP_TIMEOUT);
		tap_failures = 0;
		test->fn();
		// exit(), not _exit(): a test may have written through stdio.
		exit(tap_failures ? 1 : 0);
	}
	status = tap_wait(pid);
	if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		tap_line("ok %d - %s", number, test->name);
		return 1;
	}
	if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == TAP_EXIT_SKIP) {
		tap_line("ok %d - %s # SKIP", number, test->name);
		return 1;
	}
	tap_line("not ok %d - %s", number, test->name);
	if (status != -1 && !(WIFEXITED(status) && WEXITSTATUS(status) == 1))
		tap_diag("child %s", tap_status_str(status, buf, sizeof(buf)));
	return 0;
}

// Run every test of the table, each in its own child. Returns 0 if all passed, else 1.
static inline int tap_run(const struct tap_test *tests, size_t count)
{
	size_t passed = 0;

	// Anything main() printed through stdio must not be copied into every child.
	fflush(NULL);
	tap_line("1..%zu", count);
	for (size_t i = 0; i < count; i++)
		passed += (size_t)tap_run_one(&tests[i], (int)i + 1);
	if (passed != count)
		tap_diag("%zu of %zu tests failed", count - passed, count);
	return passed == count ? 0 : 1;
}

#endif // TAP_H
