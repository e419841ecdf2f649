// The first user program, PID 1. The kernel starts it with fds 0, 1 and 2 open on
// /dev/console; when init exits the kernel logs "trapeze: init exited with status N" and
// powers the machine off.
//
// Two modes:
//  - vmrun mode, when /etc/vmrun.cmd exists (tools/vmrun adds it in a second initramfs
//    module): the file is the argv of one command as NUL-terminated strings. init makes
//    console output raw and turns echo off, runs the command in a child, reaps every other
//    child meanwhile and exits with the command's shell-style status (exit code, or 128 +
//    signal number), which tools/vmrun reads back from the kernel log. init itself prints
//    nothing unless the command cannot be run.
//  - interactive mode, otherwise: a banner, then a login shell (busybox /bin/sh) in its own
//    session; when the shell exits, init exits with 0 and the machine powers off.
//
// init ignores SIGINT, passes a SIGTERM on to the command or shell it waits for, and
// powers off on SIGUSR1 or SIGUSR2 (busybox halt and poweroff send those to PID 1). On a
// kernel without fork yet (ENOSYS) the command is exec'd in init's place instead.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define VMRUN_CMD_PATH "/etc/vmrun.cmd"
#define VMRUN_CMD_MAX 16384 // bytes of argv strings vmrun.cmd may hold
#define VMRUN_ARGV_MAX 256  // argv entries, including the closing NULL

// Exit statuses as a shell gives them, and one for init's own failures (vmrun's "internal
// error" status, so the host side reports it as a broken boot, not as a test result).
#define STATUS_CANNOT_EXEC 126
#define STATUS_NOT_FOUND 127
#define STATUS_INIT_FAILED 125

static char *shell_env[] = { "PATH=/bin:/sbin:/usr/bin", "HOME=/", "TERM=vt100",
			     "SHELL=/bin/sh", NULL };
static char *vmrun_env[] = { "PATH=/bin:/sbin:/usr/bin:/tests", "HOME=/", "TERM=vt100", NULL };

// A leading '-' makes busybox sh a login shell, as login(1) would start it.
static char *shell_argv[] = { "-sh", NULL };

// Set by the SIGTERM handler, cleared by child_wait() when it passes the signal on.
static volatile sig_atomic_t sigterm_pending;
// Set by SIGUSR1/SIGUSR2: busybox `halt` and `poweroff` ask PID 1 to stop the machine.
static volatile sig_atomic_t poweroff_pending;

static void sigterm_handle(int sig)
{
	sigterm_pending = 1;
}

static void poweroff_handle(int sig)
{
	poweroff_pending = 1;
}

// Stop every other process, then the machine (the kernel powers off; QEMU exits).
static void power_off(void)
{
	kill(-1, SIGTERM);
	sleep(1);
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	reboot(RB_POWER_OFF);
	_exit(0); // without a reboot call, init's exit powers off too
}

// A ^C on the console must not reach PID 1; a SIGTERM is passed on to the main child.
// No SA_RESTART, so that the handler interrupts child_wait()'s waitpid. Errors are ignored:
// a kernel without rt_sigaction yet still runs init.
static void signals_init(void)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };

	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = sigterm_handle;
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = poweroff_handle;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
}

// Give a child the default dispositions back: an ignored signal stays ignored across exec.
static void signals_reset(void)
{
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
}

// Make console output raw, so that what the command writes reaches vmrun's stdout byte for
// byte: no "\n" -> "\r\n" (OPOST) and no echo of console input. A console without termios
// support is left as it is.
static void console_raw_enable(void)
{
	struct termios t;

	if (tcgetattr(STDOUT_FILENO, &t) < 0)
		return;
	t.c_oflag &= ~OPOST;
	t.c_lflag &= ~(ECHO | ECHONL);
	tcsetattr(STDOUT_FILENO, TCSANOW, &t);
}

