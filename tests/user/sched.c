// The scheduler seen from user space: "even if a program is running forever while(1), it is
// still taking turns inside the cpu". Two busy loops share one CPU fairly; a sleeper beside
// a busy loop wakes on time; a task inside one long system call (a 64 MiB read of /dev/zero)
// is preempted in the kernel so that another task keeps running; sched_yield hands the CPU
// over; 200 processes can be alive at once.
//
// The guest has one CPU. On the host every test pins itself (and so its children) to CPU 0
// with sched_setaffinity, so both measure tasks competing for one CPU; where the call does
// not exist (ENOSYS in Trapeze) there is only one CPU anyway. Children report through
// MAP_SHARED anonymous memory.

#define _GNU_SOURCE
#include "tap.h"

#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

#define NSEC_PER_MSEC 1000000LL
#define NSEC_PER_SEC 1000000000LL

#define FAIR_RUN_NS NSEC_PER_SEC	// how long the two busy loops compete
#define FAIR_MAX_RATIO 2	// the busier loop may get at most this many times the turns

#define SLEEP_NS (100 * NSEC_PER_MSEC)
#define SLEEP_LATE_NS (200 * NSEC_PER_MSEC)	// a wakeup later than SLEEP_NS + this fails
#define SLEEP_ROUNDS 3

#define ZERO_READ_BYTES (64 << 20)	// one read of /dev/zero: a long stay in the kernel
#define ZERO_READS 6
#define BUCKET_NS NSEC_PER_MSEC		// resolution of the counter's timeline
#define BUCKETS 20000			// 20 s of timeline

#define YIELD_ROUNDS 200

#define MANY_CHILDREN 200

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static void sleep_ns(long long ns)
{
	struct timespec ts = { ns / NSEC_PER_SEC, ns % NSEC_PER_SEC };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

// Pin the calling process (and the children it forks later) to CPU 0 where the kernel has
// more than one CPU; a kernel without sched_setaffinity has only one.
static void pin_to_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0 && errno != ENOSYS)
		tap_diag("sched_setaffinity: errno %d (%s)", errno, strerror(errno));
}

static void *shared_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	TAP_REQUIRE(p != MAP_FAILED);
	return p;
}

// Fork a child that runs fn(arg) and exits 0.
static pid_t spawn(void (*fn)(int), int arg)
{
	pid_t pid = fork();

	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	return pid;
}

static void check_exit0(pid_t pid)
{
	int status = tap_wait(pid);
	char buf[96];

	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		tap_fail_at(__FILE__, __LINE__, "child %d %s", (int)pid,
			    status == -1 ? "lost" : tap_status_str(status, buf, sizeof(buf)));
}

// ---- fair share ----------------------------------------------------------------------------

struct fair_shared {
	volatile int start, stop;
	volatile uint64_t count[2];
};

static struct fair_shared *fair;

static void fair_spinner(int i)
{
	while (!fair->start)
		;
	while (!fair->stop)
		fair->count[i]++;
}

// Two busy loops on one CPU for a second: each gets turns, neither more than twice the other.
static void test_fair_share(void)
{
	pid_t a, b;
	uint64_t lo, hi;

	pin_to_cpu0();
	fair = shared_alloc(sizeof(*fair));
	a = spawn(fair_spinner, 0);
	b = spawn(fair_spinner, 1);
	sleep_ns(50 * NSEC_PER_MSEC);	// both are spinning on start by now
	fair->start = 1;
	sleep_ns(FAIR_RUN_NS);
	fair->stop = 1;
	check_exit0(a);
	check_exit0(b);
	lo = fair->count[0] < fair->count[1] ? fair->count[0] : fair->count[1];
	hi = fair->count[0] ^ fair->count[1] ^ lo;
	tap_diag("iterations: %llu and %llu", (unsigned long long)fair->count[0],
		 (unsigned long long)fair->count[1]);
	TAP_CHECK(lo > 0);
	TAP_CHECK(hi <= FAIR_MAX_RATIO * lo);
}

