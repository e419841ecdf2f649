// What a static Linux program expects from the kernel when it starts and in its first
// calls: argc, argv, envp and the auxiliary vector laid out on the stack as the SysV ABI
// says; uname, clocks, getrandom; the heap through brk; mmap, munmap, mprotect; writev,
// readv, lseek, fstat; the FS base (the thread pointer) through arch_prctl.

#include "tap.h"

#include <elf.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>

#define PAGE_SIZE 4096
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define MAX_AUXV 64		// more entries than any kernel passes: the walk has ended wrongly
#define NSEC_PER_SEC 1000000000L
#define JAN_1_2020 1577836800L	// seconds since the epoch

extern char **environ;
extern const Elf64_Ehdr __ehdr_start;	// the ELF header, mapped with the first segment (ld)

static int main_argc;
static char **main_argv;
static char **main_envp;

static void test_argv(void)
{
	TAP_CHECK(main_argc >= 1);
	TAP_CHECK(main_argv[0] != NULL && main_argv[0][0] != '\0');
	for (int i = 0; i < main_argc; i++)
		TAP_CHECK(main_argv[i] != NULL);
	TAP_CHECK(main_argv[main_argc] == NULL);
}

static void test_envp(void)
{
	char **p = main_envp;

	TAP_CHECK(main_envp == main_argv + main_argc + 1);	// right after argv's NULL
	TAP_CHECK(environ == main_envp);
	while (*p)
		TAP_CHECK(strchr(*p++, '=') != NULL);
}

// The auxiliary vector: (type, value) pairs right after envp's NULL, ending with AT_NULL.
static Elf64_auxv_t *auxv_find_start(void)
{
	char **p = main_envp;

	while (*p)
		p++;
	return (Elf64_auxv_t *)(p + 1);
}

static void test_auxv_layout(void)
{
	Elf64_auxv_t *aux = auxv_find_start();
	int n;

	for (n = 0; n < MAX_AUXV && aux[n].a_type != AT_NULL; n++) {
		unsigned long type = aux[n].a_type;

		// getauxval() returns the first entry of a type: skip repeated ones.
		for (int i = 0; i < n; i++)
			if (aux[i].a_type == type)
				goto next;
		if (getauxval(type) != aux[n].a_un.a_val)
			tap_fail_at(__FILE__, __LINE__, "auxv[%d] type %lu: %#lx, getauxval %#lx",
				    n, type, (unsigned long)aux[n].a_un.a_val, getauxval(type));
next:;
	}
	TAP_CHECK(n < MAX_AUXV);
	TAP_CHECK(n >= 8);	// at least the entries the tests below use
}

static void test_auxv_pagesz(void)
{
	TAP_CHECK_EQ(getauxval(AT_PAGESZ), PAGE_SIZE);
	TAP_CHECK_EQ(sysconf(_SC_PAGESIZE), PAGE_SIZE);
}

// This is a non-PIE static executable: its ELF header sits at the start of the first
// segment, so the kernel's AT_PHDR must be exactly that address plus e_phoff.
static void test_auxv_phdr(void)
{
	const Elf64_Phdr *phdr = (const Elf64_Phdr *)getauxval(AT_PHDR);
	unsigned long phnum = getauxval(AT_PHNUM);
	uintptr_t main_addr = (uintptr_t)test_auxv_phdr;
	int text_found = 0;

	TAP_REQUIRE(phdr != NULL && phnum != 0);
	TAP_CHECK_EQ(phdr, (const char *)&__ehdr_start + __ehdr_start.e_phoff);
	TAP_CHECK_EQ(phnum, __ehdr_start.e_phnum);
	TAP_CHECK_EQ(getauxval(AT_PHENT), sizeof(Elf64_Phdr));
	for (unsigned long i = 0; i < phnum; i++) {
		if (phdr[i].p_type == PT_LOAD && (phdr[i].p_flags & PF_X) &&
		    main_addr >= phdr[i].p_vaddr && main_addr < phdr[i].p_vaddr + phdr[i].p_memsz)
			text_found = 1;
	}
	TAP_CHECK(text_found);
}

static void test_auxv_entry(void)
{
	extern char _start[];

	TAP_CHECK_EQ(getauxval(AT_ENTRY), (uintptr_t)_start);
	TAP_CHECK_EQ(getauxval(AT_ENTRY), __ehdr_start.e_entry);
}

