// A process's life from fork to reaping: zombies stay until waited for, orphans go to init,
// every exit status and terminating signal reaches the parent; vfork, posix_spawn and
// system(); execve's errors and what survives a successful execve (descriptors without
// close-on-exec, ignored signals, the signal mask) and what does not (close-on-exec
// descriptors, caught signals); `#!` scripts; a fork bomb that the task limit contains.
//
// The program re-executes itself (AT_EXECFN, made absolute with the working directory) in
// helper modes chosen by argv[1]; see helper_main(). Scratch files go to /tmp.

#define _GNU_SOURCE
#include "tap.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>

#define NSEC_PER_MSEC 1000000LL
#define NSEC_PER_SEC 1000000000LL

#define NR_EXECVE 59
#define BUSYBOX "/bin/busybox"
#define BOMB_NPROC 100		// RLIMIT_NPROC for the fork bomb where it can be set
#define BOMB_SAFETY 5000	// the bomb gives up here even if fork never fails
#define NOBODY_UID 65534	// RLIMIT_NPROC does not bind root
#define E2BIG_STRINGS 30	// 30 arguments of 100 KiB: past Linux's 2 MiB (stack limit / 4)
#define E2BIG_STRING_LEN (100 << 10)

extern char **environ;

static char self[512];		// absolute path of this program

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * NSEC_PER_MSEC };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int is_trapeze(void)
{
	struct utsname u;

	return uname(&u) == 0 && strcmp(u.sysname, "Trapeze") == 0;
}

#define CHECK_EXITED(status, code)                                                    \
	do {                                                                          \
		char buf_[96];                                                        \
		int st_ = (status), code_ = (code);                                   \
		if (st_ == -1 || !WIFEXITED(st_) || WEXITSTATUS(st_) != code_)        \
			tap_fail_at(__FILE__, __LINE__, "child %s, want exit status %d", \
				    st_ == -1 ? "not waited for" :                     \
				    tap_status_str(st_, buf_, sizeof(buf_)), code_); \
	} while (0)

// Read fd to EOF into buf (NUL-terminated); return the length.
static size_t read_all(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len < size - 1) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return len;
}

// Fork; the child runs execve(path, argv, environ) and exits 127 if it fails. Returns the
// child's wait status; with out, the child's stdout is collected there.
static int run_exec(const char *path, char *const argv[], char *out, size_t size)
{
	int fds[2];
	pid_t pid;

	TAP_REQUIRE(pipe(fds) == 0);
	pid = fork();
	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		if (out)
			dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execve(path, argv, environ);
		_exit(127);
	}
	close(fds[1]);
	if (out)
		read_all(fds[0], out, size);
	close(fds[0]);
	return tap_wait(pid);
}

// Write a scratch file /tmp/lifecycle.<pid>.<name> with mode; its path goes to path.
static void scratch_file(const char *name, const char *data, size_t len, mode_t mode,
			 char *path, size_t size)
{
	int fd;

	snprintf(path, size, "/tmp/lifecycle.%d.%s", (int)getpid(), name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	TAP_REQUIRE(fd >= 0);
	TAP_REQUIRE(write(fd, data, len) == (ssize_t)len);
	TAP_REQUIRE(close(fd) == 0);
	TAP_REQUIRE(chmod(path, mode) == 0);
}

// ---- zombies and orphans -------------------------------------------------------------------

// An exited child stays (a zombie: it still answers kill(pid, 0)) until wait4 collects it
// with its status; then it is gone.
static void test_zombie(void)
{
	int status = -1;
	pid_t pid = fork();

	TAP_REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(33);
	sleep_ms(100);
	TAP_CHECK_EQ(kill(pid, 0), 0);
	sleep_ms(100);
	TAP_CHECK_EQ(waitpid(pid, &status, WNOHANG), pid);
	CHECK_EXITED(status, 33);
	TAP_CHECK_EQ(waitpid(pid, &status, WNOHANG), -1);
	TAP_CHECK_EQ(errno, ECHILD);
	TAP_CHECK_EQ(kill(pid, 0), -1);
	TAP_CHECK_EQ(errno, ESRCH);
}

// With SIGCHLD set to SIG_IGN children are reaped as they exit: no zombie, and wait4 waits
// for them all and then fails with ECHILD (POSIX, Linux).
static void test_sigchld_ignored_no_zombie(void)
{
	pid_t pid;

	TAP_REQUIRE(signal(SIGCHLD, SIG_IGN) != SIG_ERR);
	pid = fork();
	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		sleep_ms(50);
		_exit(1);
	}
	TAP_CHECK_EQ(waitpid(pid, NULL, 0), -1);
	TAP_CHECK_EQ(errno, ECHILD);
	TAP_CHECK_EQ(kill(pid, 0), -1);
}

