// Resource limits: getrlimit, setrlimit and prlimit64 with Linux's checks, limits inherited
// by fork and kept across exec, and each enforced limit doing what Linux does when it is
// reached: RLIMIT_NOFILE (EMFILE), RLIMIT_STACK (SIGSEGV), RLIMIT_AS and RLIMIT_DATA
// (ENOMEM), RLIMIT_FSIZE (short write, then SIGXFSZ and EFBIG), RLIMIT_CPU (SIGXCPU, then
// SIGKILL).
//
// Every test runs in a child of its own (tap.h), so the limits it sets die with it. The
// program re-executes itself (AT_EXECFN) with --check-limits to see what exec keeps. Run
// as root, as the tests run in Trapeze (where everyone is root) and on the host; where root
// lacks CAP_SYS_RESOURCE (a container), raising a hard limit is checked to be EPERM.

#define _GNU_SOURCE // mremap

#include "tap.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>

#define KIB 1024L
#define MIB (1024L * 1024L)
#define NR_OPEN_DEFAULT (1024 * 1024) // Linux's fs.nr_open unless changed
#define CORE_SOFT 12345               // an unusual value, recognisable after fork and exec
#define CORE_HARD 234567
#define NOFILE_TEST 16                // descriptors allowed in the EMFILE test
#define FSIZE_TEST 1000               // bytes allowed in the RLIMIT_FSIZE tests
#define CAP_SYS_RESOURCE 24           // may raise hard limits
#define EXIT_CHECK_FAILED 3
#define EXIT_NOT_KILLED 4

static char self[512]; // absolute path of this program

static int is_trapeze(void)
{
	struct utsname u;

	return uname(&u) == 0 && strcmp(u.sysname, "Trapeze") == 0;
}

static long sys_prlimit(pid_t pid, int resource, const struct rlimit *new_lim,
			struct rlimit *old_lim)
{
	return tap_syscall6(SYS_prlimit64, pid, resource, (long)new_lim, (long)old_lim, 0, 0);
}

// Set one limit or end the test.
static void set_limit(int resource, rlim_t cur, rlim_t max)
{
	struct rlimit rl = { cur, max };

	TAP_REQUIRE(setrlimit(resource, &rl) == 0);
}

static rlim_t soft_limit(int resource)
{
	struct rlimit rl;

	TAP_REQUIRE(getrlimit(resource, &rl) == 0);
	return rl.rlim_cur;
}

