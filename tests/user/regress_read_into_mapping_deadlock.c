// Regression: two processes that each read() one file into a fresh private mapping of the
// other's file deadlocked for good (not even SIGKILL helped). Each read held its file's
// i_mutex while the copy to user memory faulted on the other file, and the page fault
// waited for that file's i_mutex. Page faults now take only the page-array lock.
#define _GNU_SOURCE
#include "tap.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <time.h>

#define FILE_SIZE (2UL << 20)
#define ROUNDS 6

static const char *const paths[2] = { "/tmp/regress_deadlock_a", "/tmp/regress_deadlock_b" };

static void make_file(const char *path)
{
	static char buf[65536];
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	memset(buf, 1, sizeof(buf));
	for (size_t done = 0; fd >= 0 && done < FILE_SIZE; done += sizeof(buf))
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			break;
	close(fd);
}

// Read src into a new private writable mapping of dst, ROUNDS times.
static void reader(const char *src, const char *dst)
{
	for (int i = 0; i < ROUNDS; i++) {
		int s = open(src, O_RDONLY), d = open(dst, O_RDWR);
		char *m = mmap(NULL, FILE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, d, 0);

		if (s < 0 || d < 0 || m == MAP_FAILED)
			_exit(2);
		if (read(s, m, FILE_SIZE) != (ssize_t)FILE_SIZE)
			_exit(3);
		munmap(m, FILE_SIZE);
		close(s);
		close(d);
	}
	_exit(0);
}

static void test_cross_reads_finish(void)
{
	pid_t pids[2];
	int done = 0;

	make_file(paths[0]);
	make_file(paths[1]);
	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		TAP_REQUIRE(pids[i] >= 0);
		if (pids[i] == 0)
			reader(paths[i], paths[1 - i]);
	}
	// Both must finish within 8 s (tap.h's own limit is 10 s).
	for (int tick = 0; tick < 80 && done < 2; tick++) {
		struct timespec ts = { 0, 100000000 };
		int status;

		for (int i = 0; i < 2; i++) {
			if (pids[i] > 0 && waitpid(pids[i], &status, WNOHANG) == pids[i]) {
				TAP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
				pids[i] = 0;
				done++;
			}
		}
		nanosleep(&ts, NULL);
	}
	TAP_CHECK_EQ(done, 2);
	for (int i = 0; i < 2; i++) {
		if (pids[i] > 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
		}
	}
	unlink(paths[0]);
	unlink(paths[1]);
}

static const struct tap_test tests[] = {
	{ "read() of one file into a mapping of another, crosswise, finishes", test_cross_reads_finish },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
