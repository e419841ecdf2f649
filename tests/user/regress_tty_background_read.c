// Regression: a background job could read the terminal. Linux stops a process group that
// reads its controlling terminal while another group is in the foreground (SIGTTIN), and
// fails the read with EIO when the reader ignores or blocks SIGTTIN or its group is
// orphaned (nobody would continue it); Trapeze let it read, so a job started with `&`
// took the shell's input. TIOCSCTTY was not implemented either.
#define _GNU_SOURCE
#include "tap.h"
#include "fs_term.h"

// The test's child becomes a session leader with the terminal as its controlling terminal.
static void session_start(struct term *tm)
{
	TAP_REQUIRE(setsid() > 0);
	term_open(tm, true);
	TAP_CHECK_EQ(tcgetpgrp(tm->fd), getpgrp());
}

// Fork a child in a new process group (a background job) that runs fn.
static pid_t spawn_background(void (*fn)(struct term *), struct term *tm)
{
	pid_t pid = fork();

	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		setpgid(0, 0);
		alarm(5);
		fn(tm);
		_exit(0);
	}
	setpgid(pid, pid);
	return pid;
}

// Exit status 0 if a read gets the line "x\n".
static void bg_read_line(struct term *tm)
{
	char buf[8];

	_exit(read(tm->fd, buf, sizeof(buf)) == 2 && buf[0] == 'x' ? 0 : 1);
}

static void test_background_read_stops(void)
{
	struct term tm;
	pid_t pid;
	int status;

	session_start(&tm);
	pid = spawn_background(bg_read_line, &tm);
	TAP_REQUIRE(waitpid(pid, &status, WUNTRACED) == pid);
	TAP_CHECK(WIFSTOPPED(status));
	if (!WIFSTOPPED(status))
		return;
	TAP_CHECK_EQ(WSTOPSIG(status), SIGTTIN);
	// "fg": make it the foreground group and continue it; its read starts over.
	TAP_CHECK_EQ(tcsetpgrp(tm.fd, pid), 0);
	term_type(&tm, "x\n");
	TAP_CHECK_EQ(kill(pid, SIGCONT), 0);
	TAP_REQUIRE(waitpid(pid, &status, 0) == pid);
	TAP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

// Exit status: the errno of a read that failed, 0 if it did not.
static void bg_read_errno(struct term *tm)
{
	char c;

	_exit(read(tm->fd, &c, 1) < 0 ? errno : 0);
}

static void bg_read_ignoring(struct term *tm)
{
	signal(SIGTTIN, SIG_IGN);
	bg_read_errno(tm);
}

static void bg_read_blocking(struct term *tm)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTTIN);
	sigprocmask(SIG_BLOCK, &set, NULL);
	bg_read_errno(tm);
}

static void check_background_eio(void (*fn)(struct term *))
{
	struct term tm;
	pid_t pid;
	int status;

	session_start(&tm);
	pid = spawn_background(fn, &tm);
	TAP_REQUIRE(waitpid(pid, &status, WUNTRACED) == pid);
	TAP_CHECK(WIFEXITED(status));
	if (WIFSTOPPED(status))
		kill(pid, SIGKILL);
	else
		TAP_CHECK_EQ(WEXITSTATUS(status), EIO);
}

static void test_background_read_ignored(void)
{
	check_background_eio(bg_read_ignoring);
}

static void test_background_read_blocked(void)
{
	check_background_eio(bg_read_blocking);
}

static void test_orphaned_background_read(void)
{
	struct term tm;
	int fds[2], err = -1;
	pid_t mid;

	session_start(&tm);
	TAP_REQUIRE(pipe(fds) == 0);
	mid = fork();
	TAP_REQUIRE(mid >= 0);
	if (mid == 0) {
		// The middle process starts a job in its own group and exits: the job's group
		// has no parent left in the session, it is orphaned.
		pid_t job = fork();

		if (job == 0) {
			char c;

			setpgid(0, 0);
			alarm(5);
			while (getppid() == mid)
				usleep(10000);
			err = read(tm.fd, &c, 1) < 0 ? errno : 0;
			write(fds[1], &err, sizeof(err));
			_exit(0);
		}
		_exit(job < 0);
	}
	TAP_REQUIRE(waitpid(mid, NULL, 0) == mid);
	close(fds[1]);
	TAP_CHECK_EQ(read(fds[0], &err, sizeof(err)), (long)sizeof(err));
	TAP_CHECK_EQ(err, EIO);
}

static void test_foreground_read(void)
{
	struct term tm;
	char buf[8];

	session_start(&tm);
	term_type(&tm, "x\n");
	TAP_CHECK_EQ(read(tm.fd, buf, sizeof(buf)), 2);
}

static const struct tap_test tests[] = {
	{ "a background job reading its terminal is stopped by SIGTTIN; fg resumes the read",
	  test_background_read_stops },
	{ "a background job ignoring SIGTTIN reads EIO", test_background_read_ignored },
	{ "a background job blocking SIGTTIN reads EIO", test_background_read_blocked },
	{ "an orphaned background job reads EIO", test_orphaned_background_read },
	{ "the foreground group reads", test_foreground_read },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