// The highest RLIMIT_NOFILE anyone may set: fs.nr_open (Trapeze has no /proc/sys).
static long nr_open(void)
{
	char buf[32] = "";
	int fd = open("/proc/sys/fs/nr_open", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return NR_OPEN_DEFAULT;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atol(buf) : NR_OPEN_DEFAULT;
}

// Whether we may raise hard limits: root usually may, but a container can take the
// capability away (then Linux says EPERM). Trapeze's root has every capability.
static int has_cap_sys_resource(void)
{
	char buf[4096], *at;
	int fd = open("/proc/self/status", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return 1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	at = strstr(buf, "CapEff:");
	return !at || (strtoull(at + 7, NULL, 16) >> CAP_SYS_RESOURCE) & 1;
}

// Raising a hard limit: 0 with CAP_SYS_RESOURCE, else EPERM.
#define CHECK_RAISE(call)                                                              \
	do {                                                                           \
		if (has_cap_sys_resource()) {                                          \
			TAP_CHECK_EQ((call), 0);                                       \
		} else {                                                               \
			TAP_CHECK_EQ((call), -1);                                      \
			TAP_CHECK_EQ(errno, EPERM);                                    \
		}                                                                      \
	} while (0)

static void wait_exited(pid_t pid, int code)
{
	int status = tap_wait(pid);
	char buf[96];

	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != code)
		tap_fail_at(__FILE__, __LINE__, "child %s, want exit status %d",
			    status == -1 ? "not waited for" : tap_status_str(status, buf, sizeof(buf)),
			    code);
}

// ---- the calls ------------------------------------------------------------------------------

// Linux's defaults where nothing has changed them (Trapeze starts every program with them;
// a host's login and service manager may have changed a few), and the invariants anywhere.
static void test_defaults(void)
{
	struct rlimit rl;

	for (int r = 0; r < RLIM_NLIMITS; r++) {
		TAP_REQUIRE(getrlimit(r, &rl) == 0);
		if (rl.rlim_cur > rl.rlim_max)
			tap_fail_at(__FILE__, __LINE__, "resource %d: soft %llu above hard %llu", r,
				    (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
	}
	TAP_CHECK_EQ(getrlimit(RLIM_NLIMITS, &rl), -1);
	TAP_CHECK_EQ(errno, EINVAL);
	TAP_CHECK_EQ(tap_syscall2(SYS_getrlimit, RLIMIT_STACK, 8), -EFAULT);
	if (!is_trapeze())
		return;
	TAP_REQUIRE(getrlimit(RLIMIT_STACK, &rl) == 0);
	TAP_CHECK_EQ(rl.rlim_cur, 8 * MIB);
	TAP_CHECK(rl.rlim_max == RLIM_INFINITY);
	TAP_REQUIRE(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	TAP_CHECK_EQ(rl.rlim_cur, 1024);
	TAP_CHECK_EQ(rl.rlim_max, 1024);
	TAP_REQUIRE(getrlimit(RLIMIT_CORE, &rl) == 0);
	TAP_CHECK_EQ(rl.rlim_cur, 0);
	TAP_CHECK(rl.rlim_max == RLIM_INFINITY);
	const int unlimited[] = { RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_DATA, RLIMIT_AS };
	for (size_t i = 0; i < sizeof(unlimited) / sizeof(unlimited[0]); i++) {
		TAP_REQUIRE(getrlimit(unlimited[i], &rl) == 0);
		TAP_CHECK(rl.rlim_cur == RLIM_INFINITY && rl.rlim_max == RLIM_INFINITY);
	}
}

static void test_round_trip(void)
{
	struct rlimit want = { CORE_SOFT, CORE_HARD }, got, old;

	TAP_REQUIRE(setrlimit(RLIMIT_CORE, &want) == 0);
	TAP_REQUIRE(getrlimit(RLIMIT_CORE, &got) == 0);
	TAP_CHECK_EQ(got.rlim_cur, CORE_SOFT);
	TAP_CHECK_EQ(got.rlim_max, CORE_HARD);
	// prlimit64 swaps in one call and reports what was there; pid 0 and our pid are us.
	want = (struct rlimit){ 1, 2 };
	TAP_CHECK_EQ(sys_prlimit(0, RLIMIT_CORE, &want, &old), 0);
	TAP_CHECK_EQ(old.rlim_cur, CORE_SOFT);
	TAP_CHECK_EQ(old.rlim_max, CORE_HARD);
	TAP_CHECK_EQ(sys_prlimit(getpid(), RLIMIT_CORE, NULL, &old), 0);
	TAP_CHECK_EQ(old.rlim_cur, 1);
	TAP_CHECK_EQ(old.rlim_max, 2);
	// Root raises a hard limit again (CAP_SYS_RESOURCE).
	want = (struct rlimit){ 100, RLIM_INFINITY };
	CHECK_RAISE(setrlimit(RLIMIT_CORE, &want));
	if (has_cap_sys_resource()) {
		TAP_REQUIRE(getrlimit(RLIMIT_CORE, &got) == 0);
		TAP_CHECK(got.rlim_cur == 100 && got.rlim_max == RLIM_INFINITY);
	}
}

static void test_bad_values(void)
{
	struct rlimit bad = { 10, 5 }, got;
	long max_open = nr_open();

	TAP_CHECK_EQ(setrlimit(RLIMIT_CORE, &bad), -1);
	TAP_CHECK_EQ(errno, EINVAL);
	TAP_CHECK_EQ(sys_prlimit(0, RLIMIT_CORE, &bad, NULL), -EINVAL);
	TAP_CHECK_EQ(sys_prlimit(0, RLIM_NLIMITS, NULL, &got), -EINVAL);
	TAP_CHECK_EQ(sys_prlimit(0, RLIMIT_CORE, (struct rlimit *)8, NULL), -EFAULT);
	// RLIMIT_NOFILE stops at nr_open, even for root.
	bad = (struct rlimit){ 64, (rlim_t)max_open + 1 };
	TAP_CHECK_EQ(setrlimit(RLIMIT_NOFILE, &bad), -1);
	TAP_CHECK_EQ(errno, EPERM);
	bad.rlim_max = (rlim_t)max_open;
	TAP_REQUIRE(getrlimit(RLIMIT_NOFILE, &got) == 0);
	if (got.rlim_max < (rlim_t)max_open) {
		CHECK_RAISE(setrlimit(RLIMIT_NOFILE, &bad));
	} else {
		TAP_CHECK_EQ(setrlimit(RLIMIT_NOFILE, &bad), 0);
	}
	if (has_cap_sys_resource()) {
		TAP_REQUIRE(getrlimit(RLIMIT_NOFILE, &got) == 0);
		TAP_CHECK_EQ(got.rlim_max, max_open);
	}
}

static int check_inherited(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_CORE, &rl) != 0 || rl.rlim_cur != CORE_SOFT ||
	    rl.rlim_max != CORE_HARD)
		return EXIT_CHECK_FAILED;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur != NOFILE_TEST * 4)
		return EXIT_CHECK_FAILED;
	return 0;
}

static void set_inheritable_limits(void)
{
	set_limit(RLIMIT_CORE, CORE_SOFT, CORE_HARD);
	set_limit(RLIMIT_NOFILE, NOFILE_TEST * 4, NOFILE_TEST * 8);
}

static void test_fork_inherits(void)
{
	pid_t pid;

	set_inheritable_limits();
	pid = fork();
	TAP_REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(check_inherited());
	wait_exited(pid, 0);
}

static void test_exec_keeps(void)
{
	char *const argv[] = { self, "--check-limits", NULL };
	pid_t pid;

	set_inheritable_limits();
	pid = fork();
	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		execv(self, argv);
		_exit(127);
	}
	wait_exited(pid, 0);
}