static void test_auxv_random(void)
{
	const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
	unsigned char copy[16];
	int nonzero = 0;

	TAP_REQUIRE(rnd != NULL);
	memcpy(copy, rnd, sizeof(copy));
	for (size_t i = 0; i < sizeof(copy); i++)
		nonzero += copy[i] != 0;
	TAP_CHECK(nonzero > 0);		// all zero has probability 2^-128
	TAP_CHECK(memcmp(copy, rnd, sizeof(copy)) == 0);
}

static void test_auxv_execfn(void)
{
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	struct stat st;

	TAP_REQUIRE(execfn != NULL);
	TAP_CHECK(strlen(execfn) > 0 && strlen(execfn) < PAGE_SIZE);
	TAP_CHECK_EQ(stat(execfn, &st), 0);	// it names the file that was executed
	TAP_CHECK(S_ISREG(st.st_mode));
}

static void test_auxv_ids(void)
{
	TAP_CHECK_EQ(getauxval(AT_UID), getuid());
	TAP_CHECK_EQ(getauxval(AT_EUID), geteuid());
	TAP_CHECK_EQ(getauxval(AT_GID), getgid());
	TAP_CHECK_EQ(getauxval(AT_EGID), getegid());
	TAP_CHECK_EQ(getauxval(AT_SECURE), 0);
}

static void test_uname(void)
{
	struct utsname uts;

	memset(&uts, 0, sizeof(uts));
	TAP_REQUIRE(uname(&uts) == 0);
	TAP_CHECK(uts.sysname[0] != '\0');
	TAP_CHECK(uts.release[0] != '\0');
	TAP_CHECK_STR(uts.machine, "x86_64");
	TAP_CHECK(memchr(uts.sysname, '\0', sizeof(uts.sysname)) != NULL);
	TAP_CHECK(memchr(uts.nodename, '\0', sizeof(uts.nodename)) != NULL);
}

static long ts_to_ns(const struct timespec *ts)
{
	return ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
}

static void test_clock_monotonic(void)
{
	struct timespec first, prev, now;
	long spins = 0;

	TAP_REQUIRE(clock_gettime(CLOCK_MONOTONIC, &first) == 0);
	prev = first;
	do {
		TAP_REQUIRE(clock_gettime(CLOCK_MONOTONIC, &now) == 0);
		TAP_REQUIRE(now.tv_nsec >= 0 && now.tv_nsec < NSEC_PER_SEC);
		TAP_REQUIRE(ts_to_ns(&now) >= ts_to_ns(&prev));	// never backwards
		prev = now;
	} while (ts_to_ns(&now) == ts_to_ns(&first) && ++spins < 10000000);
	TAP_CHECK(ts_to_ns(&now) > ts_to_ns(&first));
}

static void test_nanosleep(void)
{
	struct timespec before, after, nap = { 0, 100 * 1000 * 1000 };
	long slept;

	TAP_REQUIRE(clock_gettime(CLOCK_MONOTONIC, &before) == 0);
	TAP_CHECK_EQ(nanosleep(&nap, NULL), 0);
	TAP_REQUIRE(clock_gettime(CLOCK_MONOTONIC, &after) == 0);
	slept = ts_to_ns(&after) - ts_to_ns(&before);
	TAP_CHECK(slept >= nap.tv_nsec);
	TAP_CHECK(slept < 3 * NSEC_PER_SEC);	// generous: TCG is slow, but not that slow
	if (slept < nap.tv_nsec || slept >= 3 * NSEC_PER_SEC)
		tap_diag("slept %ld ns for a 100 ms nanosleep", slept);
}

static void test_clock_realtime(void)
{
	struct timespec ts;

	TAP_REQUIRE(clock_gettime(CLOCK_REALTIME, &ts) == 0);
	TAP_CHECK(ts.tv_sec > JAN_1_2020);
	TAP_CHECK(ts.tv_nsec >= 0 && ts.tv_nsec < NSEC_PER_SEC);
	TAP_CHECK(time(NULL) >= ts.tv_sec);
}

static void test_getrandom(void)
{
	unsigned char a[32], b[32];
	int nonzero = 0;

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	TAP_CHECK_EQ(syscall(SYS_getrandom, a, sizeof(a), 0), sizeof(a));
	TAP_CHECK_EQ(syscall(SYS_getrandom, b, sizeof(b), 0), sizeof(b));
	for (size_t i = 0; i < sizeof(a); i++)
		nonzero += a[i] != 0;
	TAP_CHECK(nonzero > 0);
	TAP_CHECK(memcmp(a, b, sizeof(a)) != 0);	// equal has probability 2^-256
	TAP_CHECK_EQ(tap_syscall3(SYS_getrandom, (long)a, sizeof(a), 0xffff), -EINVAL);
	TAP_CHECK_EQ(tap_syscall3(SYS_getrandom, 0, sizeof(a), 0), -EFAULT);
}