// ---- sleeping beside a busy loop -----------------------------------------------------------

static void busy_forever(int unused)
{
	for (;;)
		__asm__ volatile("" ::: "memory");
}

// nanosleep(100 ms) while a busy loop wants the CPU: the sleeper wakes in time, neither
// early nor starved behind the loop.
static void test_sleep_beside_busy(void)
{
	pid_t busy;

	pin_to_cpu0();
	busy = spawn(busy_forever, 0);
	for (int i = 0; i < SLEEP_ROUNDS; i++) {
		struct timespec ts = { 0, SLEEP_NS };
		long long t0 = now_ns(), elapsed;

		TAP_CHECK_EQ(nanosleep(&ts, NULL), 0);
		elapsed = now_ns() - t0;
		tap_diag("slept %lld us", elapsed / 1000);
		TAP_CHECK(elapsed >= SLEEP_NS);
		TAP_CHECK(elapsed <= SLEEP_NS + SLEEP_LATE_NS);
	}
	kill(busy, SIGKILL);
	tap_wait(busy);
}

// ---- preemption inside a system call -------------------------------------------------------

// The counter's timeline: hist[b] counts its loop iterations in the b-th millisecond after
// base. The reader records when each of its reads began and ended.
struct preempt_shared {
	long long base;
	volatile int counter_running, stop;
	volatile uint32_t hist[BUCKETS];
	long long read_start[ZERO_READS], read_end[ZERO_READS];
	long read_ret[ZERO_READS];
	int read_errno[ZERO_READS];
};

static struct preempt_shared *pre;

static void preempt_counter(int unused)
{
	pre->counter_running = 1;
	while (!pre->stop) {
		long long b = (now_ns() - pre->base) / BUCKET_NS;

		if (b >= 0 && b < BUCKETS)
			pre->hist[b]++;
	}
}

