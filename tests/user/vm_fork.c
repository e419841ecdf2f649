// Memory across fork: copy-on-write private memory (parent and child independent in both
// directions, through a chain of forks), no copying of a large process's memory until it is
// written, and MAP_SHARED anonymous memory that parent and children all see.
//
// The "does not double" check measures in Trapeze the system's used memory (sysinfo:
// nothing else runs in the guest). On Linux it reads the parent's /proc/self/smaps_rollup:
// pages still shared with the child count as Shared_*, pages the child has copied away
// leave the parent's as Private_* again.

#include "tap.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

#define PAGE 4096UL
#define MIB (1UL << 20)

static bool on_trapeze(void)
{
	struct utsname u;

	return uname(&u) == 0 && strcmp(u.sysname, "Trapeze") == 0;
}

static long sys_used(void)
{
	struct sysinfo si;

	if (sysinfo(&si) != 0)
		return -1;
	return (long)((si.totalram - si.freeram) * si.mem_unit);
}

// Linux: the kB of Shared_Clean + Shared_Dirty and Private_Clean + Private_Dirty of this
// process, in bytes. False if smaps_rollup cannot be read.
static bool smaps_totals(long *shared, long *private_)
{
	char buf[4096], *line;
	ssize_t n;
	int fd = open("/proc/self/smaps_rollup", O_RDONLY);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	*shared = *private_ = 0;
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		long kb;

		if (sscanf(line, "Shared_%*[a-zA-Z]: %ld kB", &kb) == 1)
			*shared += kb << 10;
		else if (sscanf(line, "Private_%*[a-zA-Z]: %ld kB", &kb) == 1)
			*private_ += kb << 10;
	}
	return true;
}

static char *map_anon(size_t len, int flags)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

// One byte over a pipe, to step parent and child through a test together.
static void send_byte(int fd, char c)
{
	TAP_REQUIRE(write(fd, &c, 1) == 1);
}

static char recv_byte(int fd)
{
	char c = 0;

	TAP_REQUIRE(read(fd, &c, 1) == 1);
	return c;
}

// --- copy-on-write ---------------------------------------------------------------------------

static int cow_global = 100;

static void test_cow_independent(void)
{
	int *heap = malloc(64 * sizeof(int));
	char *map = map_anon(8 * PAGE, MAP_PRIVATE);
	volatile int stack_var = 7;
	int to_child[2], to_parent[2], status;
	pid_t pid;

	TAP_REQUIRE(heap && map && pipe(to_child) == 0 && pipe(to_parent) == 0);
	for (int i = 0; i < 64; i++)
		heap[i] = i;
	memset(map, 'p', 8 * PAGE);
	pid = fork();
	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		// The child changes everything; the parent must not see it.
		cow_global = 200;
		heap[10] = -1;
		map[3 * PAGE] = 'c';
		stack_var = 8;
		send_byte(to_parent[1], 'w');
		// Then the parent changes its copies; the child must not see that.
		recv_byte(to_child[0]);
		_exit(cow_global == 200 && heap[10] == -1 && heap[11] == 11 &&
				      map[3 * PAGE] == 'c' && map[4 * PAGE] == 'p' &&
				      stack_var == 8 ? 0 : 1);
	}
	TAP_CHECK_EQ(recv_byte(to_parent[0]), 'w');
	TAP_CHECK_EQ(cow_global, 100);
	TAP_CHECK_EQ(heap[10], 10);
	TAP_CHECK_EQ(map[3 * PAGE], 'p');
	TAP_CHECK_EQ(stack_var, 7);
	cow_global = 300;
	heap[11] = -2;
	map[4 * PAGE] = 'P';
	send_byte(to_child[1], 'g');
	status = tap_wait(pid);
	TAP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	TAP_CHECK_EQ(cow_global, 300);
	TAP_CHECK_EQ(map[3 * PAGE], 'p');
}