// A child blocked on a pipe has its limits read and changed from outside, then reports
// what it sees itself.
static void test_prlimit_other(void)
{
	int go[2], back[2];
	struct rlimit want = { NOFILE_TEST * 2, NOFILE_TEST * 3 }, old, got;
	pid_t pid, gone;
	char c;

	TAP_REQUIRE(pipe(go) == 0 && pipe(back) == 0);
	pid = fork();
	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		struct rlimit seen;

		if (read(go[0], &c, 1) != 1 || getrlimit(RLIMIT_NOFILE, &seen) != 0)
			_exit(1);
		_exit(write(back[1], &seen, sizeof(seen)) == sizeof(seen) ? 0 : 1);
	}
	TAP_REQUIRE(getrlimit(RLIMIT_NOFILE, &got) == 0);
	TAP_CHECK_EQ(sys_prlimit(pid, RLIMIT_NOFILE, &want, &old), 0);
	TAP_CHECK_EQ(old.rlim_cur, got.rlim_cur);
	TAP_CHECK_EQ(old.rlim_max, got.rlim_max);
	TAP_CHECK_EQ(sys_prlimit(pid, RLIMIT_NOFILE, NULL, &got), 0);
	TAP_CHECK(got.rlim_cur == want.rlim_cur && got.rlim_max == want.rlim_max);
	TAP_REQUIRE(write(go[1], "x", 1) == 1);
	TAP_CHECK_EQ(read(back[0], &got, sizeof(got)), (long)sizeof(got));
	TAP_CHECK(got.rlim_cur == want.rlim_cur && got.rlim_max == want.rlim_max);
	wait_exited(pid, 0);
	// Our own limit did not move; a reaped child's pid names nobody.
	TAP_CHECK(soft_limit(RLIMIT_NOFILE) != want.rlim_cur);
	gone = fork();
	TAP_REQUIRE(gone >= 0);
	if (gone == 0)
		_exit(0);
	wait_exited(gone, 0);
	TAP_CHECK_EQ(sys_prlimit(gone, RLIMIT_NOFILE, NULL, &got), -ESRCH);
}