static int is_zero(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

// brk through the raw call: musl's sbrk() refuses non-zero increments. Linux returns the
// new break exactly as asked (not rounded), and new heap memory reads as zero, also after
// the heap shrank and grew again.
static void test_brk_grow(void)
{
	const unsigned long grow = 3 * PAGE_SIZE + 100;
	char *cur = (char *)tap_syscall1(SYS_brk, 0);

	TAP_REQUIRE(cur != NULL);
	TAP_REQUIRE(tap_syscall1(SYS_brk, (long)(cur + grow)) == (long)(cur + grow));
	TAP_CHECK_EQ(tap_syscall1(SYS_brk, 0), cur + grow);
	TAP_CHECK(is_zero(cur, grow));
	memset(cur, 0x77, grow);
	TAP_CHECK_EQ(tap_syscall1(SYS_brk, (long)cur), cur);
	TAP_CHECK_EQ(tap_syscall1(SYS_brk, (long)(cur + grow)), cur + grow);
	TAP_CHECK(is_zero(cur, grow));
	TAP_CHECK_EQ(tap_syscall1(SYS_brk, (long)cur), cur);
}

// A break that cannot be set leaves the old one and returns it.
static void test_brk_refuse(void)
{
	long cur = tap_syscall1(SYS_brk, 0);

	TAP_CHECK_EQ(tap_syscall1(SYS_brk, 0x0000800000000000L), cur);	// end of user space
	TAP_CHECK_EQ(tap_syscall1(SYS_brk, (long)0xffff800000000000UL), cur);
	TAP_CHECK_EQ(tap_syscall1(SYS_brk, PAGE_SIZE), cur);	// below the program
	TAP_CHECK_EQ(tap_syscall1(SYS_brk, 0), cur);
}

static volatile char *touch_addr;

static void child_touch(void)
{
	(void)*touch_addr;
}

static void test_mmap_munmap(void)
{
	char *p = mmap(NULL, 3 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	char *q;

	TAP_REQUIRE(p != MAP_FAILED);
	TAP_CHECK(((uintptr_t)p & (PAGE_SIZE - 1)) == 0);
	TAP_CHECK(is_zero(p, 3 * PAGE_SIZE));
	memset(p, 0x42, 3 * PAGE_SIZE);
	TAP_CHECK_EQ(munmap(p + PAGE_SIZE, PAGE_SIZE), 0);
	touch_addr = p + PAGE_SIZE;
	TAP_CHECK_KILLED_BY(child_touch, SIGSEGV);
	TAP_CHECK_EQ(p[0], 0x42);			// the neighbours stay
	TAP_CHECK_EQ(p[3 * PAGE_SIZE - 1], 0x42);

	q = mmap(p + PAGE_SIZE, PAGE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	TAP_CHECK(q == p + PAGE_SIZE);
	TAP_CHECK(is_zero(q, PAGE_SIZE));		// fresh memory, not the old bytes
	TAP_CHECK_EQ(munmap(p, 3 * PAGE_SIZE), 0);
	touch_addr = p;
	TAP_CHECK_KILLED_BY(child_touch, SIGSEGV);

	errno = 0;
	TAP_CHECK(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED);
	TAP_CHECK_EQ(errno, EINVAL);
}

static void child_store(void)
{
	*touch_addr = 1;
}

static void test_mprotect(void)
{
	char *p = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	TAP_REQUIRE(p != MAP_FAILED);
	p[0] = 5;
	TAP_CHECK_EQ(mprotect(p, PAGE_SIZE, PROT_READ), 0);
	touch_addr = p;
	TAP_CHECK_KILLED_BY(child_store, SIGSEGV);
	TAP_CHECK_EQ(p[0], 5);				// still readable
	TAP_CHECK_EQ(mprotect(p, PAGE_SIZE, PROT_NONE), 0);
	TAP_CHECK_KILLED_BY(child_touch, SIGSEGV);
	TAP_CHECK_EQ(mprotect(p, PAGE_SIZE, PROT_READ | PROT_WRITE), 0);
	p[0] = 6;
	TAP_CHECK_EQ(p[0], 6);
	// Not page aligned. Raw, because musl's mprotect() rounds the address down.
	TAP_CHECK_EQ(tap_syscall3(SYS_mprotect, (long)(p + 1), PAGE_SIZE, PROT_READ), -EINVAL);
}

static void test_writev(void)
{
	struct iovec iov[3] = {
		{ "# writev: ", 10 },
		{ "one, ", 5 },
		{ "two\n", 4 },
	};
	char got[32];
	int fds[2];

	TAP_CHECK_EQ(writev(STDOUT_FILENO, iov, 3), 19);
	TAP_REQUIRE(pipe(fds) == 0);
	TAP_CHECK_EQ(writev(fds[1], iov, 3), 19);
	TAP_CHECK_EQ(read(fds[0], got, sizeof(got)), 19);
	TAP_CHECK(memcmp(got, "# writev: one, two\n", 19) == 0);
}

static void test_readv(void)
{
	const char *path = (const char *)getauxval(AT_EXECFN);
	char a[4], b[12], whole[16];
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	int fd = open(path, O_RDONLY);

	TAP_REQUIRE(fd >= 0);
	TAP_CHECK_EQ(read(fd, whole, sizeof(whole)), 16);
	TAP_CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	TAP_CHECK_EQ(readv(fd, iov, 2), 16);
	TAP_CHECK(memcmp(a, whole, 4) == 0);
	TAP_CHECK(memcmp(b, whole + 4, 12) == 0);
	TAP_CHECK(memcmp(a, "\177ELF", 4) == 0);
}

static void test_lseek(void)
{
	const char *path = (const char *)getauxval(AT_EXECFN);
	int fd = open(path, O_RDONLY);
	struct stat st;
	char buf[3];
	int fds[2];

	TAP_REQUIRE(fd >= 0 && fstat(fd, &st) == 0);
	TAP_CHECK_EQ(lseek(fd, 0, SEEK_END), st.st_size);
	TAP_CHECK_EQ(read(fd, buf, sizeof(buf)), 0);		// at end of file
	TAP_CHECK_EQ(lseek(fd, 1, SEEK_SET), 1);
	TAP_CHECK_EQ(read(fd, buf, 3), 3);
	TAP_CHECK(memcmp(buf, "ELF", 3) == 0);
	TAP_CHECK_EQ(lseek(fd, -3, SEEK_CUR), 1);
	TAP_CHECK_EQ(lseek(fd, 0, SEEK_CUR), 1);
	TAP_CHECK_EQ(lseek(fd, st.st_size + 100, SEEK_SET), st.st_size + 100);	// past EOF is fine
	TAP_CHECK_EQ(read(fd, buf, sizeof(buf)), 0);
	TAP_CHECK_EQ(tap_syscall3(SYS_lseek, fd, -1, SEEK_SET), -EINVAL);
	TAP_CHECK_EQ(tap_syscall3(SYS_lseek, fd, 0, 42), -EINVAL);
	TAP_CHECK_EQ(tap_syscall3(SYS_lseek, 999, 0, SEEK_SET), -EBADF);
	TAP_REQUIRE(pipe(fds) == 0);
	TAP_CHECK_EQ(tap_syscall3(SYS_lseek, fds[0], 0, SEEK_SET), -ESPIPE);
}

static void test_fstat(void)
{
	const char *path = (const char *)getauxval(AT_EXECFN);
	struct stat by_fd, by_path;
	int fd = open(path, O_RDONLY);
	int null_fd = open("/dev/null", O_WRONLY);

	TAP_REQUIRE(fd >= 0 && null_fd >= 0);
	TAP_REQUIRE(fstat(fd, &by_fd) == 0 && stat(path, &by_path) == 0);
	TAP_CHECK(S_ISREG(by_fd.st_mode));
	TAP_CHECK_EQ(by_fd.st_ino, by_path.st_ino);
	TAP_CHECK_EQ(by_fd.st_dev, by_path.st_dev);
	TAP_CHECK_EQ(by_fd.st_size, by_path.st_size);
	TAP_CHECK_EQ(by_fd.st_mode, by_path.st_mode);
	TAP_REQUIRE(fstat(null_fd, &by_fd) == 0);
	TAP_CHECK(S_ISCHR(by_fd.st_mode));
	TAP_CHECK_EQ(tap_syscall2(SYS_fstat, 999, (long)&by_fd), -EBADF);
}

static __thread int tls_value = 7;

static unsigned long fs_self(void)
{
	unsigned long self;

	__asm__ volatile("mov %%fs:0, %0" : "=r"(self));
	return self;
}

// musl keeps a pointer to the thread's own control block at %fs:0, and the static TLS
// block just below it.
static void test_arch_prctl_get_fs(void)
{
	unsigned long fs = 0;
	uintptr_t tls = (uintptr_t)&tls_value;

	TAP_REQUIRE(tap_syscall2(SYS_arch_prctl, ARCH_GET_FS, (long)&fs) == 0);
	TAP_CHECK(fs != 0);
	TAP_CHECK_EQ(fs, fs_self());
	TAP_CHECK_EQ(fs, (uintptr_t)pthread_self());
	TAP_CHECK_EQ(tls_value, 7);
	TAP_CHECK(tls < fs && fs - tls < PAGE_SIZE);
	TAP_CHECK_EQ(tap_syscall2(SYS_arch_prctl, ARCH_GET_FS, 0), -EFAULT);
	TAP_CHECK_EQ(tap_syscall2(SYS_arch_prctl, 0x9999, (long)&fs), -EINVAL);
}

// Point FS at another block, make a syscall that may switch tasks, and look through %fs.
// Between the two ARCH_SET_FS calls nothing may use the libc (errno is thread-local).
static void test_arch_prctl_set_fs(void)
{
	static unsigned long block[8];
	unsigned long old_fs = 0, got_fs = 0, seen;
	long set_ret, bad_ret;

	block[0] = (unsigned long)block;
	TAP_REQUIRE(tap_syscall2(SYS_arch_prctl, ARCH_GET_FS, (long)&old_fs) == 0);
	set_ret = tap_syscall2(SYS_arch_prctl, ARCH_SET_FS, (long)block);
	tap_syscall0(SYS_sched_yield);
	seen = fs_self();
	tap_syscall2(SYS_arch_prctl, ARCH_GET_FS, (long)&got_fs);
	bad_ret = tap_syscall2(SYS_arch_prctl, ARCH_SET_FS, (long)0x8000000000000000UL);
	tap_syscall2(SYS_arch_prctl, ARCH_SET_FS, (long)old_fs);

	TAP_CHECK_EQ(set_ret, 0);
	TAP_CHECK_EQ(seen, (unsigned long)block);
	TAP_CHECK_EQ(got_fs, (unsigned long)block);
	TAP_CHECK_EQ(bad_ret, -EPERM);	// non-canonical: refused, not loaded
	TAP_CHECK_EQ(fs_self(), old_fs);
	TAP_CHECK_EQ(tls_value, 7);
}

static const struct tap_test tests[] = {
	{ "argc and argv reach main", test_argv },
	{ "envp follows argv and matches environ", test_envp },
	{ "auxv follows envp and matches getauxval", test_auxv_layout },
	{ "AT_PAGESZ is 4096", test_auxv_pagesz },
	{ "AT_PHDR, AT_PHENT, AT_PHNUM describe the program headers", test_auxv_phdr },
	{ "AT_ENTRY is _start", test_auxv_entry },
	{ "AT_RANDOM points at 16 random bytes", test_auxv_random },
	{ "AT_EXECFN names the program file", test_auxv_execfn },
	{ "AT_UID, AT_EUID, AT_GID, AT_EGID match the syscalls", test_auxv_ids },
	{ "uname fills in the fields", test_uname },
	{ "CLOCK_MONOTONIC advances and never goes back", test_clock_monotonic },
	{ "nanosleep of 100 ms takes at least 100 ms", test_nanosleep },
	{ "CLOCK_REALTIME is a date after 2020", test_clock_realtime },
	{ "getrandom returns random bytes", test_getrandom },
	{ "brk grows the heap with zeroed writable memory", test_brk_grow },
	{ "brk refuses bad values and returns the current break", test_brk_refuse },
	{ "mmap gives zeroed memory, munmap takes it away", test_mmap_munmap },
	{ "mprotect changes what a page allows", test_mprotect },
	{ "writev writes the pieces in order", test_writev },
	{ "readv scatters into the pieces", test_readv },
	{ "lseek moves the file offset", test_lseek },
	{ "fstat agrees with stat", test_fstat },
	{ "arch_prctl(ARCH_GET_FS) is the thread pointer", test_arch_prctl_get_fs },
	{ "arch_prctl(ARCH_SET_FS) moves FS and survives a syscall", test_arch_prctl_set_fs },
};

int main(int argc, char **argv, char **envp)
{
	main_argc = argc;
	main_argv = argv;
	main_envp = envp;
	return tap_run(tests, TAP_COUNT(tests));
}
