// Running out of memory: a child that allocates and touches memory without end is killed
// (SIGKILL from the OOM killer in Trapeze), while its parent — which holds memory of its
// own — survives with that memory intact, the memory comes back, and the system can
// allocate again.
//
// On Linux the test must not exhaust the host: the child runs under RLIMIT_AS, so its
// mmap fails with ENOMEM instead, which it reports with its exit status.

#include "tap.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

#define PAGE 4096UL
#define MIB (1UL << 20)
#define CHUNK (8 * MIB)
#define HOST_AS_LIMIT (256 * MIB)
#define EXIT_NEVER_KILLED 2 // allocated twice the RAM and lived
#define EXIT_MMAP_FAILED 3  // mmap said ENOMEM (RLIMIT_AS on Linux)

static bool on_trapeze(void)
{
	struct utsname u;

	return uname(&u) == 0 && strcmp(u.sysname, "Trapeze") == 0;
}

static long sys_free(void)
{
	struct sysinfo si;

	if (sysinfo(&si) != 0)
		return -1;
	return (long)(si.freeram * si.mem_unit);
}

static void hog(void)
{
	struct sysinfo si;
	size_t total = 0, limit;

	if (sysinfo(&si) != 0)
		_exit(1);
	limit = 2 * (size_t)si.totalram * si.mem_unit;
	if (!on_trapeze()) {
		struct rlimit rl = { HOST_AS_LIMIT, HOST_AS_LIMIT };

		if (setrlimit(RLIMIT_AS, &rl) != 0)
			_exit(1);
	}
	while (total < limit) {
		char *p = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			       0);

		if (p == MAP_FAILED)
			_exit(errno == ENOMEM ? EXIT_MMAP_FAILED : 1);
		for (size_t off = 0; off < CHUNK; off += PAGE)
			p[off] = 1;
		total += CHUNK;
	}
	_exit(EXIT_NEVER_KILLED);
}

// Touch len bytes in a fresh mapping and give it back: can the system still allocate?
static void allocate_and_free(void)
{
	const size_t len = 64 * MIB;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(1);
	memset(p, 3, len);
	_exit(p[len - 1] == 3 && munmap(p, len) == 0 ? 0 : 1);
}

static void test_oom_kills_the_hog(void)
{
	const size_t mine = 32 * MIB;
	char *p = mmap(NULL, mine, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bool guest = on_trapeze();
	long free_before, free_after;
	char buf[96];
	int status;

	TAP_REQUIRE(p != MAP_FAILED);
	for (size_t off = 0; off < mine; off += PAGE)
		p[off] = (char)(off / PAGE);
	free_before = sys_free();
	status = tap_fork_status(hog);
	free_after = sys_free();
	tap_diag("the hog %s", tap_status_str(status, buf, sizeof(buf)));
	if (guest)
		TAP_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	else
		TAP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == EXIT_MMAP_FAILED);
	// We survived, and so did our memory.
	for (size_t off = 0; off < mine; off += PAGE)
		if (p[off] != (char)(off / PAGE)) {
			tap_fail_at(__FILE__, __LINE__, "our page at %#zx changed", off);
			break;
		}
	// The hog's memory came back (the guest runs nothing else that could take it).
	if (guest && free_before - free_after > (long)(2 * MIB))
		tap_fail_at(__FILE__, __LINE__, "free memory %ld KiB before, %ld KiB after",
			    free_before >> 10, free_after >> 10);
	// The system still works: another process can allocate and touch 64 MiB.
	TAP_CHECK_EQ(tap_fork_status(allocate_and_free), 0);
	TAP_CHECK_EQ(munmap(p, mine), 0);
}

static const struct tap_test tests[] = {
	{ "a child that allocates until memory runs out is killed; parent and memory survive",
	  test_oom_kills_the_hog },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