// ---- enforcement ----------------------------------------------------------------------------

static void test_nofile(void)
{
	int fd, last = -1, fds[2];

	set_limit(RLIMIT_NOFILE, NOFILE_TEST, NOFILE_TEST);
	while ((fd = open("/dev/null", O_RDONLY)) >= 0)
		last = fd;
	TAP_CHECK_EQ(errno, EMFILE);
	TAP_CHECK_EQ(last, NOFILE_TEST - 1);
	TAP_CHECK_EQ(dup(0), -1);
	TAP_CHECK_EQ(errno, EMFILE);
	TAP_CHECK_EQ(fcntl(0, F_DUPFD, 0), -1);
	TAP_CHECK_EQ(errno, EMFILE);
	TAP_CHECK_EQ(fcntl(0, F_DUPFD, NOFILE_TEST), -1);
	TAP_CHECK_EQ(errno, EINVAL);
	TAP_CHECK_EQ(dup2(0, NOFILE_TEST), -1);
	TAP_CHECK_EQ(errno, EBADF);
	TAP_CHECK_EQ(pipe(fds), -1);
	TAP_CHECK_EQ(errno, EMFILE);
	// One slot free: a pipe needs two and gives the first back when it fails.
	TAP_REQUIRE(close(10) == 0);
	TAP_CHECK_EQ(pipe(fds), -1);
	TAP_CHECK_EQ(errno, EMFILE);
	TAP_CHECK_EQ(dup(0), 10);
	TAP_CHECK_EQ(dup2(0, NOFILE_TEST - 1), NOFILE_TEST - 1);
	// Lowering the limit leaves open descriptors usable.
	set_limit(RLIMIT_NOFILE, 8, NOFILE_TEST);
	TAP_CHECK_EQ(fcntl(NOFILE_TEST - 1, F_GETFD), 0);
	TAP_CHECK_EQ(close(NOFILE_TEST - 1), 0);
	TAP_CHECK_EQ(dup(0), -1);
	TAP_CHECK_EQ(errno, EMFILE);
}

// Recursion through frames of about one KiB each; the result depends on every frame so
// that none can be optimised away.
static __attribute__((noinline)) int recurse_kib(int kib)
{
	volatile char frame[1000];

	frame[0] = (char)kib;
	frame[sizeof(frame) - 1] = 1;
	if (kib <= 1)
		return frame[0];
	return recurse_kib(kib - 1) + frame[0] + frame[sizeof(frame) - 1];
}

static void recurse_512k(void)
{
	set_limit(RLIMIT_STACK, MIB, RLIM_INFINITY);
	if (recurse_kib(512) == 0)
		_exit(5); // never: keeps the call
}

static void recurse_2m(void)
{
	set_limit(RLIMIT_STACK, MIB, RLIM_INFINITY);
	if (recurse_kib(2048) == 0)
		_exit(5);
}

static void test_stack(void)
{
	int status = tap_fork_status(recurse_512k);
	char buf[96];

	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		tap_fail_at(__FILE__, __LINE__, "512 KiB under a 1 MiB limit: child %s",
			    status == -1 ? "not run" : tap_status_str(status, buf, sizeof(buf)));
	TAP_CHECK_KILLED_BY(recurse_2m, SIGSEGV);
}

