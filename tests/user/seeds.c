// The example programs of the lecture notes on processes (shared/seeds/004_...), run as the
// notes wrote them and held to the output the notes promise. Each example runs as its own
// "program": a forked process whose stdout is a pipe, that calls the example's main() and
// exits with its return value (so stdio buffers are flushed at exit, as in a real program).
// The test reads everything the program and its children print until every writer is gone,
// then compares: exactly, where the example fixes the order (the wait(NULL) example, and
// lines of one process), as a set of lines where the scheduler decides.
//
// The notes' pid example reads `pid_t = ParentPid = getpid();` and `if((pid = fork() == 0{`;
// it is run here as clearly intended: `pid_t ParentPid = getpid();`, `(pid = fork()) == 0`.

#include "tap.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>

#define OUT_MAX 1024		// bytes of output kept from one program
#define LOOP_RUN_NS 500000000L	// how long the endless fork loop runs before it is killed
#define LOOP_NPROC 300		// its process limit where setrlimit can set one
#define NOBODY_UID 65534	// RLIMIT_NPROC does not bind root: the loop runs as nobody
#define REFORK_COUNT 50		// forks that must work after the loop is gone
#define REFORK_GRACE_NS 3000000000L // time init gets to reap the loop's orphans
#define LOOP_MIN_ZOMBIES 10	// the loop must have left at least this many exited children

#ifndef PR_SET_CHILD_SUBREAPER
#define PR_SET_CHILD_SUBREAPER 36
#endif

// ---- the examples, as in the notes (main renamed) ------------------------------------------

static int seed_pid_main(void)
{
	pid_t pid;
	pid_t ParentPid = getpid();

	if ((pid = fork()) == 0) {
		printf("Child: %d, %d, %d\n", pid, ParentPid, getpid());
		return 0;
	}
	printf("Parent: %d, %d, %d\n", pid, ParentPid, getpid());
	return 0;
}

static int seed_value_main(void)
{
	int value = 5;
	pid_t pid;

	if ((pid = fork()) == 0) { /* child process */
		value += 15;
		printf("CHILD: value = %d\n", value);
		return 0;
	} else if (pid > 0) { /* parent process */
		printf("PARENT: value = %d\n", value);
		return 0;
	}
	return 1;
}

static int seed_x_main(void)
{
	int x = 1;

	if (fork() == 0)
		printf("p1: x=%d\n", ++x);
	printf("p2: x=%d\n", --x);
	exit(0);
}

static int seed_wait_main(void)
{
	int value = 5;
	pid_t pid;

	if ((pid = fork()) == 0) {
		value += 15;
		printf("CHILD: value = %d\n", value);
		return 0;
	} else if (pid > 0) {
		wait(NULL);
		printf("PARENT: value = %d\n", value);
		return 0;
	}
	return 1;
}

static int flag;

static int seed_loop_main(void)
{
	while (flag == 0) {
		if (fork() == 0) {
			flag = 1;
			exit(0);
		}
	}
	return 0;
}

// ---- running a program -------------------------------------------------------------------

