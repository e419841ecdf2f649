// /proc as Linux's proc(5) describes it and busybox ps, top and free read it: meminfo,
// uptime, loadavg, stat, version, cpuinfo, mounts, filesystems, /proc/self, and for a task
// stat (all 52 fields), statm, status, cmdline, environ, comm, exe, cwd, root, maps and
// fd/. Another task's files are read too (a re-executed copy of this program waiting on a
// pipe), a zombie shows Z, and a reaped task's directory is gone. Reads in small pieces
// and at offsets see one snapshot; writes are refused as Linux refuses them to root.
//
// The program re-executes itself (its own path, made absolute) with argv[1] "--child" to
// get a second process whose argv and environment it chose.

#define _GNU_SOURCE
#include "tap.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>

#define BUF_SIZE 65536
#define STAT_FIELDS 52
#define MAPS_NAME_COLUMN 73
#define CHILD_ARG "--child"
#define CHILD_ENV "PROCFS_TEST=child env"
#define POLL_TRIES 500		// 5 s in steps of 10 ms

static int main_argc;
static char **main_argv;
static char **main_envp;
static char self_path[PATH_MAX];	// this program, absolute

// Read the whole file into buf (NUL-terminated). Returns the length, or -1 (errno set).
static long read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(fd);
	return (long)len;
}

static char *read_alloc(const char *path, long *len)
{
	char *buf = malloc(BUF_SIZE);
	long n = buf ? read_file(path, buf, BUF_SIZE) : -1;

	if (n < 0)
		tap_diag("%s: %s", path, strerror(errno));
	TAP_REQUIRE(n >= 0);
	if (len)
		*len = n;
	return buf;
}

// The text after "\n" name (or at the very start) up to the end of that line, or NULL.
static const char *find_line(const char *buf, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, name, n) == 0)
			return p + n;
	}
	return NULL;
}

static unsigned long meminfo_kb(const char *buf, const char *name)
{
	const char *v = find_line(buf, name);
	unsigned long kb = 0;
	char unit[8] = "";

	if (!v || sscanf(v, "%lu %7s", &kb, unit) != 2 || strcmp(unit, "kB") != 0)
		tap_fail_at(__FILE__, __LINE__, "meminfo line %s missing or malformed", name);
	return kb;
}

static void test_meminfo(void)
{
	char *buf = read_alloc("/proc/meminfo", NULL);
	unsigned long total = meminfo_kb(buf, "MemTotal:"), mfree = meminfo_kb(buf, "MemFree:");
	struct sysinfo si;

	TAP_CHECK(meminfo_kb(buf, "MemAvailable:") <= total);
	meminfo_kb(buf, "Buffers:");
	TAP_CHECK(meminfo_kb(buf, "Cached:") <= total);
	TAP_CHECK(meminfo_kb(buf, "SwapFree:") <= meminfo_kb(buf, "SwapTotal:"));
	meminfo_kb(buf, "SReclaimable:");
	TAP_CHECK(mfree > 0 && mfree <= total);
	TAP_CHECK(strncmp(buf, "MemTotal:", 9) == 0);
	TAP_REQUIRE(sysinfo(&si) == 0);
	TAP_CHECK_EQ(total, (unsigned long)si.totalram * si.mem_unit / 1024);
	free(buf);
}

static void test_uptime(void)
{
	char buf[128];
	unsigned long up, up_c, idle, idle_c;
	struct timespec ts;
	int n;

	TAP_REQUIRE(read_file("/proc/uptime", buf, sizeof(buf)) > 0);
	n = sscanf(buf, "%lu.%2lu %lu.%2lu\n", &up, &up_c, &idle, &idle_c);
	TAP_CHECK_EQ(n, 4);
	TAP_CHECK(buf[strlen(buf) - 1] == '\n');
	clock_gettime(CLOCK_BOOTTIME, &ts);
	TAP_CHECK(labs((long)up - (long)ts.tv_sec) <= 2);
}

static void test_loadavg(void)
{
	char buf[128];
	double l1, l5, l15;
	int running, total, last;

	TAP_REQUIRE(read_file("/proc/loadavg", buf, sizeof(buf)) > 0);
	TAP_CHECK_EQ(sscanf(buf, "%lf %lf %lf %d/%d %d", &l1, &l5, &l15, &running, &total, &last),
		     6);
	TAP_CHECK(l1 >= 0 && l5 >= 0 && l15 >= 0);
	TAP_CHECK(running >= 1 && total >= running);
	TAP_CHECK(last > 0);
}