static void test_address_space(void)
{
	const size_t big = 512 * MIB, small = 16 * MIB;
	char *p;

	// A read-only, unreserved mapping costs no memory: only the limit can refuse it.
	p = mmap(NULL, big, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	TAP_REQUIRE(p != MAP_FAILED);
	TAP_REQUIRE(munmap(p, big) == 0);
	set_limit(RLIMIT_AS, 256 * MIB, RLIM_INFINITY);
	p = mmap(NULL, big, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	TAP_CHECK(p == MAP_FAILED);
	TAP_CHECK_EQ(errno, ENOMEM);
	p = mmap(NULL, small, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TAP_REQUIRE(p != MAP_FAILED);
	// Growing it past the limit fails too, in place or moved.
	TAP_CHECK(mremap(p, small, big, MREMAP_MAYMOVE) == MAP_FAILED);
	TAP_CHECK_EQ(errno, ENOMEM);
	TAP_CHECK_EQ(munmap(p, small), 0);
	// So does the heap.
	long brk0 = tap_syscall1(SYS_brk, 0);
	TAP_CHECK_EQ(tap_syscall1(SYS_brk, brk0 + (long)big), brk0);
}

static void test_data(void)
{
	const size_t len = 32 * MIB;
	char *p;
	long brk0;

	set_limit(RLIMIT_DATA, 16 * MIB, RLIM_INFINITY);
	// Private writable memory is data; read-only memory is not.
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TAP_CHECK(p == MAP_FAILED);
	TAP_CHECK_EQ(errno, ENOMEM);
	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TAP_CHECK(p != MAP_FAILED);
	if (p != MAP_FAILED)
		munmap(p, len);
	// The heap: a little more is fine, past the limit the break stays where it is.
	brk0 = tap_syscall1(SYS_brk, 0);
	TAP_CHECK_EQ(tap_syscall1(SYS_brk, brk0 + 64 * KIB), brk0 + 64 * KIB);
	TAP_CHECK_EQ(tap_syscall1(SYS_brk, brk0 + (long)len), brk0 + 64 * KIB);
}

// A file of our own in the working directory (the runner gives each test program one).
static int fsize_file(void)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "rlimit-fsize-%d.tmp", (int)getpid());
	fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
	TAP_REQUIRE(fd >= 0);
	unlink(name);
	return fd;
}

static volatile sig_atomic_t xfsz_count;

static void on_xfsz(int sig)
{
	xfsz_count++;
}

static void test_fsize(void)
{
	char buf[600];
	int fd = fsize_file(), null = open("/dev/null", O_WRONLY);
	struct stat st;

	memset(buf, 'f', sizeof(buf));
	TAP_REQUIRE(null >= 0);
	TAP_REQUIRE(signal(SIGXFSZ, on_xfsz) != SIG_ERR);
	set_limit(RLIMIT_FSIZE, FSIZE_TEST, RLIM_INFINITY);
	TAP_CHECK_EQ(write(fd, buf, sizeof(buf)), sizeof(buf));
	// The second write is cut at the limit; no signal for that.
	TAP_CHECK_EQ(write(fd, buf, sizeof(buf)), FSIZE_TEST - sizeof(buf));
	TAP_CHECK_EQ(xfsz_count, 0);
	TAP_CHECK_EQ(write(fd, buf, 1), -1);
	TAP_CHECK_EQ(errno, EFBIG);
	TAP_CHECK_EQ(xfsz_count, 1);
	TAP_CHECK_EQ(pwrite(fd, buf, 1, 5000), -1);
	TAP_CHECK_EQ(errno, EFBIG);
	TAP_CHECK_EQ(ftruncate(fd, 5000), -1);
	TAP_CHECK_EQ(errno, EFBIG);
	TAP_CHECK_EQ(xfsz_count, 3);
	TAP_CHECK_EQ(fstat(fd, &st), 0);
	TAP_CHECK_EQ(st.st_size, FSIZE_TEST);
	// Shrinking is always allowed; other kinds of file have no size to limit.
	TAP_CHECK_EQ(ftruncate(fd, 10), 0);
	TAP_CHECK_EQ(write(null, buf, sizeof(buf)), sizeof(buf));
	TAP_CHECK_EQ(write(null, buf, sizeof(buf)), sizeof(buf));
	// Ignored, the signal leaves just the error.
	TAP_REQUIRE(signal(SIGXFSZ, SIG_IGN) != SIG_ERR);
	TAP_CHECK_EQ(pwrite(fd, buf, 1, FSIZE_TEST), -1);
	TAP_CHECK_EQ(errno, EFBIG);
	close(fd);
	close(null);
}

static void write_past_fsize(void)
{
	char buf[FSIZE_TEST + 1] = { 0 };
	int fd = fsize_file();

	set_limit(RLIMIT_FSIZE, FSIZE_TEST, RLIM_INFINITY);
	if (write(fd, buf, sizeof(buf)) != FSIZE_TEST)
		_exit(EXIT_CHECK_FAILED);
	write(fd, buf, 1); // SIGXFSZ's default action ends us here
	_exit(EXIT_NOT_KILLED);
}

static void test_fsize_signal(void)
{
	TAP_CHECK_KILLED_BY(write_past_fsize, SIGXFSZ);
}

static int xcpu_pipe = -1;

// Report the soft limit as it is when SIGXCPU arrives (Linux has moved it up a second).
static void on_xcpu(int sig)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_CPU, &rl) == 0)
		write(xcpu_pipe, &rl.rlim_cur, sizeof(rl.rlim_cur));
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// Spin on the CPU with a soft limit of one second and a hard limit of two; give up (before
// tap_fork_status's alarm) if nothing stops us.
static void spin_past_cpu_limit(void)
{
	volatile unsigned long n = 0;
	long long end = now_ns() + (TAP_TIMEOUT / 2 - 1) * 1000000000LL;

	TAP_REQUIRE(signal(SIGXCPU, on_xcpu) != SIG_ERR);
	set_limit(RLIMIT_CPU, 1, 2);
	while (now_ns() < end)
		for (int i = 0; i < 100000; i++)
			n++;
	_exit(EXIT_NOT_KILLED);
}

