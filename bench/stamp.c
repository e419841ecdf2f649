// A host-side stopwatch for guest boots (bench/run builds it for the host and uses it for
// every QEMU run it starts itself).
//
// Usage: stamp -t SECONDS -m MARKER -o OUTFILE -- COMMAND [ARG...]
//
// Starts COMMAND (normally qemu-system-x86_64 itself, so the clock starts when QEMU does)
// with stdin on /dev/null and stdout on a pipe, copies everything it prints to OUTFILE,
// and notes the host time at which a line starting with MARKER (after any '\r') is
// complete. After SECONDS it kills COMMAND (SIGKILL). At the end it prints one line:
//
//	marker_ms=M total_ms=T status=S
//
// M: CLOCK_MONOTONIC milliseconds from just before COMMAND was started to the end of the
// marker line, or -1 if the marker never came; T: the same to COMMAND's exit; S: its exit
// status, "signal-N", or "timeout". stamp exits 0 if it could run COMMAND at all.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN 4096

struct stamp {
	const char *marker;
	int out_fd;
	char line[LINE_MAX_LEN];
	size_t line_len;
	double t0_ms, marker_ms;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static _Noreturn void die(const char *what)
{
	fprintf(stderr, "stamp: %s: %s\n", what, strerror(errno));
	exit(2);
}

// Feed output bytes: copy them out and look for the marker at the start of each line.
static void stamp_feed(struct stamp *st, const char *buf, size_t len)
{
	if (write(st->out_fd, buf, len) != (ssize_t)len)
		die("write");
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];

		if (c == '\r')
			continue;
		if (c != '\n') {
			if (st->line_len < sizeof(st->line) - 1)
				st->line[st->line_len++] = c;
			continue;
		}
		st->line[st->line_len] = '\0';
		if (st->marker_ms < 0 && strncmp(st->line, st->marker, strlen(st->marker)) == 0)
			st->marker_ms = now_ms() - st->t0_ms;
		st->line_len = 0;
	}
}

static pid_t child_start(char **argv, int *out)
{
	int p[2];
	pid_t pid;

	if (pipe(p) < 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		dup2(null, STDIN_FILENO);
		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		close(p[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "stamp: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	*out = p[0];
	return pid;
}

// Copy the child's output until it closes stdout or the deadline passes. Returns 0, or -1
// on the deadline.
static int stamp_copy(struct stamp *st, int fd, double deadline_ms)
{
	char buf[4096];

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		double left = deadline_ms - now_ms();
		ssize_t n;

		if (left <= 0)
			return -1;
		if (poll(&pfd, 1, (int)left + 1) < 0 && errno != EINTR)
			die("poll");
		if (pfd.revents == 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read");
		if (n == 0)
			return 0;
		stamp_feed(st, buf, (size_t)n);
	}
}

int main(int argc, char **argv)
{
	struct stamp st = { .marker = NULL, .marker_ms = -1 };
	const char *out_path = NULL;
	double timeout_s = 60, total;
	int opt, fd, status, timed_out;
	pid_t pid;

	while ((opt = getopt(argc, argv, "+t:m:o:")) != -1) {
		if (opt == 't')
			timeout_s = atof(optarg);
		else if (opt == 'm')
			st.marker = optarg;
		else if (opt == 'o')
			out_path = optarg;
		else
			return 2;
	}
	if (!st.marker || !out_path || optind >= argc || timeout_s <= 0) {
		fprintf(stderr, "usage: stamp -t SECONDS -m MARKER -o OUTFILE -- COMMAND...\n");
		return 2;
	}
	st.out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (st.out_fd < 0)
		die(out_path);
	st.t0_ms = now_ms();
	pid = child_start(argv + optind, &fd);
	timed_out = stamp_copy(&st, fd, st.t0_ms + timeout_s * 1e3) < 0;
	if (timed_out)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			die("waitpid");
	}
	total = now_ms() - st.t0_ms;
	printf("marker_ms=%.1f total_ms=%.1f status=", st.marker_ms, total);
	if (timed_out)
		printf("timeout\n");
	else if (WIFSIGNALED(status))
		printf("signal-%d\n", WTERMSIG(status));
	else
		printf("%d\n", WEXITSTATUS(status));
	return 0;
}
