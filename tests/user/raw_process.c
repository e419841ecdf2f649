// The process system calls of the lecture notes, made with the raw `syscall` instruction and
// their Linux x86-64 numbers so that no libc wrapper can hide what the kernel returned:
// fork (57) returns twice, execve (59) replaces the program, exit (60) hands a status to
// wait4 (61), kill (62) ends a child; wait4's pid selectors, WNOHANG and ECHILD.
//
// After a raw fork the child must not call into libc functions that depend on the thread's
// cached tid (musl's raise, for one): the children here use raw system calls only.
//
// The program re-executes itself (AT_EXECFN) with "--exit N" to test execve's argv; the
// host run must therefore start it without changing directory afterwards.

#include "tap.h"

#include <sys/auxv.h>
#include <sys/syscall.h>

enum {
	NR_PIPE = 22,
	NR_NANOSLEEP = 35,
	NR_GETPID = 39,
	NR_FORK = 57,
	NR_EXECVE = 59,
	NR_EXIT = 60,
	NR_WAIT4 = 61,
	NR_KILL = 62,
	NR_GETPPID = 110,
	NR_SETPGID = 109,
	NR_GETPGID = 121,
};
_Static_assert(NR_FORK == SYS_fork && NR_EXECVE == SYS_execve && NR_EXIT == SYS_exit &&
		       NR_WAIT4 == SYS_wait4 && NR_KILL == SYS_kill && NR_GETPID == SYS_getpid &&
		       NR_GETPPID == SYS_getppid && NR_SETPGID == SYS_setpgid &&
		       NR_GETPGID == SYS_getpgid && NR_PIPE == SYS_pipe &&
		       NR_NANOSLEEP == SYS_nanosleep,
	       "Linux x86-64 system call numbers");

#define BUSYBOX "/bin/busybox"
#define HOST_TRUE "/bin/true"
#define EXIT_FLAG "--exit"

static long raw_fork(void)
{
	return tap_syscall0(NR_FORK);
}

static __attribute__((noreturn)) void raw_exit(long status)
{
	tap_syscall1(NR_EXIT, status);
	__builtin_unreachable();
}

static long raw_wait4(long pid, int *status, long options)
{
	return tap_syscall6(NR_WAIT4, pid, (long)status, options, 0, 0, 0);
}

static long raw_kill(long pid, long sig)
{
	return tap_syscall2(NR_KILL, pid, sig);
}

static long raw_getpid(void)
{
	return tap_syscall0(NR_GETPID);
}

static long raw_execve(const char *path, char *const argv[], char *const envp[])
{
	return tap_syscall3(NR_EXECVE, (long)path, (long)argv, (long)envp);
}

// Block in the kernel until the pipe's write end is closed (read returns 0 or fails).
static void raw_block_on(int fd)
{
	char c;

	tap_syscall3(0, fd, (long)&c, 1);
}

static void raw_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	tap_syscall2(NR_NANOSLEEP, (long)&ts, 0);
}

// Wait for pid through the raw call, retrying EINTR; return the wait status or -1.
static int raw_wait_status(long pid)
{
	int status = -1;
	long got;

	do
		got = raw_wait4(pid, &status, 0);
	while (got == -EINTR);
	if (got != pid) {
		tap_diag("wait4(%ld) returned %ld", pid, got);
		return -1;
	}
	return status;
}

#define CHECK_EXITED(status, code)                                                    \
	do {                                                                          \
		char buf_[96];                                                        \
		int st_ = (status), code_ = (int)(code);                              \
		if (st_ == -1 || !WIFEXITED(st_) || WEXITSTATUS(st_) != code_)        \
			tap_fail_at(__FILE__, __LINE__, "child %s, want exit status %d", \
				    st_ == -1 ? "not waited for" :                     \
				    tap_status_str(st_, buf_, sizeof(buf_)), code_); \
	} while (0)

// fork returns twice: 0 in the child, the child's pid in the parent. The child is a copy:
// it sees the parent's memory as it was, and its writes do not reach the parent.
static void test_fork_returns_twice(void)
{
	static volatile int shared_looking = 11;
	long parent = raw_getpid();
	int fds[2];
	long pid;

	TAP_REQUIRE(pipe(fds) == 0);
	pid = raw_fork();
	if (pid == 0) {
		long report[3] = { raw_getpid(), tap_syscall0(NR_GETPPID), shared_looking };

		shared_looking = 99;
		tap_syscall3(1, fds[1], (long)report, sizeof(report));
		raw_exit(0);
	}
	TAP_REQUIRE(pid > 0);
	close(fds[1]);
	long report[3] = { 0 };
	TAP_CHECK_EQ(read(fds[0], report, sizeof(report)), sizeof(report));
	TAP_CHECK_EQ(report[0], pid);		// the child's getpid is what fork returned
	TAP_CHECK_EQ(report[1], parent);	// and its parent is us
	TAP_CHECK_EQ(report[2], 11);
	CHECK_EXITED(raw_wait_status(pid), 0);
	TAP_CHECK_EQ(shared_looking, 11);
	TAP_CHECK(pid != parent);
}