static void test_cow_chain(void)
{
	char *p = map_anon(PAGE, MAP_PRIVATE);
	int status;
	pid_t pid;

	TAP_REQUIRE(p != NULL);
	p[0] = 1;
	pid = fork();
	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		pid_t grandchild = fork();

		if (grandchild < 0)
			_exit(2);
		if (grandchild == 0) {
			p[0] = 3;
			_exit(p[0] == 3 ? 0 : 1);
		}
		p[0] = 2;
		if (tap_wait(grandchild) != 0)
			_exit(3);
		_exit(p[0] == 2 ? 0 : 1);
	}
	status = tap_wait(pid);
	TAP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	TAP_CHECK_EQ(p[0], 1);
	p[0] = 4; // the last sharer writes: its page is its own again
	TAP_CHECK_EQ(p[0], 4);
}

// mprotect must not make a page shared by fork writable: the child's write after
// PROT_READ -> PROT_READ|PROT_WRITE still lands in a copy of its own.
static void test_cow_after_mprotect(void)
{
	char *p = map_anon(2 * PAGE, MAP_PRIVATE);
	int status;
	pid_t pid;

	TAP_REQUIRE(p != NULL);
	memset(p, 'p', 2 * PAGE);
	pid = fork();
	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		if (mprotect(p, 2 * PAGE, PROT_READ) || mprotect(p, 2 * PAGE, PROT_READ | PROT_WRITE))
			_exit(2);
		p[10] = 'c';
		p[PAGE + 10] = 'c';
		_exit(p[10] == 'c' && p[11] == 'p' ? 0 : 1);
	}
	status = tap_wait(pid);
	TAP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	TAP_CHECK_EQ(p[10], 'p');
	TAP_CHECK_EQ(p[PAGE + 10], 'p');
}

// How much memory use may stray from the ideal in the checks below.
#define FORK_LEN (64 * MIB)
#define FORK_MARGIN (FORK_LEN / 8)

// After fork, before the child writes: the 64 MiB were not copied. Guest: the system's
// used memory barely grew. Linux: the parent's pages are shared with the child.
static void check_not_copied(bool guest, long used0)
{
	long grew, shared, private_;

	if (guest) {
		grew = sys_used() - used0;
		tap_diag("memory used by the fork: %ld KiB", grew >> 10);
		if (grew > (long)FORK_MARGIN)
			tap_fail_at(__FILE__, __LINE__, "fork used %ld KiB", grew >> 10);
	} else {
		TAP_REQUIRE(smaps_totals(&shared, &private_));
		if (shared < (long)(FORK_LEN - FORK_MARGIN))
			tap_fail_at(__FILE__, __LINE__, "after fork only %ld KiB shared", shared >> 10);
	}
}

// After the child wrote every page: now there are two copies. Guest: used memory grew
// by the mapping. Linux: the parent's pages are its own (private) again.
static void check_copied(bool guest, long used0)
{
	long grew, shared, private_;

	if (guest) {
		grew = sys_used() - used0;
		if (grew < (long)(FORK_LEN - FORK_MARGIN))
			tap_fail_at(__FILE__, __LINE__, "after the child wrote, only %ld KiB more used",
				    grew >> 10);
	} else {
		TAP_REQUIRE(smaps_totals(&shared, &private_));
		if (private_ < (long)(FORK_LEN - FORK_MARGIN))
			tap_fail_at(__FILE__, __LINE__, "after the child wrote, %ld KiB private",
				    private_ >> 10);
	}
}

// The child of test_fork_no_double: tell the parent it runs, wait, write every page,
// tell the parent, wait, check.
static void fork_writer(char *p, int to_child, int to_parent)
{
	send_byte(to_parent, 'r');
	recv_byte(to_child);
	for (size_t off = 0; off < FORK_LEN; off += PAGE)
		p[off] = 2;
	send_byte(to_parent, 'd');
	recv_byte(to_child);
	_exit(p[0] == 2 && p[FORK_LEN - PAGE] == 2 && p[FORK_LEN - 1] == 1 ? 0 : 1);
}

