// /init of the Linux guest's initramfs (bench/run builds it): the Linux-side twin of
// Trapeze's user/init in vmrun mode, so that both kernels run the benchmark the same way.
//
// It reads /etc/vmrun.cmd (the argv of one command as NUL-terminated strings, the format
// tools/vmrun gives Trapeze's init), makes console output raw, runs the command in a child
// with the console as stdin, stdout and stderr, reaps every child, prints
//
//	bench-init: exited with status N
//
// (N as a shell gives it: exit code, or 128 + signal number) and powers off through QEMU's
// isa-debug-exit device, value 0, exactly as Trapeze's kernel does: QEMU exits with status 1.
// Without that device it falls back to reboot(RB_POWER_OFF).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define CMD_PATH "/etc/vmrun.cmd"
#define CMD_MAX 4096
#define ARGV_MAX 64
#define DEBUG_EXIT_PORT 0xf4
#define STATUS_INIT_FAILED 125

static char *cmd_env[] = { "PATH=/bin:/sbin:/usr/bin", "HOME=/", NULL };

// The kernel opens /dev/console for init when the initramfs has the node; bench/run cannot
// always create device nodes, so without it mount devtmpfs and open the console here.
static void console_open(void)
{
	int fd;

	if (fcntl(STDOUT_FILENO, F_GETFD) >= 0)
		return;
	mkdir("/dev", 0755);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	fd = open("/dev/console", O_RDWR);
	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

// No "\n" -> "\r\n" and no echo, as Trapeze's init sets it: the same bytes leave both guests.
static void console_raw_enable(void)
{
	struct termios t;

	if (tcgetattr(STDOUT_FILENO, &t) < 0)
		return;
	t.c_oflag &= ~OPOST;
	t.c_lflag &= ~(ECHO | ECHONL);
	tcsetattr(STDOUT_FILENO, TCSANOW, &t);
}

// Read CMD_PATH into buf and point argv at its strings. Returns the count, or -1.
static int cmd_read(char *buf, size_t size, char **argv)
{
	int fd = open(CMD_PATH, O_RDONLY);
	ssize_t len;
	int argc = 0;

	if (fd < 0)
		return -1;
	len = read(fd, buf, size);
	close(fd);
	if (len <= 0 || (size_t)len == size || buf[len - 1] != '\0')
		return -1;
	for (ssize_t i = 0; i < len && argc < ARGV_MAX - 1; i += (ssize_t)strlen(buf + i) + 1)
		argv[argc++] = buf + i;
	argv[argc] = NULL;
	return argc;
}

// Run argv in a child and return its shell-style status, reaping everything else.
static int cmd_run(char **argv)
{
	pid_t pid = fork(), got;
	int status;

	if (pid < 0)
		return STATUS_INIT_FAILED;
	if (pid == 0) {
		execve(argv[0], argv, cmd_env);
		dprintf(STDERR_FILENO, "bench-init: %s: %s\n", argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	for (;;) {
		got = waitpid(-1, &status, 0);
		if (got == pid)
			return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
		if (got < 0 && errno != EINTR)
			return STATUS_INIT_FAILED;
	}
}

static _Noreturn void power_off(void)
{
	sync();
	if (ioperm(DEBUG_EXIT_PORT, 4, 1) == 0)
		outl(0, DEBUG_EXIT_PORT);
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

int main(void)
{
	static char buf[CMD_MAX];
	char *argv[ARGV_MAX];
	int status = STATUS_INIT_FAILED;

	console_open();
	console_raw_enable();
	if (cmd_read(buf, sizeof(buf), argv) > 0)
		status = cmd_run(argv);
	else
		dprintf(STDERR_FILENO, "bench-init: %s missing or malformed\n", CMD_PATH);
	dprintf(STDOUT_FILENO, "bench-init: exited with status %d\n", status);
	power_off();
}