struct program {
	pid_t pid;		// the program's first process
	int status;		// its wait status
	char out[OUT_MAX];	// everything it and its children wrote to stdout
};

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ns(long ns)
{
	struct timespec ts = { ns / 1000000000L, ns % 1000000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

// Start main_fn as a program with stdout on a new pipe; return the pipe's read end.
static int program_start(int (*main_fn)(void), struct program *prog)
{
	int fds[2];

	memset(prog, 0, sizeof(*prog));
	TAP_REQUIRE(pipe(fds) == 0);
	prog->pid = fork();
	TAP_REQUIRE(prog->pid >= 0);
	if (prog->pid == 0) {
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(126);
		close(fds[0]);
		close(fds[1]);
		exit(main_fn());
	}
	close(fds[1]);
	return fds[0];
}

// Read fd to EOF (every process holding the write end has exited) into prog->out.
static void program_collect(int fd, struct program *prog)
{
	size_t len = 0;

	for (;;) {
		ssize_t n = read(fd, prog->out + len, sizeof(prog->out) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		TAP_REQUIRE(len < sizeof(prog->out) - 1);
	}
	prog->out[len] = '\0';
	close(fd);
}

// Print out as one diagnostic line, newlines shown as "\n".
static void diag_output(const char *out)
{
	char line[2 * OUT_MAX];
	size_t len = 0;

	for (; *out && len < sizeof(line) - 3; out++) {
		if (*out == '\n') {
			line[len++] = '\\';
			line[len++] = 'n';
		} else {
			line[len++] = *out;
		}
	}
	line[len] = '\0';
	tap_diag("output: \"%s\"", line);
}

// Run main_fn as a program to its end; its children may outlive it, but not their stdout.
static void program_run(int (*main_fn)(void), struct program *prog)
{
	int fd = program_start(main_fn, prog);

	program_collect(fd, prog);
	prog->status = tap_wait(prog->pid);
	TAP_REQUIRE(prog->status != -1);
	if (!WIFEXITED(prog->status) || WEXITSTATUS(prog->status) != 0)
		tap_fail_at(__FILE__, __LINE__, "program exited with wait status %#x",
			    (unsigned int)prog->status);
	diag_output(prog->out);
}

// Split out into at most max lines (in place); return how many.
static int split_lines(char *out, char **lines, int max)
{
	int n = 0;
	char *save = NULL;

	for (char *l = strtok_r(out, "\n", &save); l && n < max; l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	return n;
}

// Index of the line equal to want, or -1.
static int find_line(char **lines, int n, const char *want)
{
	for (int i = 0; i < n; i++)
		if (strcmp(lines[i], want) == 0)
			return i;
	return -1;
}

// ---- the tests -----------------------------------------------------------------------------

// The child sees pid 0 and its parent's pid (a copy of the parent's variable) and its own
// new pid; the parent sees the child's pid, and its own pid twice.
static void test_pid_example(void)
{
	struct program prog;
	char *lines[4];
	int child_fork_ret = -1, child_parent = -1, child_self = -1;
	int parent_fork_ret = -1, parent_parent = -1, parent_self = -1;
	int n, c, p;

	program_run(seed_pid_main, &prog);
	TAP_CHECK(strlen(prog.out) > 0 && prog.out[strlen(prog.out) - 1] == '\n');
	n = split_lines(prog.out, lines, 4);
	TAP_REQUIRE(n == 2);
	c = strncmp(lines[0], "Child:", 6) == 0 ? 0 : 1;
	p = 1 - c;
	TAP_REQUIRE(sscanf(lines[c], "Child: %d, %d, %d", &child_fork_ret, &child_parent,
			   &child_self) == 3);
	TAP_REQUIRE(sscanf(lines[p], "Parent: %d, %d, %d", &parent_fork_ret, &parent_parent,
			   &parent_self) == 3);
	TAP_CHECK_EQ(child_fork_ret, 0);
	TAP_CHECK_EQ(child_parent, prog.pid);
	TAP_CHECK(child_self > 0);
	TAP_CHECK(child_self != prog.pid);
	TAP_CHECK(child_self != getpid());
	TAP_CHECK_EQ(parent_fork_ret, child_self);
	TAP_CHECK_EQ(parent_parent, prog.pid);
	TAP_CHECK_EQ(parent_self, prog.pid);
}

static void test_value_example(void)
{
	struct program prog;
	char *lines[4];
	int n;

	program_run(seed_value_main, &prog);
	n = split_lines(prog.out, lines, 4);
	TAP_CHECK_EQ(n, 2);
	TAP_CHECK(find_line(lines, n, "CHILD: value = 20") >= 0);
	TAP_CHECK(find_line(lines, n, "PARENT: value = 5") >= 0);
}

// The child prints both of its lines in order (one process, one buffer); where the parent's
// line falls is the scheduler's choice.
static void test_x_example(void)
{
	struct program prog;
	char *lines[4];
	int n, p1, p2_child, p2_parent;

	program_run(seed_x_main, &prog);
	n = split_lines(prog.out, lines, 4);
	TAP_CHECK_EQ(n, 3);
	p1 = find_line(lines, n, "p1: x=2");
	p2_child = find_line(lines, n, "p2: x=1");
	p2_parent = find_line(lines, n, "p2: x=0");
	TAP_CHECK(p1 >= 0);
	TAP_CHECK(p2_child >= 0);
	TAP_CHECK(p2_parent >= 0);
	TAP_CHECK(p1 < p2_child);
}

static void test_wait_example(void)
{
	struct program prog;

	program_run(seed_wait_main, &prog);
	TAP_CHECK_STR(prog.out, "CHILD: value = 20\nPARENT: value = 5\n");
}

// Run the wait example many times: the order must never flip.
static void test_wait_example_repeated(void)
{
	for (int i = 0; i < 20; i++) {
		struct program prog;
		int fd = program_start(seed_wait_main, &prog);

		program_collect(fd, &prog);
		TAP_CHECK_EQ(tap_wait(prog.pid), 0);
		if (strcmp(prog.out, "CHILD: value = 20\nPARENT: value = 5\n") != 0) {
			tap_fail_at(__FILE__, __LINE__, "run %d printed \"%s\"", i, prog.out);
			break;
		}
	}
}

static int is_trapeze(void)
{
	struct utsname u;

	return uname(&u) == 0 && strcmp(u.sysname, "Trapeze") == 0;
}

// The loop's process: bounded by RLIMIT_NPROC where the kernel lets us set one (Linux: as
// nobody, since root ignores it), else by the kernel's own task limit. Trapeze accepts the
// limit but has no user but root, so its task limit is what binds there.
static int seed_loop_limited(void)
{
	struct rlimit lim = { LOOP_NPROC, LOOP_NPROC };

	if (setrlimit(RLIMIT_NPROC, &lim) == 0 && geteuid() == 0 && setuid(NOBODY_UID) != 0 &&
	    !is_trapeze())
		_exit(125);
	return seed_loop_main();
}

// Reap every child that has exited; return how many.
static int reap_exited(void)
{
	int n = 0;

	while (waitpid(-1, NULL, WNOHANG) > 0)
		n++;
	return n;
}

// Fork, with retries for up to grace_ns while fork says EAGAIN; returns fork's result.
static pid_t fork_patiently(long grace_ns)
{
	long long deadline = now_ns() + grace_ns;
	pid_t pid;

	while ((pid = fork()) < 0 && errno == EAGAIN && now_ns() < deadline) {
		reap_exited();
		sleep_ns(10000000);
	}
	return pid;
}

// The parent forks forever; every child exits at once (and stays a zombie: nobody waits).
// After half a second the loop is killed; its zombies go to init (or to us, where we can be
// the subreaper) and the system must fork freely again.
static void test_fork_loop(void)
{
	struct program prog;
	struct sysinfo before, during;
	int subreaper = prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
	int fd, status, reaped;
	pid_t pid;

	TAP_REQUIRE(sysinfo(&before) == 0);
	fd = program_start(seed_loop_limited, &prog);
	sleep_ns(LOOP_RUN_NS);
	// The loop's children exit at once but stay as zombies: the task count shows them.
	TAP_REQUIRE(sysinfo(&during) == 0);
	tap_diag("tasks: %d before the loop, %d after %ld ms of it", before.procs, during.procs,
		 LOOP_RUN_NS / 1000000);
	TAP_CHECK(during.procs >= before.procs + LOOP_MIN_ZOMBIES);
	TAP_CHECK_EQ(kill(prog.pid, SIGKILL), 0);
	status = tap_wait(prog.pid);
	TAP_CHECK(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	program_collect(fd, &prog);
	TAP_CHECK_STR(prog.out, "");
	if (subreaper) {
		// Orphans are reparented to us: every one of them must be reapable.
		sleep_ns(100000000);
		reaped = reap_exited();
		tap_diag("reaped %d orphaned children of the loop", reaped);
		TAP_CHECK(reaped > 0);
	}

	pid = fork_patiently(REFORK_GRACE_NS);
	TAP_REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(7);
	status = tap_wait(pid);
	TAP_CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 7);
	for (int i = 0; i < REFORK_COUNT; i++) {
		pid = fork();
		if (pid < 0) {
			tap_fail_at(__FILE__, __LINE__, "fork %d after the loop: errno %d (%s)", i,
				    errno, strerror(errno));
			return;
		}
		if (pid == 0)
			_exit(i & 0xff);
		status = tap_wait(pid);
		if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != (i & 0xff)) {
			tap_fail_at(__FILE__, __LINE__, "fork %d: wait status %#x", i,
				    (unsigned int)status);
			return;
		}
	}
}

static const struct tap_test tests[] = {
	{ "pid example: child sees 0, parent's pid and its own; parent sees the child's pid",
	  test_pid_example },
	{ "value example: child prints 20, parent prints 5", test_value_example },
	{ "x example: p1: x=2 and p2: x=1 from the child, p2: x=0 from the parent",
	  test_x_example },
	{ "wait(NULL) example: CHILD line before PARENT line", test_wait_example },
	{ "wait(NULL) example keeps its order over 20 runs", test_wait_example_repeated },
	{ "endless fork loop runs, is killed, and fork works again", test_fork_loop },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
