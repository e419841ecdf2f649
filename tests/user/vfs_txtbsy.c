// A running program's file cannot be written (ETXTBSY), /proc/<pid>/exe names the program
// exec loaded, and a /proc/<pid> looked up while the task lived is gone once it is reaped.
//
// Each test copies this very program (/proc/self/exe) into the working directory and runs
// the copy in a child. The copy, started with one of the modes below, reports its pid on
// stdout once it runs and then waits for EOF on stdin, so the test decides when it ends:
//	--wait         report, wait
//	--fork-wait    fork; the parent exits at once, the child reports and waits
//	--exec PATH    exec PATH --wait (the copy's file is then no longer being run)
//	--exit         exit 0 at once
//
// Linux is the reference: since 5.15 the deny-write of a running program is held by its
// mm (exe_file), so a fork child that has not exec'd keeps the file busy too.

#include "tap.h"

#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>

#define RETRY_MS 5000 // how long a busy file may take to become writable after an exit

struct runner {
	pid_t pid;  // the child we started (0 once reaped)
	pid_t prog; // the process running the program: pid, or its fork child
	int in;     // the write end of the program's stdin: closing it ends the program
	int out;    // the read end of its stdout
};

// --- the modes of the copied program ------------------------------------------------------

static void mode_report_and_wait(void)
{
	pid_t me = getpid();
	char c;

	if (write(STDOUT_FILENO, &me, sizeof(me)) != sizeof(me))
		_exit(2);
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	_exit(0);
}

static int run_mode(int argc, char **argv)
{
	if (strcmp(argv[1], "--wait") == 0)
		mode_report_and_wait();
	if (strcmp(argv[1], "--fork-wait") == 0) {
		pid_t pid = fork();

		if (pid == 0)
			mode_report_and_wait();
		_exit(pid < 0 ? 3 : 0);
	}
	if (strcmp(argv[1], "--exec") == 0 && argc > 2) {
		char *args[] = { argv[2], "--wait", NULL };

		execv(argv[2], args);
		_exit(4);
	}
	if (strcmp(argv[1], "--exit") == 0)
		_exit(0);
	return 5;
}

// --- helpers ---------------------------------------------------------------------------------

