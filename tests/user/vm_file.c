// File mappings: MAP_SHARED writes reach the file (read() sees them, so do other mappings
// and a forked child), MAP_PRIVATE writes stay private, a page wholly beyond the end of the
// file raises SIGBUS, the permission rules of shared writable mappings, a mapping that
// outlives its descriptor and name, and read()/write() between a file and a mapping of
// the same file.
//
// Each test works on its own file in the current directory (the runner gives every host
// suite a directory of its own; in the guest it is /).

#include "tap.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define PAGE 4096UL

static char path[64];

// A new file of size bytes filled with the byte pattern(offset), open read-write.
static unsigned char pattern(size_t off)
{
	return (unsigned char)(off * 7 + off / PAGE);
}

static int file_create(size_t size)
{
	unsigned char buf[PAGE];
	int fd;

	snprintf(path, sizeof(path), "vm_file.%d.tmp", (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	TAP_REQUIRE(fd >= 0);
	for (size_t off = 0; off < size; off += PAGE) {
		size_t n = size - off < PAGE ? size - off : PAGE;

		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(off + i);
		TAP_REQUIRE(pwrite(fd, buf, n, (off_t)off) == (ssize_t)n);
	}
	return fd;
}

static void file_remove(int fd)
{
	close(fd);
	unlink(path);
}

static char *map_file(size_t len, int prot, int flags, int fd, off_t off)
{
	char *p = mmap(NULL, len, prot, flags, fd, off);

	return p == MAP_FAILED ? NULL : p;
}

// --- catching a fault ---------------------------------------------------------------------

static sigjmp_buf fault_jump;
static volatile int fault_sig, fault_code;

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	fault_sig = sig;
	fault_code = si->si_code;
	siglongjmp(fault_jump, 1);
}

// Read or write the byte at p; the signal that raised (0 if none), si_code in fault_code.
static int probe(volatile char *p, bool write)
{
	struct sigaction sa, old_segv, old_bus;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fault_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	fault_sig = 0;
	if (!sigsetjmp(fault_jump, 1)) {
		if (write)
			*p = 1;
		else
			(void)*p;
	}
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	return fault_sig;
}

// --- tests -----------------------------------------------------------------------------------

static void test_private_vs_shared(void)
{
	const size_t len = 4 * PAGE;
	int fd = file_create(len);
	char *shared = map_file(len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *other = map_file(len, PROT_READ, MAP_SHARED, fd, 0);
	char *private_ = map_file(len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	char buf[16];

	TAP_REQUIRE(shared && other && private_);
	for (size_t off = 0; off < len; off += 1001)
		if ((unsigned char)shared[off] != pattern(off) ||
		    (unsigned char)private_[off] != pattern(off)) {
			tap_fail_at(__FILE__, __LINE__, "mapped bytes differ from the file at %zu", off);
			break;
		}
	// A store through the shared mapping is in the file and in the other mapping.
	memcpy(shared + PAGE + 10, "shared!", 7);
	TAP_CHECK(pread(fd, buf, 7, PAGE + 10) == 7 && memcmp(buf, "shared!", 7) == 0);
	TAP_CHECK(memcmp(other + PAGE + 10, "shared!", 7) == 0);
	// A write() shows in the shared mappings.
	TAP_REQUIRE(pwrite(fd, "written", 7, 2 * PAGE + 20) == 7);
	TAP_CHECK(memcmp(shared + 2 * PAGE + 20, "written", 7) == 0);
	// A store through the private mapping stays there.
	memcpy(private_ + 3 * PAGE + 30, "private", 7);
	TAP_CHECK(pread(fd, buf, 7, 3 * PAGE + 30) == 7 && memcmp(buf, "private", 7) != 0);
	TAP_CHECK(memcmp(shared + 3 * PAGE + 30, "private", 7) != 0);
	TAP_CHECK(memcmp(private_ + 3 * PAGE + 30, "private", 7) == 0);
	// The private copy of that page no longer follows the file.
	TAP_REQUIRE(pwrite(fd, "later..", 7, 3 * PAGE + 40) == 7);
	TAP_CHECK(memcmp(private_ + 3 * PAGE + 40, "later..", 7) != 0);
	TAP_CHECK_EQ(munmap(shared, len) + munmap(other, len) + munmap(private_, len), 0);
	file_remove(fd);
}

static void test_shared_with_child(void)
{
	int fd = file_create(PAGE);
	char *p = map_file(PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char buf[16];
	pid_t pid;

	TAP_REQUIRE(p != NULL);
	pid = fork();
	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		memcpy(p + 100, "child", 5);
		_exit(0);
	}
	TAP_CHECK_EQ(tap_wait(pid), 0);
	TAP_CHECK(memcmp(p + 100, "child", 5) == 0);
	TAP_CHECK(pread(fd, buf, 5, 100) == 5 && memcmp(buf, "child", 5) == 0);
	munmap(p, PAGE);
	file_remove(fd);
}

static void test_sigbus_past_eof(void)
{
	const size_t size = PAGE + 100;
	int fd = file_create(size);
	char *shared = map_file(3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *private_ = map_file(3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);

	TAP_REQUIRE(shared && private_);
	// The page holding the end of the file is mapped; past the end it reads as zero.
	TAP_CHECK_EQ((unsigned char)shared[PAGE + 99], pattern(PAGE + 99));
	TAP_CHECK_EQ(shared[PAGE + 100] + shared[2 * PAGE - 1], 0);
	TAP_CHECK_EQ(private_[PAGE + 100], 0);
	// The page wholly beyond it raises SIGBUS, for reads and writes, shared or private.
	TAP_CHECK_EQ(probe(shared + 2 * PAGE, false), SIGBUS);
	TAP_CHECK_EQ(fault_code, BUS_ADRERR);
	TAP_CHECK_EQ(probe(shared + 2 * PAGE + 5, true), SIGBUS);
	TAP_CHECK_EQ(probe(private_ + 2 * PAGE, false), SIGBUS);
	TAP_CHECK_EQ(probe(private_ + 2 * PAGE, true), SIGBUS);
	// Once the file grows, the page is there.
	TAP_REQUIRE(ftruncate(fd, 3 * PAGE) == 0);
	TAP_CHECK_EQ(probe(shared + 2 * PAGE + 5, true), 0);
	TAP_CHECK_EQ(shared[2 * PAGE + 6], 0);
	munmap(shared, 3 * PAGE);
	munmap(private_, 3 * PAGE);
	file_remove(fd);
}

static void test_shared_needs_write_access(void)
{
	int fd = file_create(PAGE), ro = open(path, O_RDONLY);
	char *p;

	TAP_REQUIRE(ro >= 0);
	errno = 0;
	TAP_CHECK(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0) == MAP_FAILED);
	TAP_CHECK_EQ(errno, EACCES);
	p = map_file(PAGE, PROT_READ, MAP_SHARED, ro, 0);
	TAP_CHECK(p != NULL);
	if (p) {
		errno = 0;
		TAP_CHECK_EQ(mprotect(p, PAGE, PROT_READ | PROT_WRITE), -1);
		TAP_CHECK_EQ(errno, EACCES);
		TAP_CHECK_EQ(probe(p, true), SIGSEGV);
		TAP_CHECK_EQ(fault_code, SEGV_ACCERR);
		munmap(p, PAGE);
	}
	// A private writable mapping of a read-only descriptor is fine: writes stay private.
	p = map_file(PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
	TAP_CHECK(p != NULL);
	if (p) {
		p[0] = 'x';
		munmap(p, PAGE);
	}
	errno = 0;
	TAP_CHECK(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, -1, 0) == MAP_FAILED);
	TAP_CHECK_EQ(errno, EBADF);
	close(ro);
	file_remove(fd);
}

static void test_outlives_fd(void)
{
	int fd = file_create(2 * PAGE);
	char *p = map_file(2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	TAP_REQUIRE(p != NULL);
	file_remove(fd);
	// Descriptor closed and name gone: the mapping keeps the file.
	TAP_CHECK_EQ((unsigned char)p[PAGE + 3], pattern(PAGE + 3));
	p[PAGE + 4] = 'z';
	TAP_CHECK_EQ(p[PAGE + 4], 'z');
	TAP_CHECK_EQ(munmap(p, 2 * PAGE), 0);
}

// read() into, and write() from, a mapping of the same file: the copy faults on the
// mapping while the read or write is in progress on the file.
static void test_read_into_own_mapping(void)
{
	int fd = file_create(4 * PAGE);
	char *shared = map_file(4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *private_ = map_file(4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);

	TAP_REQUIRE(shared && private_);
	// Page 0 of the file into page 2 of a shared mapping that has not been touched.
	TAP_CHECK_EQ(pread(fd, shared + 2 * PAGE, PAGE, 0), (ssize_t)PAGE);
	TAP_CHECK_EQ((unsigned char)shared[2 * PAGE + 5], pattern(5));
	// The file itself changed.
	TAP_CHECK_EQ((unsigned char)private_[2 * PAGE + 5], pattern(5));
	// Page 3 of a private mapping, untouched, out to page 1 of the file.
	TAP_CHECK_EQ(pwrite(fd, private_ + 3 * PAGE, PAGE, PAGE), (ssize_t)PAGE);
	TAP_CHECK_EQ((unsigned char)shared[PAGE + 7], pattern(3 * PAGE + 7));
	munmap(shared, 4 * PAGE);
	munmap(private_, 4 * PAGE);
	file_remove(fd);
}

static void test_msync(void)
{
	int fd = file_create(2 * PAGE);
	char *p = map_file(2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char buf[4];

	TAP_REQUIRE(p != NULL);
	memcpy(p + 50, "sync", 4);
	TAP_CHECK_EQ(msync(p, 2 * PAGE, MS_SYNC), 0);
	TAP_CHECK_EQ(msync(p, PAGE, MS_ASYNC | MS_INVALIDATE), 0);
	TAP_CHECK(pread(fd, buf, 4, 50) == 4 && memcmp(buf, "sync", 4) == 0);
	errno = 0;
	TAP_CHECK_EQ(msync(p + 1, PAGE, MS_SYNC), -1);
	TAP_CHECK_EQ(errno, EINVAL);
	errno = 0;
	TAP_CHECK_EQ(msync(p, PAGE, MS_SYNC | MS_ASYNC), -1);
	TAP_CHECK_EQ(errno, EINVAL);
	TAP_CHECK_EQ(munmap(p, 2 * PAGE), 0);
	errno = 0;
	TAP_CHECK_EQ(msync(p, PAGE, MS_SYNC), -1);
	TAP_CHECK_EQ(errno, ENOMEM);
	file_remove(fd);
}

static const struct tap_test tests[] = {
	{ "MAP_SHARED writes reach read() and other mappings; MAP_PRIVATE writes do not",
	  test_private_vs_shared },
	{ "a forked child's write through a shared file mapping reaches the file",
	  test_shared_with_child },
	{ "a page wholly beyond the end of the file raises SIGBUS (BUS_ADRERR)",
	  test_sigbus_past_eof },
	{ "shared writable mappings need a descriptor open for writing (EACCES)",
	  test_shared_needs_write_access },
	{ "a file mapping outlives its descriptor and its name", test_outlives_fd },
	{ "read() into and write() from a mapping of the same file",
	  test_read_into_own_mapping },
	{ "msync on a shared file mapping", test_msync },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