// A grandchild whose parent exits is reparented: getppid() changes from the old parent to
// init (pid 1; on Linux maybe a subreaper instead), and init reaps it when it exits.
static void test_orphan(void)
{
	int report[2], go[2];
	pid_t mid, ppids[2] = { 0, 0 }, grandchild = 0;

	TAP_REQUIRE(pipe(report) == 0 && pipe(go) == 0);
	mid = fork();
	TAP_REQUIRE(mid >= 0);
	if (mid == 0) {
		pid_t g = fork(), first;
		char c;

		if (g < 0)
			_exit(2);
		if (g == 0) {
			long long deadline = now_ns() + 3 * NSEC_PER_SEC;

			close(go[0]);
			close(go[1]);
			first = getppid();
			pid_t me = getpid();
			if (write(report[1], &me, sizeof(me)) != sizeof(me) ||
			    write(report[1], &first, sizeof(first)) != sizeof(first))
				_exit(3);
			while (getppid() == first && now_ns() < deadline)
				sleep_ms(1);
			first = getppid();
			if (write(report[1], &first, sizeof(first)) != sizeof(first))
				_exit(3);
			_exit(0);
		}
		close(go[1]);
		while (read(go[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(report[1]);
	close(go[0]);
	TAP_CHECK_EQ(read(report[0], &grandchild, sizeof(grandchild)), sizeof(grandchild));
	TAP_CHECK_EQ(read(report[0], &ppids[0], sizeof(ppids[0])), sizeof(ppids[0]));
	TAP_CHECK_EQ(ppids[0], mid);
	close(go[1]);		// the middle process exits now
	CHECK_EXITED(tap_wait(mid), 0);
	TAP_CHECK_EQ(read(report[0], &ppids[1], sizeof(ppids[1])), sizeof(ppids[1]));
	tap_diag("grandchild %d: parent %d, then %d", (int)grandchild, (int)ppids[0],
		 (int)ppids[1]);
	TAP_CHECK(ppids[1] != mid);
	TAP_CHECK(ppids[1] > 0);
	if (is_trapeze())
		TAP_CHECK_EQ(ppids[1], 1);
	// Not our child: we cannot wait for it.
	TAP_CHECK_EQ(waitpid(grandchild, NULL, 0), -1);
	TAP_CHECK_EQ(errno, ECHILD);
	if (ppids[1] == 1) {
		// init reaps it: kill(pid, 0) stops finding it.
		long long deadline = now_ns() + 3 * NSEC_PER_SEC;

		while (kill(grandchild, 0) == 0 && now_ns() < deadline)
			sleep_ms(5);
		TAP_CHECK_EQ(kill(grandchild, 0), -1);
		TAP_CHECK_EQ(errno, ESRCH);
	}
	close(report[0]);
}

// ---- exit statuses and signals -------------------------------------------------------------

static void test_exit_statuses(void)
{
	for (int code = 0; code < 256; code++) {
		int status;
		pid_t pid = fork();

		TAP_REQUIRE(pid >= 0);
		if (pid == 0)
			_exit(code);
		status = tap_wait(pid);
		if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != code) {
			tap_fail_at(__FILE__, __LINE__, "_exit(%d): wait status %#x", code,
				    (unsigned int)status);
			return;
		}
		TAP_CHECK(!WIFSIGNALED(status) && !WIFSTOPPED(status));
	}
}

// Every signal whose default action terminates ends the child with that signal.
static void test_killed_by_signals(void)
{
	const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS,
				    SIGFPE, SIGKILL, SIGUSR1, SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM,
				    SIGTERM, SIGSTKFLT, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF,
				    SIGIO, SIGPWR, SIGSYS, SIGRTMIN, SIGRTMAX };

	for (size_t i = 0; i < TAP_COUNT(sigs); i++) {
		int status;
		pid_t pid = fork();

		TAP_REQUIRE(pid >= 0);
		if (pid == 0) {
			kill(getpid(), sigs[i]);
			_exit(100);
		}
		status = tap_wait(pid);
		if (status == -1 || !WIFSIGNALED(status) || WTERMSIG(status) != sigs[i])
			tap_fail_at(__FILE__, __LINE__, "signal %d: wait status %#x", sigs[i],
				    (unsigned int)status);
	}
}

// ---- vfork, posix_spawn, system ------------------------------------------------------------

static volatile int vfork_shared;

// The vfork child shares the parent's memory, and the parent waits until the child exits.
static void test_vfork_shares_and_suspends(void)
{
	struct timespec nap = { 0, 100 * NSEC_PER_MSEC };
	long long t0 = now_ns(), elapsed;
	pid_t pid;

	vfork_shared = 1;
	pid = vfork();
	if (pid == 0) {
		vfork_shared = 42;
		syscall(SYS_nanosleep, &nap, NULL);
		_exit(5);
	}
	elapsed = now_ns() - t0;
	TAP_REQUIRE(pid > 0);
	TAP_CHECK_EQ(vfork_shared, 42);
	TAP_CHECK(elapsed >= 100 * NSEC_PER_MSEC);
	CHECK_EXITED(tap_wait(pid), 5);
}

// After the vfork child execs, the parent resumes while the new program still runs.
static void test_vfork_exec_resumes_parent(void)
{
	char *const argv[] = { self, "--sleep", "500", NULL };
	pid_t pid = vfork();

	if (pid == 0) {
		execve(self, argv, environ);
		_exit(127);
	}
	TAP_REQUIRE(pid > 0);
	TAP_CHECK_EQ(waitpid(pid, NULL, WNOHANG), 0);
	CHECK_EXITED(tap_wait(pid), 0);
}

static void test_posix_spawn(void)
{
	char *const argv[] = { self, "--exit", "7", NULL };
	char *const echo_argv[] = { self, "--argv", "spawned", NULL };
	char *const missing_argv[] = { "missing", NULL };
	posix_spawn_file_actions_t fa;
	char out[256], want[600];
	int fds[2];
	pid_t pid;

	TAP_CHECK_EQ(posix_spawn(&pid, self, NULL, NULL, argv, environ), 0);
	CHECK_EXITED(tap_wait(pid), 7);

	TAP_CHECK_EQ(posix_spawn(&pid, "/no/such/program", NULL, NULL, missing_argv, environ),
		     ENOENT);

	TAP_REQUIRE(pipe(fds) == 0);
	TAP_REQUIRE(posix_spawn_file_actions_init(&fa) == 0);
	TAP_REQUIRE(posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO) == 0);
	TAP_REQUIRE(posix_spawn_file_actions_addclose(&fa, fds[0]) == 0);
	TAP_REQUIRE(posix_spawn_file_actions_addclose(&fa, fds[1]) == 0);
	TAP_CHECK_EQ(posix_spawn(&pid, self, &fa, NULL, echo_argv, environ), 0);
	close(fds[1]);
	read_all(fds[0], out, sizeof(out));
	close(fds[0]);
	CHECK_EXITED(tap_wait(pid), 0);
	snprintf(want, sizeof(want), "%s|--argv|spawned\n", self);
	TAP_CHECK_STR(out, want);
	posix_spawn_file_actions_destroy(&fa);
}

static void test_system(void)
{
	int status;

	if (access("/bin/sh", X_OK) != 0)
		tap_skip("no /bin/sh");
	status = system("exit 3");
	CHECK_EXITED(status, 3);
	status = system("true");
	CHECK_EXITED(status, 0);
	status = system("kill -9 $$");
	TAP_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

// ---- execve errors ------------------------------------------------------------------------

static int exec_errno(const char *path)
{
	char *const argv[] = { (char *)path, NULL };

	errno = 0;
	TAP_CHECK_EQ(execve(path, argv, environ), -1);
	return errno;
}

static void test_exec_enoent(void)
{
	TAP_CHECK_EQ(exec_errno("/no/such/program"), ENOENT);
	TAP_CHECK_EQ(exec_errno("/no-such-dir/x"), ENOENT);
	TAP_CHECK_EQ(exec_errno(""), ENOENT);
}

static void test_exec_eacces(void)
{
	static const char elf_like[] = "\177ELF not really";
	char path[128];

	scratch_file("noexec", elf_like, sizeof(elf_like), 0644, path, sizeof(path));
	TAP_CHECK_EQ(exec_errno(path), EACCES);	// no x bit: even root may not run it
	unlink(path);
	TAP_CHECK_EQ(exec_errno("/tmp"), EACCES);	// a directory
	TAP_CHECK_EQ(exec_errno("/dev/null"), EACCES);	// not a regular file
}

// A file with an x bit that is neither ELF nor a #! script: the system call says ENOEXEC
// (only execvp-style library functions fall back to the shell).
static void test_exec_enoexec(void)
{
	static const char garbage[] = "this is not a program\n";
	static const char short_elf[] = "\177ELF";
	char path[128];

	scratch_file("garbage", garbage, sizeof(garbage) - 1, 0755, path, sizeof(path));
	TAP_CHECK_EQ(exec_errno(path), ENOEXEC);
	unlink(path);
	scratch_file("shortelf", short_elf, sizeof(short_elf) - 1, 0755, path, sizeof(path));
	TAP_CHECK_EQ(exec_errno(path), ENOEXEC);
	unlink(path);
	scratch_file("empty", "", 0, 0755, path, sizeof(path));
	TAP_CHECK_EQ(exec_errno(path), ENOEXEC);
	unlink(path);
}

static void test_exec_enotdir(void)
{
	char path[128], sub[160];

	scratch_file("plain", "x", 1, 0755, path, sizeof(path));
	snprintf(sub, sizeof(sub), "%s/prog", path);
	TAP_CHECK_EQ(exec_errno(sub), ENOTDIR);
	unlink(path);
}

// Bad pointers for the path, argv, an argv string or envp: EFAULT, through the raw call so
// that no libc wrapper touches them first.
static void test_exec_efault(void)
{
	char *const argv[] = { self, NULL };
	char *const bad_argv[] = { self, (char *)8, NULL };
	char *const envp[] = { NULL };

	TAP_CHECK_EQ(tap_syscall3(NR_EXECVE, 1, (long)argv, (long)envp), -EFAULT);
	TAP_CHECK_EQ(tap_syscall3(NR_EXECVE, (long)self, 8, (long)envp), -EFAULT);
	TAP_CHECK_EQ(tap_syscall3(NR_EXECVE, (long)self, (long)bad_argv, (long)envp), -EFAULT);
	TAP_CHECK_EQ(tap_syscall3(NR_EXECVE, (long)self, (long)argv, 8), -EFAULT);
	TAP_CHECK_EQ(tap_syscall3(NR_EXECVE, (long)0xffff800000000000UL, (long)argv,
				  (long)envp), -EFAULT);
}

static void test_exec_e2big(void)
{
	char *argv[E2BIG_STRINGS + 2];
	char *big = malloc(E2BIG_STRING_LEN);

	TAP_REQUIRE(big != NULL);
	memset(big, 'a', E2BIG_STRING_LEN - 1);
	big[E2BIG_STRING_LEN - 1] = '\0';
	argv[0] = self;
	for (int i = 1; i <= E2BIG_STRINGS; i++)
		argv[i] = big;
	argv[E2BIG_STRINGS + 1] = NULL;
	errno = 0;
	TAP_CHECK_EQ(execve(self, argv, environ), -1);
	TAP_CHECK_EQ(errno, E2BIG);
	free(big);
}

// After every kind of failed execve the caller is untouched: memory, descriptors, and the
// ability to exec afterwards.
static void test_exec_failure_leaves_caller(void)
{
	static int canary = 0x5eed;
	char *const argv[] = { self, "--exit", "9", NULL };
	char *heap = malloc(4096), path[128];
	int fd = open("/dev/null", O_RDONLY);

	TAP_REQUIRE(heap != NULL && fd >= 0);
	memset(heap, 0x77, 4096);
	scratch_file("junk", "junk", 4, 0755, path, sizeof(path));
	TAP_CHECK_EQ(exec_errno(path), ENOEXEC);
	unlink(path);
	TAP_CHECK_EQ(exec_errno("/no/such/program"), ENOENT);
	TAP_CHECK_EQ(tap_syscall3(NR_EXECVE, 1, 0, 0), -EFAULT);
	TAP_CHECK_EQ(canary, 0x5eed);
	TAP_CHECK(heap[0] == 0x77 && heap[4095] == 0x77);
	TAP_CHECK(fcntl(fd, F_GETFD) >= 0);
	CHECK_EXITED(run_exec(self, argv, NULL, 0), 9);
	close(fd);
	free(heap);
}

// ---- #! scripts ----------------------------------------------------------------------------

// The kernel runs a script's interpreter with argv: interpreter, its one optional argument,
// the script's path, then the script's own arguments after argv[0].
static void test_script_self_interpreter(void)
{
	char script[600], path[128], out[1024], want[1024];
	char *argv[] = { "ignored-argv0", "one", "two words", NULL };
	int len;

	len = snprintf(script, sizeof(script), "#!%s --argv\nignored\n", self);
	TAP_REQUIRE(len < 256);	// within Linux's #! line limit
	scratch_file("script", script, (size_t)len, 0755, path, sizeof(path));
	CHECK_EXITED(run_exec(path, argv, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s|--argv|%s|one|two words\n", self, path);
	TAP_CHECK_STR(out, want);
	unlink(path);
}

static void test_script_busybox_echo(void)
{
	static const char script[] = "#!/bin/busybox echo\n";
	char path[128], out[256], want[256];
	char *argv[] = { "script", "hello", NULL };

	if (access(BUSYBOX, X_OK) != 0)
		tap_skip("no " BUSYBOX);
	scratch_file("echo", script, sizeof(script) - 1, 0755, path, sizeof(path));
	CHECK_EXITED(run_exec(path, argv, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s hello\n", path);
	TAP_CHECK_STR(out, want);
	unlink(path);
}

static void test_script_missing_interpreter(void)
{
	static const char script[] = "#!/no/such/interpreter\n";
	char path[128];

	scratch_file("badinterp", script, sizeof(script) - 1, 0755, path, sizeof(path));
	TAP_CHECK_EQ(exec_errno(path), ENOENT);
	unlink(path);
}

// ---- what execve keeps and resets ----------------------------------------------------------

static void test_exec_cloexec(void)
{
	int closed = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int kept = open("/dev/null", O_RDONLY);
	int dup_cloexec = fcntl(kept, F_DUPFD_CLOEXEC, 20);
	char a[16], b[16], c[16];
	char *argv[] = { self, "--fdcheck", a, b, c, NULL };

	TAP_REQUIRE(closed >= 0 && kept >= 0 && dup_cloexec >= 20);
	snprintf(a, sizeof(a), "%d", closed);
	snprintf(b, sizeof(b), "%d", kept);
	snprintf(c, sizeof(c), "%d", dup_cloexec);
	CHECK_EXITED(run_exec(self, argv, NULL, 0), 0);
	// FD_CLOEXEC set later with F_SETFD counts too.
	TAP_CHECK_EQ(fcntl(kept, F_SETFD, FD_CLOEXEC), 0);
	char *argv2[] = { self, "--fdcheck", b, "0", c, NULL };
	CHECK_EXITED(run_exec(self, argv2, NULL, 0), 0);
}

static void on_signal(int sig)
{
}

// Caught signals are reset to the default by execve, ignored ones stay ignored, and the
// blocked mask is kept.
static void test_exec_signal_dispositions(void)
{
	char *const argv[] = { self, "--sigcheck", NULL };
	sigset_t block;

	TAP_REQUIRE(signal(SIGUSR1, on_signal) != SIG_ERR);
	TAP_REQUIRE(signal(SIGUSR2, SIG_IGN) != SIG_ERR);
	TAP_REQUIRE(signal(SIGTERM, on_signal) != SIG_ERR);
	sigemptyset(&block);
	sigaddset(&block, SIGHUP);
	TAP_REQUIRE(sigprocmask(SIG_BLOCK, &block, NULL) == 0);
	CHECK_EXITED(run_exec(self, argv, NULL, 0), 0);
}

// ---- a fork bomb, contained ----------------------------------------------------------------

// The bomb: fork children that sleep, until fork fails, in a process group of their own.
// Reports the count and fork's errno on fd, then, told to, kills the group with
// kill(-pgid, SIGKILL), reaps and counts, and forks once more.
static void bomb_controller(int report_fd)
{
	struct rlimit lim = { BOMB_NPROC, BOMB_NPROC };
	int forked = 0, fork_errno = 0, reaped = 0, by_sigkill = 0, status;
	pid_t group = 0, pid;

	// Trapeze accepts the limit, but its only user is root, whom RLIMIT_NPROC does not
	// bind (as on Linux): there the kernel's task limit stops the bomb.
	if (setrlimit(RLIMIT_NPROC, &lim) == 0) {
		if (geteuid() == 0 && setuid(NOBODY_UID) != 0 && !is_trapeze())
			_exit(20);
	} else if (!is_trapeze()) {
		_exit(21);	// do not bomb a host without a limit
	}
	for (;;) {
		if (forked >= BOMB_SAFETY)
			break;
		pid = fork();
		if (pid < 0) {
			fork_errno = errno;
			break;
		}
		if (pid == 0) {
			setpgid(0, group);
			for (;;)
				pause();
		}
		setpgid(pid, group);
		if (!group)
			group = pid;
		forked++;
	}
	if (group && kill(-group, SIGKILL) != 0)
		_exit(22);
	while ((pid = wait(&status)) > 0) {
		reaped++;
		by_sigkill += WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
	}
	pid = fork();
	if (pid == 0)
		_exit(0);
	int after = pid > 0 && tap_wait(pid) == 0;
	int report[5] = { forked, fork_errno, reaped, by_sigkill, after };
	if (write(report_fd, report, sizeof(report)) != sizeof(report))
		_exit(23);
	_exit(0);
}

static void test_fork_bomb(void)
{
	int fds[2], report[5] = { 0 }, status;
	pid_t pid;

	TAP_REQUIRE(pipe(fds) == 0);
	pid = fork();
	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		bomb_controller(fds[1]);
	}
	close(fds[1]);
	read(fds[0], report, sizeof(report));
	status = tap_wait(pid);
	if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 21)
		tap_skip("no process limit can be set here");
	CHECK_EXITED(status, 0);
	tap_diag("forked %d, then errno %d; reaped %d, %d by SIGKILL", report[0], report[1],
		 report[2], report[3]);
	TAP_CHECK(report[0] > 0);
	TAP_CHECK(report[0] < BOMB_SAFETY);
	TAP_CHECK_EQ(report[1], EAGAIN);
	TAP_CHECK_EQ(report[2], report[0]);
	TAP_CHECK_EQ(report[3], report[0]);
	TAP_CHECK_EQ(report[4], 1);
	// And here too, outside the bomb.
	pid = fork();
	TAP_REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(0);
	CHECK_EXITED(tap_wait(pid), 0);
}

static const struct tap_test tests[] = {
	{ "an exited child stays a zombie until wait4 collects its status", test_zombie },
	{ "SIGCHLD ignored: exited children leave no zombie", test_sigchld_ignored_no_zombie },
	{ "an orphan is reparented (to init) and reaped", test_orphan },
	{ "exit statuses 0..255 reach the parent", test_exit_statuses },
	{ "terminating signals reach the parent as WTERMSIG", test_killed_by_signals },
	{ "vfork: child shares memory, parent waits for its exit", test_vfork_shares_and_suspends },
	{ "vfork: parent resumes when the child execs", test_vfork_exec_resumes_parent },
	{ "posix_spawn: status, ENOENT, file actions", test_posix_spawn },
	{ "system(): exit 3, true, kill -9 $$", test_system },
	{ "execve: ENOENT", test_exec_enoent },
	{ "execve: EACCES without x bit, for a directory and a device", test_exec_eacces },
	{ "execve: ENOEXEC for garbage, a short ELF and an empty file", test_exec_enoexec },
	{ "execve: ENOTDIR", test_exec_enotdir },
	{ "execve: EFAULT for bad path, argv, argv[i], envp", test_exec_efault },
	{ "execve: E2BIG for 3 MiB of arguments", test_exec_e2big },
	{ "execve: a failed exec leaves the caller intact", test_exec_failure_leaves_caller },
	{ "#! script runs its interpreter with the right argv", test_script_self_interpreter },
	{ "#!/bin/busybox echo script", test_script_busybox_echo },
	{ "#! script with a missing interpreter gives ENOENT", test_script_missing_interpreter },
	{ "close-on-exec descriptors are closed by exec, others stay",
	  test_exec_cloexec },
	{ "exec resets caught signals, keeps ignored ones and the mask",
	  test_exec_signal_dispositions },
	{ "fork bomb: fork fails with EAGAIN, kill(-pgid) cleans up, fork works again",
	  test_fork_bomb },
};

// ---- helper modes for the exec'ed copies ----------------------------------------------------

// --fdcheck CLOSED OPEN CLOSED2: exit 0 if CLOSED and CLOSED2 are closed and OPEN is open
// without FD_CLOEXEC (OPEN "0" is stdin, always open).
static int helper_fdcheck(char **argv)
{
	int closed = atoi(argv[2]), kept = atoi(argv[3]), closed2 = atoi(argv[4]);

	if (fcntl(closed, F_GETFD) != -1 || errno != EBADF)
		return 1;
	if (fcntl(closed2, F_GETFD) != -1 || errno != EBADF)
		return 2;
	if (fcntl(kept, F_GETFD) != 0)
		return 3;
	return 0;
}

// --sigcheck: SIGUSR1 and SIGTERM (caught before exec) are default, SIGUSR2 ignored, SIGHUP
// blocked, SIGINT not.
static int helper_sigcheck(void)
{
	struct sigaction sa;
	sigset_t mask;

	if (sigaction(SIGUSR1, NULL, &sa) != 0 || sa.sa_handler != SIG_DFL)
		return 1;
	if (sigaction(SIGTERM, NULL, &sa) != 0 || sa.sa_handler != SIG_DFL)
		return 2;
	if (sigaction(SIGUSR2, NULL, &sa) != 0 || sa.sa_handler != SIG_IGN)
		return 3;
	if (sigprocmask(SIG_BLOCK, NULL, &mask) != 0)
		return 4;
	if (!sigismember(&mask, SIGHUP) || sigismember(&mask, SIGINT))
		return 5;
	return 0;
}

// --argv: print argv joined with '|'.
static int helper_argv(int argc, char **argv)
{
	char line[2048];
	size_t len = 0;

	for (int i = 0; i < argc; i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s", i ? "|" : "",
					argv[i]);
	if (len >= sizeof(line) - 1)
		return 2;
	line[len++] = '\n';
	return write(STDOUT_FILENO, line, len) == (ssize_t)len ? 0 : 1;
}

// Returns -1 if argv names no helper mode.
static int helper_main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--argv") == 0)
		return helper_argv(argc, argv);
	if (argc == 3 && strcmp(argv[1], "--exit") == 0)
		return atoi(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--sleep") == 0) {
		sleep_ms(atoi(argv[2]));
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "--fdcheck") == 0)
		return helper_fdcheck(argv);
	if (argc == 2 && strcmp(argv[1], "--sigcheck") == 0)
		return helper_sigcheck();
	return -1;
}

int main(int argc, char **argv)
{
	const char *path = (const char *)getauxval(AT_EXECFN);
	int ret = helper_main(argc, argv);

	if (ret >= 0)
		return ret;
	if (!path || !*path)
		path = argv[0];
	if (path[0] == '/') {
		snprintf(self, sizeof(self), "%s", path);
	} else {
		char cwd[256];

		if (!getcwd(cwd, sizeof(cwd)))
			return 2;
		snprintf(self, sizeof(self), "%s/%s", cwd, path);
	}
	return tap_run(tests, TAP_COUNT(tests));
}
