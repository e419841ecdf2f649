// Running a real, unmodified Linux program: Debian's busybox-static at /bin/busybox, started
// with fork + execve, its stdout redirected to a pipe that the test reads back. This needs
// execve (argv and envp on the new stack), pipes, dup2, exit status through wait4.
// The tests are skipped where /bin/busybox does not exist.

#include "tap.h"


#define BUSYBOX "/bin/busybox"

struct run_result {
	char out[512];		// the program's stdout, NUL-terminated
	int status;		// its wait status
};

static void require_busybox(void)
{
	if (access(BUSYBOX, X_OK) != 0)
		tap_skip(BUSYBOX " is not there");
}

// Child side: stdout to the pipe, then execve; exit 127 if execve fails.
static void exec_child(int pipe_fds[2], char *const argv[], char *const envp[])
{
	if (dup2(pipe_fds[1], STDOUT_FILENO) < 0)
		_exit(126);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
	execve(BUSYBOX, argv, envp);
	_exit(127);
}

// Run busybox with argv and envp; collect its stdout and wait status in res.
static void run_busybox(char *const argv[], char *const envp[], struct run_result *res)
{
	size_t len = 0;
	int fds[2];
	pid_t pid;

	memset(res, 0, sizeof(*res));
	TAP_REQUIRE(pipe(fds) == 0);
	pid = fork();
	TAP_REQUIRE(pid >= 0);
	if (pid == 0)
		exec_child(fds, argv, envp);
	close(fds[1]);
	while (len < sizeof(res->out) - 1) {
		ssize_t n = read(fds[0], res->out + len, sizeof(res->out) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fds[0]);
	res->status = tap_wait(pid);
	TAP_REQUIRE(res->status != -1);
}

#define CHECK_EXIT(res, code)                                                         \
	do {                                                                          \
		char buf_[96];                                                        \
		if (!WIFEXITED((res).status) || WEXITSTATUS((res).status) != (code))  \
			tap_fail_at(__FILE__, __LINE__, "child %s, want exit status %d", \
				    tap_status_str((res).status, buf_, sizeof(buf_)), (code)); \
	} while (0)

static char *const empty_env[] = { NULL };

static void test_echo(void)
{
	char *const argv[] = { "busybox", "echo", "hello from busybox", NULL };
	struct run_result res;

	require_busybox();
	run_busybox(argv, empty_env, &res);
	TAP_CHECK_STR(res.out, "hello from busybox\n");
	CHECK_EXIT(res, 0);
}

static void test_echo_args(void)
{
	char *const argv[] = { "busybox", "echo", "-n", "a", "", "b c", NULL };
	struct run_result res;

	require_busybox();
	run_busybox(argv, empty_env, &res);
	TAP_CHECK_STR(res.out, "a  b c");
	CHECK_EXIT(res, 0);
}

static void test_true_false(void)
{
	char *const argv_true[] = { "busybox", "true", NULL };
	char *const argv_false[] = { "busybox", "false", NULL };
	struct run_result res;

	require_busybox();
	run_busybox(argv_true, empty_env, &res);
	TAP_CHECK_STR(res.out, "");
	CHECK_EXIT(res, 0);
	run_busybox(argv_false, empty_env, &res);
	CHECK_EXIT(res, 1);
}

static void test_env(void)
{
	char *const argv[] = { "busybox", "env", NULL };
	char *const envp[] = { "TRAPEZE_A=1", "TRAPEZE_B=two words", NULL };
	struct run_result res;

	require_busybox();
	run_busybox(argv, envp, &res);
	TAP_CHECK_STR(res.out, "TRAPEZE_A=1\nTRAPEZE_B=two words\n");
	CHECK_EXIT(res, 0);
}

static void test_sh(void)
{
	char *const argv[] = { "sh", "-c", "echo $((6 * 7)); exit 3", NULL };
	struct run_result res;

	require_busybox();
	run_busybox(argv, empty_env, &res);
	TAP_CHECK_STR(res.out, "42\n");
	CHECK_EXIT(res, 3);
}

// A failed execve returns to the caller with the error; the process carries on.
static void test_exec_missing(void)
{
	char *const argv[] = { "missing", NULL };

	errno = 0;
	TAP_CHECK_EQ(execve("/no-such-program", argv, empty_env), -1);
	TAP_CHECK_EQ(errno, ENOENT);
	errno = 0;
	TAP_CHECK_EQ(execve("/dev/null", argv, empty_env), -1);
	TAP_CHECK_EQ(errno, EACCES);	// not executable
}

static const struct tap_test tests[] = {
	{ "busybox echo prints through a pipe and exits 0", test_echo },
	{ "busybox echo gets every argument", test_echo_args },
	{ "busybox true exits 0 and false exits 1", test_true_false },
	{ "busybox env sees the environment given to execve", test_env },
	{ "busybox sh -c runs a command and returns its status", test_sh },
	{ "execve of a missing or non-executable file fails and returns", test_exec_missing },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