// exit's status, all 8 bits of it, reaches wait4; only the low byte survives.
static void test_exit_status(void)
{
	static const long codes[] = { 0, 1, 42, 127, 128, 255, 256 + 3 };

	for (size_t i = 0; i < TAP_COUNT(codes); i++) {
		long pid = raw_fork();

		if (pid == 0)
			raw_exit(codes[i]);
		TAP_REQUIRE(pid > 0);
		CHECK_EXITED(raw_wait_status(pid), codes[i] & 0xff);
	}
}

// wait4 with a NULL status pointer reaps without writing anything.
static void test_wait_null_status(void)
{
	long pid = raw_fork();

	if (pid == 0)
		raw_exit(5);
	TAP_REQUIRE(pid > 0);
	TAP_CHECK_EQ(raw_wait4(pid, NULL, 0), pid);
	TAP_CHECK_EQ(raw_wait4(pid, NULL, 0), -ECHILD);
}

// The path this program was started from.
static const char *self_path(void)
{
	const char *path = (const char *)getauxval(AT_EXECFN);

	TAP_REQUIRE(path != NULL && path[0] != '\0');
	return path;
}

// execve replaces the program: a child execs this program with "--exit 42" and exits 42
// from the new image's main().
static void test_execve_self(void)
{
	const char *path = self_path();
	char *const argv[] = { (char *)path, EXIT_FLAG, "42", NULL };
	char *const envp[] = { "TRAPEZE_TEST=1", NULL };
	long pid = raw_fork();

	if (pid == 0) {
		raw_execve(path, argv, envp);
		raw_exit(127);
	}
	TAP_REQUIRE(pid > 0);
	CHECK_EXITED(raw_wait_status(pid), 42);
}

// execve of a real outside program: busybox true (or the host's /bin/true).
static void test_execve_true(void)
{
	const char *path = access(BUSYBOX, X_OK) == 0 ? BUSYBOX : HOST_TRUE;
	char *const argv[] = { "true", NULL };
	char *const envp[] = { NULL };
	long pid;

	if (access(path, X_OK) != 0)
		tap_skip("neither " BUSYBOX " nor " HOST_TRUE " exists");
	pid = raw_fork();
	if (pid == 0) {
		raw_execve(path, argv, envp);
		raw_exit(127);
	}
	TAP_REQUIRE(pid > 0);
	CHECK_EXITED(raw_wait_status(pid), 0);
	tap_diag("ran %s", path);
}

// A failed execve returns an error to the caller, which goes on.
static void test_execve_missing(void)
{
	char *const argv[] = { "nothing", NULL };
	char *const envp[] = { NULL };

	TAP_CHECK_EQ(raw_execve("/no/such/program", argv, envp), -ENOENT);
	TAP_CHECK_EQ(raw_getpid(), getpid());
}

// kill(SIGKILL) ends a child asleep in nanosleep; the status says signal 9.
static void test_kill_sleeping(void)
{
	long pid = raw_fork();
	int status;

	if (pid == 0) {
		raw_sleep_ms(20000);
		raw_exit(0);
	}
	TAP_REQUIRE(pid > 0);
	raw_sleep_ms(50);
	TAP_CHECK_EQ(raw_kill(pid, SIGKILL), 0);
	status = raw_wait_status(pid);
	TAP_CHECK(status != -1 && WIFSIGNALED(status));
	TAP_CHECK_EQ(WTERMSIG(status), SIGKILL);
	TAP_CHECK(!WIFEXITED(status));
}

// kill with signal 0 checks for existence; bad signal numbers and gone pids fail.
static void test_kill_errors(void)
{
	long pid = raw_fork();

	if (pid == 0)
		raw_exit(0);
	TAP_REQUIRE(pid > 0);
	CHECK_EXITED(raw_wait_status(pid), 0);
	TAP_CHECK_EQ(raw_kill(pid, 0), -ESRCH);		// reaped: gone
	TAP_CHECK_EQ(raw_kill(raw_getpid(), 0), 0);
	TAP_CHECK_EQ(raw_kill(raw_getpid(), 65), -EINVAL);
	TAP_CHECK_EQ(raw_kill(raw_getpid(), -1), -EINVAL);
}