static void test_stat(void)
{
	char *buf = read_alloc("/proc/stat", NULL);
	unsigned long long t[10];
	unsigned long btime = 0, procs = 0, running = 0;
	char line[128];
	long uptime;

	TAP_CHECK(sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &t[0], &t[1], &t[2],
			 &t[3], &t[4], &t[5], &t[6], &t[7]) == 8);
	TAP_CHECK(strncmp(buf, "cpu  ", 5) == 0);
	TAP_CHECK(find_line(buf, "btime ") && sscanf(find_line(buf, "btime "), "%lu", &btime) == 1);
	TAP_CHECK(find_line(buf, "processes ") &&
		  sscanf(find_line(buf, "processes "), "%lu", &procs) == 1 && procs >= 1);
	TAP_CHECK(find_line(buf, "procs_running ") &&
		  sscanf(find_line(buf, "procs_running "), "%lu", &running) == 1 && running >= 1);
	TAP_REQUIRE(read_file("/proc/uptime", line, sizeof(line)) > 0);
	uptime = atol(line);
	TAP_CHECK(labs((long)time(NULL) - uptime - (long)btime) <= 3);
	free(buf);
}

static void test_version(void)
{
	char buf[512], want[256];
	struct utsname u;

	TAP_REQUIRE(uname(&u) == 0);
	TAP_REQUIRE(read_file("/proc/version", buf, sizeof(buf)) > 0);
	snprintf(want, sizeof(want), "%s version %s ", u.sysname, u.release);
	if (strncmp(buf, want, strlen(want)) != 0)
		tap_fail_at(__FILE__, __LINE__, "version \"%.60s\" does not start with \"%s\"",
			    buf, want);
}

static bool has_word(const char *line, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = strstr(line, word); p; p = strstr(p + 1, word)) {
		if (p[-1] == ' ' && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
			return true;
	}
	return false;
}

static void test_cpuinfo(void)
{
	char *buf = read_alloc("/proc/cpuinfo", NULL);
	const char *flags = find_line(buf, "flags\t\t: ");

	TAP_CHECK(strncmp(buf, "processor\t: 0\n", 14) == 0);
	TAP_CHECK(find_line(buf, "vendor_id\t: ") != NULL);
	TAP_CHECK(find_line(buf, "model name\t: ") != NULL);
	TAP_CHECK(find_line(buf, "cpu family\t: ") != NULL);
	TAP_REQUIRE(flags != NULL);
	TAP_CHECK(has_word(flags - 1, "fpu"));
	TAP_CHECK(has_word(flags - 1, "lm"));
	TAP_CHECK(has_word(flags - 1, "sse2"));
	free(buf);
}

// /proc/mounts lists / and /proc (as a link to self/mounts, as on Linux).
static void test_mounts(void)
{
	char *buf = read_alloc("/proc/mounts", NULL);
	bool root = false, proc = false;
	char src[256], dir[256], type[64];
	char link[64];

	for (char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (sscanf(p, "%255s %255s %63s", src, dir, type) != 3)
			continue;
		root |= strcmp(dir, "/") == 0;
		proc |= strcmp(dir, "/proc") == 0 && strcmp(type, "proc") == 0;
	}
	TAP_CHECK(root);
	TAP_CHECK(proc);
	TAP_CHECK(readlink("/proc/mounts", link, sizeof(link)) == 11);
	TAP_CHECK(strncmp(link, "self/mounts", 11) == 0);
	free(buf);
	buf = read_alloc("/proc/filesystems", NULL);
	TAP_CHECK(find_line(buf, "nodev\tproc\n") != NULL);
	free(buf);
}

static void test_self_link(void)
{
	char link[32], want[32];
	struct stat st;
	ssize_t n = readlink("/proc/self", link, sizeof(link) - 1);

	TAP_REQUIRE(n > 0);
	link[n] = '\0';
	snprintf(want, sizeof(want), "%d", (int)getpid());
	TAP_CHECK_STR(link, want);
	TAP_CHECK(lstat("/proc/self", &st) == 0 && S_ISLNK(st.st_mode));
	TAP_CHECK(stat("/proc/self", &st) == 0 && S_ISDIR(st.st_mode));
}