static void preempt_reader(int unused)
{
	char *buf = mmap(NULL, ZERO_READ_BYTES, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd = open("/dev/zero", O_RDONLY);

	if (buf == MAP_FAILED || fd < 0)
		_exit(2);
	memset(buf, 1, ZERO_READ_BYTES);	// fault the pages in here, not inside read()
	while (!pre->counter_running)
		sched_yield();
	for (int i = 0; i < ZERO_READS; i++) {
		pre->read_start[i] = now_ns();
		pre->read_ret[i] = read(fd, buf, ZERO_READ_BYTES);
		pre->read_end[i] = now_ns();
		pre->read_errno[i] = errno;
	}
	pre->stop = 1;
	if (buf[0] != 0 || buf[ZERO_READ_BYTES - 1] != 0)
		_exit(3);
}

// Counter iterations in the buckets that lie wholly in [from, to).
static uint64_t counted_between(long long from, long long to)
{
	long long first = (from - pre->base + BUCKET_NS - 1) / BUCKET_NS;
	long long last = (to - pre->base) / BUCKET_NS;	// exclusive
	uint64_t sum = 0;

	for (long long b = first < 0 ? 0 : first; b < last && b < BUCKETS; b++)
		sum += pre->hist[b];
	return sum;
}

// While one child sits inside a 64 MiB read of /dev/zero, the other keeps counting. A kernel
// that preempts only on the way back to user mode lets the counter run at the edges of a
// read at most (just before it enters, just after the copy is done); so a read passes when
// the counter ran in its middle half, and half the reads must pass.
static void test_preempt_in_kernel(void)
{
	pid_t counter, reader;
	int passed = 0;

	pin_to_cpu0();
	pre = shared_alloc(sizeof(*pre));
	pre->base = now_ns();
	counter = spawn(preempt_counter, 0);
	reader = spawn(preempt_reader, 0);
	check_exit0(reader);
	pre->stop = 1;
	check_exit0(counter);
	for (int i = 0; i < ZERO_READS; i++) {
		long long t0 = pre->read_start[i], t1 = pre->read_end[i], quarter = (t1 - t0) / 4;
		uint64_t inside = counted_between(t0 + quarter, t1 - quarter);

		tap_diag("read %d: returned %ld, took %lld us; counter ran %llu times in its "
			 "middle half", i, pre->read_ret[i], (t1 - t0) / 1000,
			 (unsigned long long)inside);
		if (pre->read_ret[i] != ZERO_READ_BYTES)
			tap_fail_at(__FILE__, __LINE__, "read %d returned %ld, errno %d", i,
				    pre->read_ret[i], pre->read_errno[i]);
		passed += inside > 0;
	}
	TAP_CHECK(passed * 2 >= ZERO_READS);
}

// ---- sched_yield ---------------------------------------------------------------------------

struct yield_shared {
	volatile int ready[2];
	volatile int last;		// which child logged last
	volatile int switches;		// how often the logger changed
};

static struct yield_shared *yld;

static void yielder(int i)
{
	yld->ready[i] = 1;
	while (!yld->ready[1 - i])
		sched_yield();
	for (int n = 0; n < YIELD_ROUNDS; n++) {
		if (yld->last != i) {
			yld->last = i;
			yld->switches++;
		}
		if (sched_yield() != 0)
			_exit(2);
	}
}

// Two tasks that yield after every step alternate: each yield lets the other one run.
static void test_sched_yield(void)
{
	pid_t a, b;

	TAP_CHECK_EQ(sched_yield(), 0);
	pin_to_cpu0();
	yld = shared_alloc(sizeof(*yld));
	yld->last = -1;
	a = spawn(yielder, 0);
	b = spawn(yielder, 1);
	check_exit0(a);
	check_exit0(b);
	tap_diag("%d switches in %d yields each", yld->switches, YIELD_ROUNDS);
	TAP_CHECK(yld->switches >= YIELD_ROUNDS);
}

// ---- many processes ------------------------------------------------------------------------

// 200 children alive at once, each blocked on a pipe until released; all are reaped with
// their own exit status.
static void test_many_processes(void)
{
	int release[2], ready[2], reaped = 0;
	pid_t pids[MANY_CHILDREN];
	char c;

	TAP_REQUIRE(pipe(release) == 0 && pipe(ready) == 0);
	for (int i = 0; i < MANY_CHILDREN; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			tap_fail_at(__FILE__, __LINE__, "fork %d: errno %d (%s)", i, errno,
				    strerror(errno));
			break;
		}
		if (pids[i] == 0) {
			close(release[1]);
			close(ready[0]);
			if (write(ready[1], "r", 1) != 1)
				_exit(255);
			close(ready[1]);
			while (read(release[0], &c, 1) < 0 && errno == EINTR)
				;
			_exit(i % 200);
		}
	}
	close(ready[1]);
	for (int i = 0; i < MANY_CHILDREN; i++)
		if (read(ready[0], &c, 1) != 1) {
			tap_fail_at(__FILE__, __LINE__, "only %d children reported ready", i);
			break;
		}
	close(release[1]);	// EOF for every child at once
	for (int i = 0; i < MANY_CHILDREN && pids[i] > 0; i++) {
		int status = tap_wait(pids[i]);

		if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != i % 200)
			tap_fail_at(__FILE__, __LINE__, "child %d: wait status %#x", i,
				    (unsigned int)status);
		else
			reaped++;
	}
	TAP_CHECK_EQ(reaped, MANY_CHILDREN);
	TAP_CHECK_EQ(waitpid(-1, NULL, WNOHANG), -1);
	TAP_CHECK_EQ(errno, ECHILD);
}

static const struct tap_test tests[] = {
	{ "two busy loops share one CPU within a factor of two", test_fair_share },
	{ "nanosleep(100 ms) beside a busy loop wakes on time", test_sleep_beside_busy },
	{ "a task inside a long read of /dev/zero is preempted", test_preempt_in_kernel },
	{ "sched_yield lets the other task run", test_sched_yield },
	{ "200 processes alive at once, all reaped", test_many_processes },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