// While the child runs, WNOHANG returns 0 at once; after it exits, its pid.
static void test_wnohang(void)
{
	int fds[2], status = -1;
	long pid, got;

	TAP_REQUIRE(pipe(fds) == 0);
	pid = raw_fork();
	if (pid == 0) {
		close(fds[1]);
		raw_block_on(fds[0]);
		raw_exit(3);
	}
	TAP_REQUIRE(pid > 0);
	close(fds[0]);
	TAP_CHECK_EQ(raw_wait4(pid, &status, WNOHANG), 0);
	TAP_CHECK_EQ(raw_wait4(-1, &status, WNOHANG), 0);
	close(fds[1]);
	do {
		got = raw_wait4(pid, &status, WNOHANG);
		if (got == 0)
			raw_sleep_ms(5);
	} while (got == 0);
	TAP_CHECK_EQ(got, pid);
	CHECK_EXITED(status, 3);
}

// A child that blocks on fd until every write end of its pipe is closed, put in its own
// process group when new_group is set (by both parent and child, so that neither order of
// running races). The child closes every other descriptor: an inherited write end would
// keep a sibling's pipe open.
static long spawn_blocked(int fd, int new_group, long code)
{
	long pid = raw_fork();

	if (pid == 0) {
		for (int other = 3; other < 64; other++)
			if (other != fd)
				close(other);
		if (new_group)
			tap_syscall2(NR_SETPGID, 0, 0);
		raw_block_on(fd);
		raw_exit(code);
	}
	TAP_REQUIRE(pid > 0);
	if (new_group)
		tap_syscall2(NR_SETPGID, pid, pid);
	return pid;
}

// wait4's selectors: pid > 0 that child; -1 any child; 0 any child in our process group;
// -pgid any child in that group. A selector that matches no child gives ECHILD.
static void test_wait_selectors(void)
{
	int same[2], other[2], status;
	long a, b, c;

	TAP_REQUIRE(pipe(same) == 0 && pipe(other) == 0);
	a = spawn_blocked(same[0], 0, 10);	// our group
	b = spawn_blocked(other[0], 1, 11);	// group b
	c = spawn_blocked(other[0], 0, 12);	// our group
	TAP_CHECK_EQ(tap_syscall1(NR_GETPGID, b), b);
	TAP_CHECK_EQ(tap_syscall1(NR_GETPGID, a), tap_syscall1(NR_GETPGID, 0));

	// b's group holds only b; nobody has exited yet.
	TAP_CHECK_EQ(raw_wait4(-b, &status, WNOHANG), 0);
	TAP_CHECK_EQ(raw_wait4(0, &status, WNOHANG), 0);
	// Release b and c (both block on `other`); b is not in our group.
	close(other[0]);
	close(other[1]);
	status = -1;
	TAP_CHECK_EQ(raw_wait4(-b, &status, 0), b);
	CHECK_EXITED(status, 11);
	status = -1;
	TAP_CHECK_EQ(raw_wait4(0, &status, 0), c);	// a still blocks: only c can come
	CHECK_EXITED(status, 12);
	TAP_CHECK_EQ(raw_wait4(-b, &status, WNOHANG), -ECHILD);	// group b is empty now
	TAP_CHECK_EQ(raw_wait4(b, &status, WNOHANG), -ECHILD);	// reaped already
	TAP_CHECK_EQ(raw_wait4(0, &status, WNOHANG), 0);		// a still runs

	close(same[1]);
	close(same[0]);
	status = -1;
	TAP_CHECK_EQ(raw_wait4(-1, &status, 0), a);
	CHECK_EXITED(status, 10);
	TAP_CHECK_EQ(raw_wait4(-1, &status, 0), -ECHILD);
	TAP_CHECK_EQ(raw_wait4(0, &status, 0), -ECHILD);
}