// Split a stat line: comm (between the first '(' and the last ')') and the fields after
// it into f[2..]; f[0] is the pid. Returns the number of fields, comm included.
static int stat_split(char *buf, char *comm, size_t comm_size, unsigned long long *f)
{
	char *open = strchr(buf, '('), *close = strrchr(buf, ')'), *p;
	int n = 2;

	if (!open || !close || close < open)
		return 0;
	snprintf(comm, comm_size, "%.*s", (int)(close - open - 1), open + 1);
	f[0] = strtoull(buf, NULL, 10);
	f[1] = 0;
	for (p = strtok(close + 1, " \n"); p && n < 64; p = strtok(NULL, " \n"), n++)
		f[n] = n == 2 ? (unsigned long long)p[0] : strtoull(p, NULL, 10);
	return n;
}

static void test_self_stat(void)
{
	char buf[1024], comm[64];
	unsigned long long f[64];
	struct timespec ts;

	TAP_REQUIRE(read_file("/proc/self/stat", buf, sizeof(buf)) > 0);
	TAP_CHECK_EQ(stat_split(buf, comm, sizeof(comm), f), STAT_FIELDS);
	TAP_CHECK_EQ(f[0], getpid());
	TAP_CHECK_STR(comm, "procfs");
	TAP_CHECK_EQ(f[2], 'R');
	TAP_CHECK_EQ(f[3], getppid());
	TAP_CHECK_EQ(f[4], getpgrp());
	TAP_CHECK_EQ(f[5], getsid(0));
	TAP_CHECK_EQ(f[19], 1);			// num_threads
	clock_gettime(CLOCK_BOOTTIME, &ts);
	TAP_CHECK(f[21] <= (unsigned long long)ts.tv_sec * 100 + 100); // starttime, ticks
	TAP_CHECK(f[22] > 0);			// vsize (Linux's rss may lag: not checked)
	TAP_CHECK_EQ(f[37], SIGCHLD);		// exit_signal
}

// A comm with parentheses and spaces: readers must take the last ')'.
static void test_stat_odd_comm(void)
{
	char buf[1024], comm[64];
	unsigned long long f[64];

	TAP_REQUIRE(prctl(PR_SET_NAME, "a) (b c", 0, 0, 0) == 0);
	TAP_REQUIRE(read_file("/proc/self/stat", buf, sizeof(buf)) > 0);
	TAP_CHECK_EQ(stat_split(buf, comm, sizeof(comm), f), STAT_FIELDS);
	TAP_CHECK_STR(comm, "a) (b c");
	TAP_REQUIRE(read_file("/proc/self/comm", buf, sizeof(buf)) > 0);
	TAP_CHECK_STR(buf, "a) (b c\n");
}

static void test_statm(void)
{
	char buf[1024], comm[64];
	unsigned long long f[64];
	unsigned long m[7];

	// Two reads with nothing mapped in between: the sizes agree.
	TAP_REQUIRE(read_file("/proc/self/stat", buf, sizeof(buf)) > 0);
	TAP_REQUIRE(stat_split(buf, comm, sizeof(comm), f) == STAT_FIELDS);
	TAP_REQUIRE(read_file("/proc/self/statm", buf, sizeof(buf)) > 0);
	TAP_CHECK_EQ(sscanf(buf, "%lu %lu %lu %lu %lu %lu %lu", &m[0], &m[1], &m[2], &m[3], &m[4],
			    &m[5], &m[6]), 7);
	TAP_CHECK_EQ((unsigned long long)m[0] * (unsigned long long)sysconf(_SC_PAGESIZE), f[22]);
	TAP_CHECK(m[1] <= m[0]);
	TAP_CHECK(m[3] > 0); // text
}

static long status_num(const char *buf, const char *name)
{
	const char *v = find_line(buf, name);

	if (!v)
		tap_fail_at(__FILE__, __LINE__, "status has no %s line", name);
	return v ? atol(v) : -1;
}