// Read /etc/vmrun.cmd into buf and point argv (NULL-terminated, at most argv_max entries)
// at its strings. Returns the argument count, 0 if there is no vmrun.cmd, or -1 after
// printing why the file cannot be used.
static int vmrun_cmd_read(char *buf, size_t size, char **argv, int argv_max)
{
	size_t len = 0;
	ssize_t n = 0;
	int argc = 0;
	int fd = open(VMRUN_CMD_PATH, O_RDONLY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		goto fail_errno;
	while (len < size) {
		n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (n < 0)
		goto fail_errno;
	close(fd);
	if (len == 0 || len == size || buf[len - 1] != '\0') {
		dprintf(STDERR_FILENO, "init: %s: empty, too long or not NUL-terminated\n",
			VMRUN_CMD_PATH);
		return -1;
	}
	for (size_t i = 0; i < len; i += strlen(buf + i) + 1) {
		if (argc == argv_max - 1) {
			dprintf(STDERR_FILENO, "init: %s: too many arguments\n", VMRUN_CMD_PATH);
			return -1;
		}
		argv[argc++] = buf + i;
	}
	argv[argc] = NULL;
	return argc;
fail_errno:
	dprintf(STDERR_FILENO, "init: %s: %s\n", VMRUN_CMD_PATH, strerror(errno));
	return -1;
}

// Replace this process with the program file (searched in environ's PATH when it has no
// '/') run as argv. If that fails, say why on stderr, prefixed with who, and exit with the
// status a shell would give.
static _Noreturn void cmd_exec(const char *who, const char *file, char **argv)
{
	int err;

	signals_reset();
	execvp(file, argv);
	err = errno;
	if (err == ENOENT || err == ENOTDIR) {
		dprintf(STDERR_FILENO, "%s: %s: not found\n", who, file);
		_exit(STATUS_NOT_FOUND);
	}
	if (err == EACCES)
		dprintf(STDERR_FILENO, "%s: %s: permission denied\n", who, file);
	else
		dprintf(STDERR_FILENO, "%s: %s: cannot execute: %s\n", who, file, strerror(err));
	_exit(STATUS_CANNOT_EXEC);
}

// Wait for pid, reaping every other child that exits meanwhile (orphans are reparented to
// init), and pass a SIGTERM that init receives on to pid. A SIGTERM that lands between the
// check and waitpid() is passed on at the next wakeup. Returns pid's shell-style status, or
// STATUS_INIT_FAILED if it cannot be waited for.
static int child_wait(pid_t pid)
{
	int status;

	for (;;) {
		pid_t got;

		if (poweroff_pending)
			power_off();
		if (sigterm_pending) {
			sigterm_pending = 0;
			kill(pid, SIGTERM);
		}
		got = waitpid(-1, &status, 0);
		if (got == pid)
			return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
		if (got < 0 && errno != EINTR) {
			dprintf(STDERR_FILENO, "init: wait: %s\n", strerror(errno));
			return STATUS_INIT_FAILED;
		}
	}
}

// Run file as argv in a child (see cmd_exec) and return its shell-style status. With
// new_session the child leads a new session whose controlling terminal is the console, so
// that a shell gets job control.
static int cmd_run(const char *who, const char *file, char **argv, bool new_session)
{
	pid_t pid = fork();

	if (pid < 0 && errno == ENOSYS)
		cmd_exec(who, file, argv); // no fork yet: the command takes init's place
	if (pid < 0) {
		dprintf(STDERR_FILENO, "init: fork: %s\n", strerror(errno));
		return STATUS_INIT_FAILED;
	}
	if (pid == 0) {
		// A new session whose foreground group is the shell's own: job control.
		if (new_session && setsid() >= 0) {
			ioctl(STDIN_FILENO, TIOCSCTTY, 0); // failure costs only job control
			tcsetpgrp(STDIN_FILENO, getpid());
		}
		// Otherwise a process group of its own, as a shell runs a job: a group that
		// only init's links to another group is orphaned (POSIX), and the keyboard
		// stop signals would not stop its members.
		if (!new_session)
			setpgid(0, 0);
		cmd_exec(who, file, argv);
	}
	return child_wait(pid);
}

int main(void)
{
	static const char banner[] = "Trapeze: starting /bin/sh; exit the shell to power off.\n";
	static char cmd_buf[VMRUN_CMD_MAX];
	char *cmd_argv[VMRUN_ARGV_MAX];
	int argc;

	signals_init();
	argc = vmrun_cmd_read(cmd_buf, sizeof(cmd_buf), cmd_argv, VMRUN_ARGV_MAX);
	if (argc < 0)
		return STATUS_INIT_FAILED;
	if (argc > 0) {
		environ = vmrun_env;
		console_raw_enable();
		return cmd_run("vmrun", cmd_argv[0], cmd_argv, false);
	}
	environ = shell_env;
	write(STDOUT_FILENO, banner, sizeof(banner) - 1);
	cmd_run("init", "/bin/sh", shell_argv, true);
	return 0;
}