// wait4(0) ignores a zombie child in another process group.
static void test_wait_zero_skips_other_group(void)
{
	int fds[2], status;
	long b, a, got;

	TAP_REQUIRE(pipe(fds) == 0);
	b = raw_fork();
	if (b == 0) {
		tap_syscall2(NR_SETPGID, 0, 0);
		raw_exit(21);
	}
	TAP_REQUIRE(b > 0);
	tap_syscall2(NR_SETPGID, b, b);	// fails with ESRCH/EACCES if b was faster: fine
	a = spawn_blocked(fds[0], 0, 22);
	raw_sleep_ms(200);		// b has certainly exited by now
	got = raw_wait4(0, &status, WNOHANG);
	TAP_CHECK_EQ(got, 0);
	close(fds[0]);
	close(fds[1]);
	status = -1;
	TAP_CHECK_EQ(raw_wait4(0, &status, 0), a);
	CHECK_EXITED(status, 22);
	status = -1;
	TAP_CHECK_EQ(raw_wait4(b, &status, 0), b);
	CHECK_EXITED(status, 21);
}

// ECHILD: no children at all, a pid that is not our child, our own pid, our parent.
static void test_echild(void)
{
	int status;

	TAP_CHECK_EQ(raw_wait4(-1, &status, 0), -ECHILD);
	TAP_CHECK_EQ(raw_wait4(-1, &status, WNOHANG), -ECHILD);
	TAP_CHECK_EQ(raw_wait4(0, &status, 0), -ECHILD);
	TAP_CHECK_EQ(raw_wait4(raw_getpid(), &status, 0), -ECHILD);
	TAP_CHECK_EQ(raw_wait4(tap_syscall0(NR_GETPPID), &status, 0), -ECHILD);
	TAP_CHECK_EQ(raw_wait4(1, &status, 0), -ECHILD);
	TAP_CHECK_EQ(raw_wait4(-1, &status, 0x100), -EINVAL);	// unknown option bit
}

// wait4 with a bad status pointer fails with EFAULT (Linux reaps the child anyway).
static void test_wait_efault(void)
{
	long pid = raw_fork(), got;

	if (pid == 0)
		raw_exit(0);
	TAP_REQUIRE(pid > 0);
	raw_sleep_ms(50);
	got = raw_wait4(pid, (int *)8, 0);
	TAP_CHECK_EQ(got, -EFAULT);
	// Whatever the kernel did with the child, it must not be left for ever.
	got = raw_wait4(pid, NULL, WNOHANG);
	TAP_CHECK(got == -ECHILD || got == pid);
}

// Many children at once, reaped by -1 in any order: every pid comes back exactly once.
static void test_many_children(void)
{
	enum { N = 20 };
	long pids[N];
	int seen[N] = { 0 };

	for (int i = 0; i < N; i++) {
		pids[i] = raw_fork();
		if (pids[i] == 0)
			raw_exit(100 + i);
		TAP_REQUIRE(pids[i] > 0);
	}
	for (int n = 0; n < N; n++) {
		int status = -1;
		long got = raw_wait4(-1, &status, 0);
		int i;

		for (i = 0; i < N && pids[i] != got; i++)
			;
		if (i == N) {
			tap_fail_at(__FILE__, __LINE__, "wait4(-1) returned %ld", got);
			return;
		}
		seen[i]++;
		CHECK_EXITED(status, 100 + i);
	}
	for (int i = 0; i < N; i++)
		TAP_CHECK_EQ(seen[i], 1);
	TAP_CHECK_EQ(raw_wait4(-1, NULL, 0), -ECHILD);
}

static const struct tap_test tests[] = {
	{ "fork (57) returns 0 in the child and the child's pid in the parent",
	  test_fork_returns_twice },
	{ "exit (60) status reaches wait4 (61), low 8 bits", test_exit_status },
	{ "wait4 with a NULL status pointer reaps", test_wait_null_status },
	{ "execve (59) of this program with arguments", test_execve_self },
	{ "execve (59) of busybox true", test_execve_true },
	{ "execve (59) of a missing file returns ENOENT", test_execve_missing },
	{ "kill (62) SIGKILL ends a sleeping child, status shows signal 9", test_kill_sleeping },
	{ "kill (62) with signal 0, bad signals, reaped pids", test_kill_errors },
	{ "wait4 WNOHANG returns 0 while the child runs", test_wnohang },
	{ "wait4 pid selectors: pid, -1, 0, -pgid", test_wait_selectors },
	{ "wait4(0) skips a zombie in another process group", test_wait_zero_skips_other_group },
	{ "wait4 without a matching child gives ECHILD", test_echild },
	{ "wait4 with a bad status pointer gives EFAULT", test_wait_efault },
	{ "20 children reaped by wait4(-1), each once", test_many_children },
};

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], EXIT_FLAG) == 0)
		return atoi(argv[2]);
	return tap_run(tests, TAP_COUNT(tests));
}