static void test_status(void)
{
	char *buf = read_alloc("/proc/self/status", NULL);
	char want[64];

	TAP_CHECK(find_line(buf, "Name:\tprocfs\n") != NULL);
	TAP_CHECK(find_line(buf, "State:\tR (running)\n") != NULL);
	TAP_CHECK_EQ(status_num(buf, "Tgid:\t"), getpid());
	TAP_CHECK_EQ(status_num(buf, "Pid:\t"), getpid());
	TAP_CHECK_EQ(status_num(buf, "PPid:\t"), getppid());
	snprintf(want, sizeof(want), "Uid:\t%u\t%u\t%u\t%u\n", getuid(), geteuid(), getuid(),
		 getuid());
	TAP_CHECK(find_line(buf, want) != NULL);
	TAP_CHECK(status_num(buf, "VmSize:\t") >= status_num(buf, "VmRSS:\t"));
	TAP_CHECK(find_line(buf, "VmRSS:") && strstr(find_line(buf, "VmRSS:"), " kB\n"));
	TAP_CHECK_EQ(status_num(buf, "Threads:\t"), 1);
	TAP_CHECK(find_line(buf, "SigBlk:\t") != NULL);
	free(buf);
}

// The strings of v, each with its NUL, as cmdline and environ show them.
static size_t strv_join(char *const *v, char *out, size_t size)
{
	size_t len = 0;

	for (; *v; v++) {
		size_t n = strlen(*v) + 1;

		if (len + n > size)
			return 0;
		memcpy(out + len, *v, n);
		len += n;
	}
	return len;
}

static void check_strings(const char *path, char *const *v)
{
	char *want = malloc(BUF_SIZE);
	long got_len;
	char *got = read_alloc(path, &got_len);
	size_t want_len = strv_join(v, want, BUF_SIZE);

	TAP_CHECK_EQ(got_len, want_len);
	TAP_CHECK(got_len == (long)want_len && memcmp(got, want, want_len) == 0);
	free(got);
	free(want);
}

static void test_cmdline_environ(void)
{
	check_strings("/proc/self/cmdline", main_argv);
	check_strings("/proc/self/environ", main_envp);
}

static void check_link(const char *path, const char *want)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n < 0)
		tap_fail_at(__FILE__, __LINE__, "readlink %s: %s", path, strerror(errno));
	buf[n < 0 ? 0 : n] = '\0';
	TAP_CHECK_STR(buf, want);
}

static void test_links(void)
{
	char cwd[PATH_MAX];

	check_link("/proc/self/exe", self_path);
	check_link("/proc/self/root", "/");
	TAP_REQUIRE(chdir("/tmp") == 0);
	TAP_REQUIRE(getcwd(cwd, sizeof(cwd)) != NULL);
	check_link("/proc/self/cwd", cwd);
}

// The maps line whose range holds addr, copied into line; false if none.
static bool maps_find(const char *buf, uintptr_t addr, char *line, size_t size)
{
	for (const char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		unsigned long start, end;

		if (sscanf(p, "%lx-%lx", &start, &end) == 2 && start <= addr && addr < end) {
			snprintf(line, size, "%.*s", (int)strcspn(p, "\n"), p);
			return true;
		}
	}
	return false;
}

// Every line parses; a named one has its name at column 73.
static void maps_check_format(const char *buf)
{
	for (const char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		unsigned long start, end, off, ino;
		unsigned int major, minor;
		char perms[8];
		int col = 0;
		size_t len = strcspn(p, "\n");

		if (sscanf(p, "%lx-%lx %7s %lx %x:%x %lu %n", &start, &end, perms, &off, &major,
			   &minor, &ino, &col) != 7 || strlen(perms) != 4 || start >= end)
			tap_fail_at(__FILE__, __LINE__, "bad maps line: %.*s", (int)len, p);
		else if ((size_t)col < len && col != MAPS_NAME_COLUMN)
			tap_fail_at(__FILE__, __LINE__, "name at column %d: %.*s", col, (int)len,
				    p);
	}
}

static void test_maps(void)
{
	uintptr_t brk0 = (uintptr_t)syscall(SYS_brk, 0), local = (uintptr_t)&brk0;
	char line[PATH_MAX + 128], *buf;

	// A heap page, so that [heap] exists.
	TAP_REQUIRE((uintptr_t)syscall(SYS_brk, brk0 + 8192) == brk0 + 8192);
	*(volatile char *)brk0 = 1;
	buf = read_alloc("/proc/self/maps", NULL);
	maps_check_format(buf);
	TAP_CHECK(maps_find(buf, (uintptr_t)test_maps, line, sizeof(line)));
	TAP_CHECK(strstr(line, " r-xp ") != NULL);
	TAP_CHECK(strlen(line) > strlen(self_path) &&
		  strcmp(line + strlen(line) - strlen(self_path), self_path) == 0);
	TAP_CHECK(maps_find(buf, local, line, sizeof(line)) && strstr(line, " rw-p ") &&
		  strstr(line, "[stack]"));
	TAP_CHECK(maps_find(buf, brk0, line, sizeof(line)) && strstr(line, "[heap]"));
	free(buf);
}

