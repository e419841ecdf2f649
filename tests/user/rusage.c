// Resource usage: getrusage for the caller and its reaped children, the rusage wait4 and
// waitid report for a child (its own usage plus its reaped children's, as Linux's
// RUSAGE_BOTH), times(), cutime/cstime in /proc/self/stat, and the peak resident set.
//
// CPU time is charged by the timer tick (10 ms in Trapeze), so a child spins until its own
// getrusage says 200 ms and the parent checks that at least 100 ms reached it: the slack
// covers rounding on both systems without letting zeros pass.

#include "tap.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <time.h>

#define MSEC_PER_SEC 1000L
#define USEC_PER_MSEC 1000L
#define SPIN_MS 200       // CPU time a spinning child uses
#define REPORTED_MS 100   // what must at least reach the parent of it
#define SPIN_WALL_MS 4000 // a spinner gives up after this much wall time
#define TOUCH_BYTES (16L << 20)
#define TOUCH_MIN_KIB (12L << 10) // of 16 MiB touched, at least this must show in maxrss
#define PAGE 4096L
#define EXIT_SPIN_FAILED 3

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * MSEC_PER_SEC + ts.tv_nsec / 1000000;
}

static long tv_ms(struct timeval tv)
{
	return tv.tv_sec * MSEC_PER_SEC + tv.tv_usec / USEC_PER_MSEC;
}

static long self_utime_ms(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? tv_ms(ru.ru_utime) : -1;
}

// Burn user-mode CPU until getrusage reports ms of it. 0, or -1 after SPIN_WALL_MS.
static int spin_cpu_ms(long ms)
{
	long long give_up = now_ms() + SPIN_WALL_MS;
	volatile unsigned long n = 0;

	while (self_utime_ms() < ms) {
		if (now_ms() > give_up)
			return -1;
		for (int i = 0; i < 200000; i++)
			n++;
	}
	return 0;
}

static void spin_child(void)
{
	_exit(spin_cpu_ms(SPIN_MS) ? EXIT_SPIN_FAILED : 0);
}

// A child that does nothing itself but reap a grandchild that spins.
static void spin_grandchild(void)
{
	pid_t pid = fork();

	if (pid < 0)
		_exit(1);
	if (pid == 0)
		spin_child();
	_exit(tap_wait(pid) == 0 ? 0 : EXIT_SPIN_FAILED);
}

static pid_t start(void (*fn)(void))
{
	pid_t pid = fork();

	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		alarm(TAP_TIMEOUT / 2);
		fn();
		_exit(0);
	}
	return pid;
}

static void check_exit_zero(int status)
{
	char buf[96];

	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		tap_fail_at(__FILE__, __LINE__, "child %s",
			    tap_status_str(status, buf, sizeof(buf)));
}

// Fields 14 to 17 of /proc/self/stat: utime stime cutime cstime, in clock ticks.
static int stat_times(long t[4])
{
	char buf[1024], *p;
	int fd = open("/proc/self/stat", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')'); // the comm may hold spaces; the state follows the last ')'
	if (!p)
		return -1;
	// After ") ": state is field 3, so field 14 is the 12th token from here.
	p += 2;
	for (int field = 3; field < 14; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
	}
	return sscanf(p, "%ld %ld %ld %ld", &t[0], &t[1], &t[2], &t[3]) == 4 ? 0 : -1;
}

// ---- the tests ------------------------------------------------------------------------------

static void test_wait4_rusage(void)
{
	struct rusage ru;
	int status;
	pid_t pid = start(spin_child);

	memset(&ru, 0, sizeof(ru));
	TAP_REQUIRE(wait4(pid, &status, 0, &ru) == pid);
	check_exit_zero(status);
	tap_diag("child: utime %ld ms, stime %ld ms, maxrss %ld KiB, minflt %ld",
		 tv_ms(ru.ru_utime), tv_ms(ru.ru_stime), ru.ru_maxrss, ru.ru_minflt);
	TAP_CHECK(tv_ms(ru.ru_utime) >= REPORTED_MS);
	TAP_CHECK(ru.ru_utime.tv_usec >= 0 && ru.ru_utime.tv_usec < 1000000);
	// (Linux's resident-set counters lag by a batch per CPU: a small child may show a
	// maxrss of 0 there, so only the 16 MiB tests check it.)
	TAP_CHECK(ru.ru_minflt > 0);
}