static void test_cpu(void)
{
	int fds[2];
	rlim_t seen[4];
	ssize_t n;

	TAP_REQUIRE(pipe(fds) == 0);
	xcpu_pipe = fds[1];
	TAP_CHECK_KILLED_BY(spin_past_cpu_limit, SIGKILL);
	close(fds[1]);
	n = read(fds[0], seen, sizeof(seen));
	// Exactly one SIGXCPU: at one second; at two the hard limit kills.
	TAP_CHECK_EQ(n, sizeof(rlim_t));
	if (n >= (ssize_t)sizeof(rlim_t))
		TAP_CHECK_EQ(seen[0], 2);
}

static const struct tap_test tests[] = {
	{ "getrlimit: Linux's defaults, soft never above hard, bad resource EINVAL",
	  test_defaults },
	{ "setrlimit/getrlimit/prlimit64 round trip; root raises a hard limit", test_round_trip },
	{ "soft above hard is EINVAL; RLIMIT_NOFILE above nr_open is EPERM", test_bad_values },
	{ "limits are inherited by fork", test_fork_inherits },
	{ "limits are kept across exec", test_exec_keeps },
	{ "prlimit64 reads and sets another process's limit; ESRCH for none",
	  test_prlimit_other },
	{ "RLIMIT_NOFILE: open, dup, F_DUPFD, pipe EMFILE; dup2 past it EBADF", test_nofile },
	{ "RLIMIT_STACK 1 MiB: 512 KiB of recursion runs, 2 MiB is SIGSEGV", test_stack },
	{ "RLIMIT_AS: mmap, mremap and brk past it are ENOMEM", test_address_space },
	{ "RLIMIT_DATA: private writable mmap and brk past it fail, read-only does not",
	  test_data },
	{ "RLIMIT_FSIZE: write cut at the limit, then SIGXFSZ and EFBIG", test_fsize },
	{ "RLIMIT_FSIZE: SIGXFSZ's default action ends the writer", test_fsize_signal },
	{ "RLIMIT_CPU: SIGXCPU at the soft limit, SIGKILL at the hard one", test_cpu },
};

int main(int argc, char **argv)
{
	const char *path = (const char *)getauxval(AT_EXECFN);

	if (argc == 2 && strcmp(argv[1], "--check-limits") == 0)
		return check_inherited();
	if (!path || !*path)
		path = argv[0];
	if (path[0] == '/') {
		snprintf(self, sizeof(self), "%s", path);
	} else {
		char cwd[256];

		if (!getcwd(cwd, sizeof(cwd)))
			return 2;
		snprintf(self, sizeof(self), "%s/%s", cwd, path);
	}
	return tap_run(tests, TAP_COUNT(tests));
}