static bool dir_has(const char *path, const char *name)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d)))
		found = strcmp(e->d_name, name) == 0;
	closedir(d);
	return found;
}

#define FD_HIGH 100 // a descriptor opendir will not take

static void test_fd_dir(void)
{
	int null = open("/dev/null", O_RDONLY), p[2];
	char name[64], want[64];
	struct stat st;

	TAP_REQUIRE(null >= 0 && pipe(p) == 0);
	TAP_REQUIRE(dup2(null, FD_HIGH) == FD_HIGH);
	snprintf(name, sizeof(name), "/proc/self/fd/%d", FD_HIGH);
	check_link(name, "/dev/null");
	TAP_CHECK(lstat(name, &st) == 0 && S_ISLNK(st.st_mode));
	snprintf(name, sizeof(name), "%d", p[1]);
	TAP_CHECK(dir_has("/proc/self/fd", name));
	TAP_REQUIRE(fstat(p[0], &st) == 0);
	snprintf(want, sizeof(want), "pipe:[%lu]", (unsigned long)st.st_ino);
	snprintf(name, sizeof(name), "/proc/self/fd/%d", p[0]);
	check_link(name, want);
	close(FD_HIGH);
	snprintf(name, sizeof(name), "/proc/self/fd/%d", FD_HIGH);
	errno = 0;
	TAP_CHECK(readlink(name, want, sizeof(want)) < 0 && errno == ENOENT);
	snprintf(name, sizeof(name), "%d", FD_HIGH);
	TAP_CHECK(!dir_has("/proc/self/fd", name));
}

// --- another process ------------------------------------------------------------------------

static char *child_argv[] = { "procfs-child", CHILD_ARG, "two words", NULL };
static char *child_envp[] = { CHILD_ENV, "X=1", NULL };

// Start this program again as "--child", waiting on a pipe; *wr is the pipe's write end.
static pid_t spawn_child(int *wr)
{
	int p[2];
	pid_t pid;

	TAP_REQUIRE(pipe(p) == 0);
	pid = fork();
	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		dup2(p[0], 0);
		close(p[0]);
		close(p[1]);
		execve(self_path, child_argv, child_envp);
		_exit(127);
	}
	close(p[0]);
	*wr = p[1];
	return pid;
}

// Wait until the child has exec'd (its cmdline is the new argv) and sleeps in read.
static bool child_wait_ready(pid_t pid, char *const *argv)
{
	char path[64], buf[1024], want[256];
	size_t want_len = strv_join(argv, want, sizeof(want));
	long n;

	for (int i = 0; i < POLL_TRIES; i++) {
		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
		n = read_file(path, buf, sizeof(buf));
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		if (n == (long)want_len && memcmp(buf, want, want_len) == 0 &&
		    read_file(path, buf, sizeof(buf)) > 0 && strstr(buf, ") S "))
			return true;
		usleep(10000);
	}
	tap_diag("child stat: %s", buf);
	return false;
}

static void test_other_task(void)
{
	char path[64], comm[64], buf[1024];
	unsigned long long f[64];
	int wr;
	pid_t pid = spawn_child(&wr);

	TAP_REQUIRE(child_wait_ready(pid, child_argv));
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	check_strings(path, child_argv);
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	check_strings(path, child_envp);
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	check_link(path, self_path);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	TAP_REQUIRE(read_file(path, buf, sizeof(buf)) > 0);
	TAP_CHECK_EQ(stat_split(buf, comm, sizeof(comm), f), STAT_FIELDS);
	TAP_CHECK_STR(comm, "procfs"); // the name of the file exec'd, not argv[0]
	TAP_CHECK_EQ(f[3], getpid());
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	TAP_REQUIRE(read_file(path, buf, sizeof(buf)) > 0);
	TAP_CHECK(find_line(buf, "State:\tS (sleeping)\n") != NULL);
	snprintf(comm, sizeof(comm), "%d", (int)pid);
	TAP_CHECK(dir_has("/proc", comm));
	close(wr);
	TAP_CHECK_EQ(tap_wait(pid), 0);
}