// A grandchild's time reaches us through the child that reaped it: in wait4's rusage for
// the child, in RUSAGE_CHILDREN, in times() and in /proc/self/stat.
static void test_children_totals(void)
{
	struct rusage before, after, ru;
	struct tms t0, t1;
	long st0[4], st1[4];
	long hz = sysconf(_SC_CLK_TCK);
	int status;
	pid_t pid;

	TAP_REQUIRE(hz > 0);
	TAP_REQUIRE(getrusage(RUSAGE_CHILDREN, &before) == 0);
	TAP_REQUIRE(times(&t0) != (clock_t)-1);
	TAP_REQUIRE(stat_times(st0) == 0);
	pid = start(spin_grandchild);
	TAP_REQUIRE(wait4(pid, &status, 0, &ru) == pid);
	check_exit_zero(status);
	TAP_CHECK(tv_ms(ru.ru_utime) >= REPORTED_MS);
	TAP_REQUIRE(getrusage(RUSAGE_CHILDREN, &after) == 0);
	TAP_CHECK(tv_ms(after.ru_utime) - tv_ms(before.ru_utime) >= REPORTED_MS);
	TAP_CHECK(tv_ms(after.ru_stime) >= tv_ms(before.ru_stime));
	TAP_REQUIRE(times(&t1) != (clock_t)-1);
	TAP_CHECK((t1.tms_cutime - t0.tms_cutime) * MSEC_PER_SEC / hz >= REPORTED_MS);
	TAP_CHECK(t1.tms_cstime >= t0.tms_cstime);
	TAP_REQUIRE(stat_times(st1) == 0);
	tap_diag("cutime %ld -> %ld ticks, tms_cutime %ld -> %ld", st0[2], st1[2],
		 (long)t0.tms_cutime, (long)t1.tms_cutime);
	TAP_CHECK((st1[2] - st0[2]) * MSEC_PER_SEC / hz >= REPORTED_MS);
	TAP_CHECK(st1[3] >= st0[3]);
	// Our own time is not the children's.
	TAP_CHECK(t1.tms_utime * MSEC_PER_SEC / hz < REPORTED_MS);
}

static void test_self_monotonic(void)
{
	struct rusage prev, cur;
	struct tms ta, tb;
	clock_t c0, c1;
	long long end;

	TAP_REQUIRE(getrusage(RUSAGE_SELF, &prev) == 0);
	c0 = times(&ta);
	end = now_ms() + 60;
	while (now_ms() < end) {
		TAP_REQUIRE(getrusage(RUSAGE_SELF, &cur) == 0);
		if (tv_ms(cur.ru_utime) < tv_ms(prev.ru_utime) ||
		    tv_ms(cur.ru_stime) < tv_ms(prev.ru_stime)) {
			tap_fail_at(__FILE__, __LINE__, "time went back: %ld+%ld ms to %ld+%ld ms",
				    tv_ms(prev.ru_utime), tv_ms(prev.ru_stime),
				    tv_ms(cur.ru_utime), tv_ms(cur.ru_stime));
			break;
		}
		prev = cur;
	}
	c1 = times(&tb);
	// 60 ms of wall time passed: the clock times() returns moved by at least 5 ticks.
	TAP_CHECK(c1 - c0 >= 5);
	TAP_CHECK(tb.tms_utime >= ta.tms_utime && tb.tms_stime >= ta.tms_stime);
	// Some of those 60 ms were ours, in user or kernel mode.
	TAP_CHECK(tb.tms_utime + tb.tms_stime > ta.tms_utime + ta.tms_stime);
	// (Linux scales a thread's and a process's split of user and system time separately,
	// so RUSAGE_THREAD's utime need not match RUSAGE_SELF's there.)
	TAP_CHECK_EQ(getrusage(RUSAGE_THREAD, &cur), 0);
	TAP_CHECK_EQ(getrusage(2, &cur), -1);
	TAP_CHECK_EQ(errno, EINVAL);
	TAP_CHECK_EQ(tap_syscall2(SYS_getrusage, RUSAGE_SELF, 8), -EFAULT);
	TAP_CHECK_EQ(tap_syscall1(SYS_times, 8), -EFAULT);
	TAP_CHECK(tap_syscall1(SYS_times, 0) > 0); // NULL buffer: just the clock
}