// Fork a process with 64 MiB touched: the fork copies page tables, not the memory; memory
// use grows by 64 MiB only once the child writes every page.
static void test_fork_no_double(void)
{
	char *p = map_anon(FORK_LEN, MAP_PRIVATE);
	int to_child[2], to_parent[2], status;
	bool guest = on_trapeze();
	long used0, shared, private_;
	pid_t pid;

	TAP_REQUIRE(p != NULL && pipe(to_child) == 0 && pipe(to_parent) == 0);
	if (!guest && !smaps_totals(&shared, &private_))
		tap_skip("no /proc/self/smaps_rollup to see shared pages");
	memset(p, 1, FORK_LEN);
	used0 = sys_used();
	pid = fork();
	TAP_REQUIRE(pid >= 0);
	if (pid == 0)
		fork_writer(p, to_child[0], to_parent[1]);
	recv_byte(to_parent[0]);
	check_not_copied(guest, used0);
	send_byte(to_child[1], 'w');
	recv_byte(to_parent[0]);
	check_copied(guest, used0);
	for (size_t off = 0; off < FORK_LEN; off += 4 * PAGE)
		if (p[off] != 1) {
			tap_fail_at(__FILE__, __LINE__, "the child's write reached the parent at %#zx",
				    off);
			break;
		}
	send_byte(to_child[1], 'x');
	status = tap_wait(pid);
	TAP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (guest)
		TAP_CHECK(sys_used() - used0 < (long)FORK_MARGIN);
}

// --- MAP_SHARED anonymous ----------------------------------------------------------------------

static void test_shared_anon(void)
{
	char *shared = map_anon(4 * PAGE, MAP_SHARED);
	char *private_ = map_anon(PAGE, MAP_PRIVATE);
	int to_child[2], to_parent[2], status;
	pid_t pid;

	TAP_REQUIRE(shared && private_ && pipe(to_child) == 0 && pipe(to_parent) == 0);
	TAP_CHECK_EQ(shared[0] + shared[4 * PAGE - 1], 0);
	strcpy(shared, "from parent");
	private_[0] = 'p';
	pid = fork();
	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		pid_t grandchild;
		int ok = strcmp(shared, "from parent") == 0;

		strcpy(shared + PAGE, "from child");
		private_[0] = 'c';
		send_byte(to_parent[1], 'w');
		recv_byte(to_child[0]);
		ok = ok && strcmp(shared + 2 * PAGE, "parent again") == 0;
		grandchild = fork();
		if (grandchild == 0) {
			strcpy(shared + 3 * PAGE, "from grandchild");
			_exit(0);
		}
		ok = ok && grandchild > 0 && tap_wait(grandchild) == 0;
		_exit(ok ? 0 : 1);
	}
	recv_byte(to_parent[0]);
	TAP_CHECK_STR(shared + PAGE, "from child");
	TAP_CHECK_EQ(private_[0], 'p');
	strcpy(shared + 2 * PAGE, "parent again");
	send_byte(to_child[1], 'g');
	status = tap_wait(pid);
	TAP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	// What the children wrote outlives them.
	TAP_CHECK_STR(shared + 3 * PAGE, "from grandchild");
	TAP_CHECK_STR(shared + PAGE, "from child");
	TAP_CHECK_EQ(munmap(shared, 4 * PAGE), 0);
}

static const struct tap_test tests[] = {
	{ "after fork, parent and child memory are independent both ways (copy-on-write)",
	  test_cow_independent },
	{ "a chain of forks: each generation writes its own copy", test_cow_chain },
	{ "mprotect after fork keeps shared pages copy-on-write", test_cow_after_mprotect },
	{ "fork of a 64 MiB process does not double memory until the child writes",
	  test_fork_no_double },
	{ "MAP_SHARED anonymous memory is shared by parent, child and grandchild",
	  test_shared_anon },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