// Copy /proc/self/exe to a new executable file in the working directory; its absolute
// path goes into path.
static void copy_self(char *path, size_t size)
{
	char cwd[PATH_MAX / 2], buf[4096];
	int in, out;
	ssize_t n;

	TAP_REQUIRE(getcwd(cwd, sizeof(cwd)) != NULL);
	snprintf(path, size, "%s/vfs_txtbsy.%d.bin", strcmp(cwd, "/") ? cwd : "", (int)getpid());
	in = open("/proc/self/exe", O_RDONLY);
	TAP_REQUIRE(in >= 0);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	TAP_REQUIRE(out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		TAP_REQUIRE(write(out, buf, (size_t)n) == n);
	TAP_REQUIRE(n == 0);
	close(in);
	TAP_REQUIRE(close(out) == 0);
}

// Start path with the given mode (and argument) in a child, its stdin and stdout pipes to
// us, and wait until the program reports that it runs.
static void runner_start(struct runner *r, const char *path, const char *mode, const char *arg)
{
	int in[2], out[2];

	TAP_REQUIRE(pipe(in) == 0 && pipe(out) == 0);
	r->pid = fork();
	TAP_REQUIRE(r->pid >= 0);
	if (r->pid == 0) {
		char *args[] = { (char *)path, (char *)mode, (char *)arg, NULL };

		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execv(path, args);
		_exit(100 + errno);
	}
	close(in[0]);
	close(out[1]);
	r->in = in[1];
	r->out = out[0];
	TAP_REQUIRE(read(r->out, &r->prog, sizeof(r->prog)) == sizeof(r->prog));
}

// End the program: close its stdin, wait for its stdout to close (it has exited), reap
// the child we started.
static void runner_stop(struct runner *r)
{
	char c;

	close(r->in);
	while (read(r->out, &c, 1) > 0)
		;
	close(r->out);
	if (r->pid > 0)
		TAP_CHECK_EQ(tap_wait(r->pid), 0);
	r->pid = 0;
}

// open(path, flags) expecting failure with ETXTBSY.
static bool open_is_busy(const char *path, int flags)
{
	int fd = open(path, flags);

	if (fd >= 0)
		close(fd);
	return fd < 0 && errno == ETXTBSY;
}

// Open path for writing, retrying while it is busy for up to RETRY_MS (the last holder of
// the program may still be on its way out). Returns the descriptor or -1.
static int open_write_retry(const char *path)
{
	for (int ms = 0;; ms += 10) {
		int fd = open(path, O_WRONLY);

		if (fd >= 0 || errno != ETXTBSY || ms >= RETRY_MS)
			return fd;
		usleep(10000);
	}
}

// Run path --exit in a child; returns its exit status or 100 + errno of a failed execve.
static int exec_status(const char *path)
{
	char *args[] = { (char *)path, "--exit", NULL };
	pid_t pid = fork();
	int status;

	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		execv(path, args);
		_exit(100 + errno);
	}
	status = tap_wait(pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// --- ETXTBSY -----------------------------------------------------------------------------

static void test_open_running(void)
{
	char path[PATH_MAX];
	struct runner r;
	int fd;

	copy_self(path, sizeof(path));
	runner_start(&r, path, "--wait", NULL);
	TAP_CHECK(open_is_busy(path, O_WRONLY));
	TAP_CHECK(open_is_busy(path, O_RDWR));
	TAP_CHECK(open_is_busy(path, O_WRONLY | O_APPEND));
	fd = open(path, O_RDONLY);
	TAP_CHECK(fd >= 0);
	close(fd);
	runner_stop(&r);
	fd = open_write_retry(path);
	TAP_CHECK(fd >= 0);
	close(fd);
	unlink(path);
}

static void test_truncate_running(void)
{
	char path[PATH_MAX];
	struct stat before, after;
	struct runner r;

	copy_self(path, sizeof(path));
	TAP_REQUIRE(stat(path, &before) == 0);
	runner_start(&r, path, "--wait", NULL);
	errno = 0;
	TAP_CHECK(truncate(path, 0) == -1 && errno == ETXTBSY);
	TAP_CHECK(open_is_busy(path, O_WRONLY | O_TRUNC));
	TAP_CHECK(open_is_busy(path, O_RDONLY | O_TRUNC));
	TAP_CHECK(stat(path, &after) == 0 && after.st_size == before.st_size);
	runner_stop(&r);
	close(open_write_retry(path));
	TAP_CHECK(truncate(path, 0) == 0);
	TAP_CHECK(stat(path, &after) == 0 && after.st_size == 0);
	unlink(path);
}

static void test_exec_open_for_writing(void)
{
	char path[PATH_MAX];
	int fd;

	copy_self(path, sizeof(path));
	fd = open(path, O_WRONLY);
	TAP_REQUIRE(fd >= 0);
	TAP_CHECK_EQ(exec_status(path), 100 + ETXTBSY);
	TAP_CHECK(close(fd) == 0);
	TAP_CHECK_EQ(exec_status(path), 0);
	// An O_RDWR descriptor shared with a child counts as long as any copy is open.
	fd = open(path, O_RDWR);
	TAP_REQUIRE(fd >= 0);
	TAP_CHECK_EQ(exec_status(path), 100 + ETXTBSY);
	close(fd);
	TAP_CHECK_EQ(exec_status(path), 0);
	unlink(path);
}

static void test_fork_child_keeps_busy(void)
{
	char path[PATH_MAX], link[64], got[PATH_MAX];
	struct runner r;
	ssize_t n;
	int fd;

	copy_self(path, sizeof(path));
	runner_start(&r, path, "--fork-wait", NULL);
	TAP_CHECK_EQ(tap_wait(r.pid), 0); // the exec'd child is gone, its fork child runs on
	r.pid = 0;
	TAP_CHECK(open_is_busy(path, O_WRONLY));
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)r.prog);
	n = readlink(link, got, sizeof(got) - 1);
	TAP_CHECK(n > 0);
	got[n > 0 ? n : 0] = '\0';
	TAP_CHECK_STR(got, path);
	runner_stop(&r);
	fd = open_write_retry(path);
	TAP_CHECK(fd >= 0);
	close(fd);
	unlink(path);
}

static void test_exec_releases_busy(void)
{
	char path[PATH_MAX], orig[PATH_MAX], link[64], got[PATH_MAX];
	struct runner r;
	ssize_t n = readlink("/proc/self/exe", orig, sizeof(orig) - 1);
	int fd;

	TAP_REQUIRE(n > 0);
	orig[n] = '\0';
	copy_self(path, sizeof(path));
	runner_start(&r, path, "--exec", orig);
	// The process runs orig now: the copy is writable although the process lives.
	fd = open(path, O_WRONLY);
	TAP_CHECK(fd >= 0);
	close(fd);
	TAP_CHECK(open_is_busy(orig, O_WRONLY));
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)r.prog);
	n = readlink(link, got, sizeof(got) - 1);
	TAP_CHECK(n > 0);
	got[n > 0 ? n : 0] = '\0';
	TAP_CHECK_STR(got, orig);
	runner_stop(&r);
	unlink(path);
}