static void touch_memory(void)
{
	char *p = mmap(NULL, TOUCH_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	if (p == MAP_FAILED)
		_exit(1);
	for (long off = 0; off < TOUCH_BYTES; off += PAGE)
		p[off] = 1;
}

static void test_maxrss(void)
{
	struct rusage before, after;

	TAP_REQUIRE(getrusage(RUSAGE_SELF, &before) == 0);
	touch_memory();
	TAP_REQUIRE(getrusage(RUSAGE_SELF, &after) == 0);
	tap_diag("maxrss %ld KiB -> %ld KiB, minflt %ld -> %ld", before.ru_maxrss,
		 after.ru_maxrss, before.ru_minflt, after.ru_minflt);
	TAP_CHECK(after.ru_maxrss - before.ru_maxrss >= TOUCH_MIN_KIB);
	TAP_CHECK(after.ru_minflt > before.ru_minflt);
}

// A child's peak reaches us through waitid's rusage (the raw call: libc's waitid has no
// rusage argument) and then RUSAGE_CHILDREN.
static void test_children_maxrss(void)
{
	struct rusage ru, children;
	siginfo_t info;
	pid_t pid = start(touch_memory);

	memset(&ru, 0, sizeof(ru));
	memset(&info, 0, sizeof(info));
	TAP_REQUIRE(tap_syscall6(SYS_waitid, P_PID, pid, (long)&info, WEXITED, (long)&ru, 0) ==
		    0);
	TAP_CHECK_EQ(info.si_pid, pid);
	TAP_CHECK_EQ(info.si_code, CLD_EXITED);
	TAP_CHECK(ru.ru_maxrss >= TOUCH_MIN_KIB);
	TAP_REQUIRE(getrusage(RUSAGE_CHILDREN, &children) == 0);
	TAP_CHECK(children.ru_maxrss >= TOUCH_MIN_KIB);
}

// wait4 and waitid write the rusage only when they report a child.
static void test_nohang_leaves_rusage(void)
{
	struct rusage ru, untouched;
	siginfo_t info;
	int fds[2];
	pid_t pid;
	char c;

	TAP_REQUIRE(pipe(fds) == 0);
	pid = fork();
	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		close(fds[1]);
		_exit(read(fds[0], &c, 1) == 0 ? 0 : 1);
	}
	close(fds[0]);
	memset(&ru, 0xa5, sizeof(ru));
	untouched = ru;
	TAP_CHECK_EQ(wait4(pid, NULL, WNOHANG, &ru), 0);
	TAP_CHECK(memcmp(&ru, &untouched, sizeof(ru)) == 0);
	TAP_CHECK_EQ(tap_syscall6(SYS_waitid, P_PID, pid, (long)&info, WEXITED | WNOHANG,
				  (long)&ru, 0),
		     0);
	TAP_CHECK(memcmp(&ru, &untouched, sizeof(ru)) == 0);
	close(fds[1]);
	TAP_CHECK_EQ(wait4(pid, NULL, 0, &ru), pid);
	TAP_CHECK(memcmp(&ru, &untouched, sizeof(ru)) != 0);
}

static const struct tap_test tests[] = {
	{ "wait4 reports the child's CPU time and page faults", test_wait4_rusage },
	{ "a reaped grandchild's time reaches RUSAGE_CHILDREN, times() and /proc stat",
	  test_children_totals },
	{ "RUSAGE_SELF and times() never go back; bad who is EINVAL", test_self_monotonic },
	{ "ru_maxrss grows by what 16 MiB of touched memory adds", test_maxrss },
	{ "waitid's rusage and RUSAGE_CHILDREN carry a child's peak memory",
	  test_children_maxrss },
	{ "wait4/waitid with WNOHANG and no report leave the rusage alone",
	  test_nohang_leaves_rusage },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