static void test_zombie(void)
{
	char path[64], buf[1024], comm[64];
	unsigned long long f[64];
	siginfo_t si;
	pid_t pid = fork();

	TAP_REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(3);
	TAP_REQUIRE(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	TAP_REQUIRE(read_file(path, buf, sizeof(buf)) > 0);
	TAP_CHECK_EQ(stat_split(buf, comm, sizeof(comm), f), STAT_FIELDS);
	TAP_CHECK_EQ(f[2], 'Z');
	TAP_CHECK_EQ(f[22], 0); // no memory left
	TAP_CHECK_EQ(f[51], 3 << 8); // exit_code, as waitpid reports it
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	TAP_CHECK_EQ(read_file(path, buf, sizeof(buf)), 0);
	TAP_CHECK_EQ(tap_wait(pid), 3 << 8);
}

// Once reaped, the task's directory is gone, whether it was looked up before or not.
static void test_reaped(void)
{
	char path[64], buf[1024], name[16];
	struct stat st;
	pid_t pid = fork(), fresh;

	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	TAP_REQUIRE(read_file(path, buf, sizeof(buf)) > 0);
	kill(pid, SIGKILL);
	tap_wait(pid);
	errno = 0;
	TAP_CHECK(open(path, O_RDONLY) < 0 && errno == ENOENT);
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	errno = 0;
	TAP_CHECK(opendir(path) == NULL && errno == ENOENT);
	snprintf(name, sizeof(name), "%d", (int)pid);
	TAP_CHECK(!dir_has("/proc", name));
	errno = 0;
	TAP_CHECK(stat(path, &st) < 0 && errno == ENOENT);
	fresh = fork();
	TAP_REQUIRE(fresh >= 0);
	if (fresh == 0)
		_exit(0);
	tap_wait(fresh);
	snprintf(path, sizeof(path), "/proc/%d", (int)fresh);
	errno = 0;
	TAP_CHECK(stat(path, &st) < 0 && errno == ENOENT);
}

static void test_listing(void)
{
	char name[16];

	snprintf(name, sizeof(name), "%d", (int)getpid());
	TAP_CHECK(dir_has("/proc", name));
	TAP_CHECK(dir_has("/proc", "self"));
	TAP_CHECK(dir_has("/proc", "meminfo"));
	TAP_CHECK(dir_has("/proc", "uptime"));
	TAP_CHECK(dir_has("/proc/self", "status"));
	TAP_CHECK(dir_has("/proc/self", "fd"));
}

// Append the names of the linux_dirent64 records in buf[0..n) to out, each with a '/'.
// Layout: d_ino 8 bytes, d_off 8, d_reclen 2, d_type 1, then the name.
static void dirents_names(const char *buf, long n, char *out)
{
	for (long off = 0; off < n;) {
		unsigned short reclen;

		memcpy(&reclen, buf + off + 16, sizeof(reclen));
		strcat(strcat(out, buf + off + 19), "/");
		off += reclen;
	}
}

// getdents64 with room for one entry at a time lists the same names as one big read.
static void test_getdents_small(void)
{
	static char big[8192], small[64], all[8192], names[8192];
	int fd = open("/proc/self", O_RDONLY | O_DIRECTORY);
	long n;

	TAP_REQUIRE(fd >= 0);
	n = syscall(SYS_getdents64, fd, big, sizeof(big));
	TAP_REQUIRE(n > 0);
	dirents_names(big, n, all);
	TAP_REQUIRE(lseek(fd, 0, SEEK_SET) == 0);
	while ((n = syscall(SYS_getdents64, fd, small, sizeof(small))) > 0)
		dirents_names(small, n, names);
	TAP_CHECK_EQ(n, 0);
	TAP_CHECK_STR(names, all);
	close(fd);
}

static void test_small_reads(void)
{
	char whole[4096], pieces[4096], buf[16];
	int fd = open("/proc/self/stat", O_RDONLY);
	size_t len = 0;
	ssize_t n;

	TAP_REQUIRE(fd >= 0);
	while ((n = read(fd, pieces + len, 3)) > 0)
		len += (size_t)n;
	pieces[len] = '\0';
	TAP_CHECK(len > 0 && pieces[len - 1] == '\n');
	TAP_REQUIRE(read_file("/proc/version", whole, sizeof(whole)) > 8);
	close(fd);
	fd = open("/proc/version", O_RDONLY);
	TAP_REQUIRE(fd >= 0);
	TAP_CHECK_EQ(pread(fd, buf, 5, 3), 5);
	TAP_CHECK(memcmp(buf, whole + 3, 5) == 0);
	TAP_CHECK_EQ(lseek(fd, 2, SEEK_SET), 2);
	TAP_CHECK_EQ(read(fd, buf, 4), 4);
	TAP_CHECK(memcmp(buf, whole + 2, 4) == 0);
	errno = 0;
	TAP_CHECK(lseek(fd, 0, SEEK_END) < 0 && errno == EINVAL);
	TAP_CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	TAP_CHECK_EQ(read(fd, pieces, sizeof(pieces)), (long)strlen(whole));
	close(fd);
}

// As root, Linux opens /proc files for writing and then refuses the write.
static void test_writes_refused(void)
{
	int fd;

	if (geteuid() != 0)
		tap_skip("needs root");
	fd = open("/proc/meminfo", O_WRONLY);
	TAP_REQUIRE(fd >= 0);
	errno = 0;
	TAP_CHECK(write(fd, "x", 1) < 0 && errno == EIO);
	close(fd);
	fd = open("/proc/self/stat", O_WRONLY);
	TAP_REQUIRE(fd >= 0);
	errno = 0;
	TAP_CHECK(write(fd, "x", 1) < 0 && errno == EINVAL);
	close(fd);
	errno = 0;
	TAP_CHECK(mkdir("/proc/procfs-test", 0755) < 0 && errno == ENOENT);
	errno = 0;
	TAP_CHECK(open("/proc/procfs-test", O_WRONLY | O_CREAT, 0644) < 0 && errno == ENOENT);
	errno = 0;
	TAP_CHECK(unlink("/proc/meminfo") < 0 && errno == EPERM);
}

static const struct tap_test tests[] = {
	{ "meminfo has the lines free and top read", test_meminfo },
	{ "uptime agrees with CLOCK_BOOTTIME", test_uptime },
	{ "loadavg has its five fields", test_loadavg },
	{ "stat has cpu ticks, btime, processes", test_stat },
	{ "version names the kernel uname reports", test_version },
	{ "cpuinfo has processor, vendor, model name, flags", test_cpuinfo },
	{ "mounts shows / and /proc; filesystems lists proc", test_mounts },
	{ "self is a link to the caller's pid", test_self_link },
	{ "self/stat has 52 fields that match the caller", test_self_stat },
	{ "stat of a comm with ') (' parses by the last ')'", test_stat_odd_comm },
	{ "statm agrees with stat's vsize", test_statm },
	{ "status has Name, State, Pid, PPid, Uid, VmRSS, Threads", test_status },
	{ "cmdline and environ are argv and envp", test_cmdline_environ },
	{ "exe, root and cwd links", test_links },
	{ "maps shows the program, [stack] and [heap]", test_maps },
	{ "fd/ lists descriptors; links name files and pipes", test_fd_dir },
	{ "another task's cmdline, environ, exe, stat, status", test_other_task },
	{ "a zombie shows state Z and its exit code", test_zombie },
	{ "a reaped task's directory is gone", test_reaped },
	{ "listing /proc shows fixed files and pids", test_listing },
	{ "getdents64 one entry at a time lists the same", test_getdents_small },
	{ "small reads, pread and lseek see one snapshot", test_small_reads },
	{ "writes, mkdir, create and unlink are refused", test_writes_refused },
};

// The helper process: wait for the parent to close the pipe on stdin, then exit.
static int child_main(void)
{
	char c;

	while (read(0, &c, 1) > 0)
		;
	return 0;
}

int main(int argc, char **argv, char **envp)
{
	if (argc > 1 && strcmp(argv[1], CHILD_ARG) == 0)
		return child_main();
	main_argc = argc;
	main_argv = argv;
	main_envp = envp;
	if (!realpath(argv[0], self_path)) {
		tap_diag("realpath %s: %s", argv[0], strerror(errno));
		return 1;
	}
	return tap_run(tests, TAP_COUNT(tests));
}