// A "#!" script is read by exec, not mapped: it stays writable while its interpreter (the
// program that runs) is busy.
static void test_script_running(void)
{
	char interp[PATH_MAX], script[PATH_MAX + 16], line[PATH_MAX + 16], link[64], got[PATH_MAX];
	struct runner r;
	int fd, len;
	ssize_t n;

	copy_self(interp, sizeof(interp));
	snprintf(script, sizeof(script), "%s.sh", interp);
	len = snprintf(line, sizeof(line), "#!%s --wait\n", interp);
	fd = open(script, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	TAP_REQUIRE(fd >= 0);
	TAP_REQUIRE(write(fd, line, (size_t)len) == len);
	TAP_REQUIRE(close(fd) == 0);
	runner_start(&r, script, NULL, NULL);
	fd = open(script, O_WRONLY);
	TAP_CHECK(fd >= 0);
	close(fd);
	TAP_CHECK(open_is_busy(interp, O_WRONLY));
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)r.prog);
	n = readlink(link, got, sizeof(got) - 1);
	TAP_CHECK(n > 0);
	got[n > 0 ? n : 0] = '\0';
	TAP_CHECK_STR(got, interp);
	runner_stop(&r);
	unlink(script);
	unlink(interp);
}

// --- /proc/<pid>/exe -----------------------------------------------------------------------

static void test_proc_exe(void)
{
	char path[PATH_MAX], link[64], got[PATH_MAX];
	struct runner r;
	ssize_t n;

	copy_self(path, sizeof(path));
	runner_start(&r, path, "--wait", NULL);
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)r.prog);
	n = readlink(link, got, sizeof(got) - 1);
	TAP_CHECK(n > 0);
	got[n > 0 ? n : 0] = '\0';
	TAP_CHECK_STR(got, path);
	runner_stop(&r);
	// A reaped child has no /proc/<pid>, so no exe either.
	errno = 0;
	TAP_CHECK(readlink(link, got, sizeof(got)) == -1 && errno == ENOENT);
	unlink(path);
}

// --- stale /proc entries --------------------------------------------------------------------

static void test_proc_pid_gone(void)
{
	char dir[64], status[64];
	struct stat st;
	struct runner r;
	char path[PATH_MAX];
	int dirfd;

	copy_self(path, sizeof(path));
	runner_start(&r, path, "--wait", NULL);
	snprintf(dir, sizeof(dir), "/proc/%d", (int)r.prog);
	snprintf(status, sizeof(status), "/proc/%d/status", (int)r.prog);
	TAP_CHECK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
	TAP_CHECK(stat(status, &st) == 0 && S_ISREG(st.st_mode));
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	TAP_CHECK(dirfd >= 0);
	TAP_CHECK(fstatat(dirfd, "stat", &st, 0) == 0);
	close(r.in);
	r.in = -1;
	while (read(r.out, &st, 1) > 0)
		;
	// A zombie still has its directory.
	usleep(50000);
	TAP_CHECK(stat(dir, &st) == 0);
	TAP_CHECK_EQ(tap_wait(r.pid), 0);
	close(r.out);
	errno = 0;
	TAP_CHECK(stat(dir, &st) == -1 && errno == ENOENT);
	errno = 0;
	TAP_CHECK(lstat(dir, &st) == -1 && errno == ENOENT);
	errno = 0;
	TAP_CHECK(access(dir, F_OK) == -1 && errno == ENOENT);
	errno = 0;
	TAP_CHECK(stat(status, &st) == -1 && errno == ENOENT);
	// Through a descriptor of the gone directory, a name in it is "no such process".
	errno = 0;
	TAP_CHECK(fstatat(dirfd, "stat", &st, 0) == -1 && errno == ESRCH);
	errno = 0;
	TAP_CHECK(fstatat(dirfd, "status", &st, 0) == -1 && errno == ESRCH);
	close(dirfd);
	unlink(path);
}

static void test_proc_fd_gone(void)
{
	char link[64];
	struct stat st;
	int fd = open("/dev/null", O_RDONLY);

	TAP_REQUIRE(fd >= 0);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	TAP_CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
	TAP_CHECK((st.st_mode & 0777) == 0500);
	close(fd);
	errno = 0;
	TAP_CHECK(lstat(link, &st) == -1 && errno == ENOENT);
	// The same number open again for writing: the link's mode follows the new open.
	TAP_REQUIRE(open("/dev/null", O_WRONLY) == fd);
	TAP_CHECK(lstat(link, &st) == 0 && (st.st_mode & 0777) == 0300);
	close(fd);
}

static const struct tap_test tests[] = {
	{ "open for writing a running program fails with ETXTBSY", test_open_running },
	{ "truncate of a running program fails with ETXTBSY", test_truncate_running },
	{ "execve of a file open for writing fails with ETXTBSY", test_exec_open_for_writing },
	{ "a fork child of a running program keeps its file busy", test_fork_child_keeps_busy },
	{ "exec of another program releases the old one", test_exec_releases_busy },
	{ "a running script stays writable, its interpreter does not", test_script_running },
	{ "/proc/<pid>/exe names the program the child runs", test_proc_exe },
	{ "/proc/<pid> looked up before the task was reaped is ENOENT after", test_proc_pid_gone },
	{ "/proc/self/fd/<n> of a closed descriptor is ENOENT", test_proc_fd_gone },
};

int main(int argc, char **argv)
{
	if (argc > 1)
		return run_mode(argc, argv);
	return tap_run(tests, TAP_COUNT(tests));
}
