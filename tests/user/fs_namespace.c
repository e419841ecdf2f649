// The name space as Linux has it: path lookup (trailing slashes, "." and "..", symlinks and
// ELOOP, empty paths, O_NOFOLLOW, O_DIRECTORY, *at() directory descriptors), rename,
// unlink of an open file, rmdir, link counts and getdents64. Each test works in a fresh
// directory under /tmp, removed when it ends.
#define _GNU_SOURCE
#include "tap.h"
#include "fs_tmpdir.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static void touch(const char *path)
{
	int fd = open(path, O_CREAT | O_WRONLY, 0644);

	TAP_REQUIRE(fd >= 0);
	close(fd);
}

// Expect call to fail with err.
#define CHECK_ERR(call, err)                         \
	do {                                         \
		errno = 0;                           \
		TAP_CHECK_EQ((long)(call), -1L);     \
		TAP_CHECK_EQ(errno, (err));          \
	} while (0)

static nlink_t nlink_of(const char *path)
{
	struct stat st;

	TAP_REQUIRE(lstat(path, &st) == 0);
	return st.st_nlink;
}

static ino_t ino_of(const char *path)
{
	struct stat st;

	TAP_REQUIRE(stat(path, &st) == 0);
	return st.st_ino;
}

// --- path lookup -------------------------------------------------------------------------------

static void test_lookup_basics(void)
{
	struct stat st;

	enter_tmpdir("fs_namespace");
	touch("f");
	TAP_REQUIRE(mkdir("d", 0755) == 0);
	CHECK_ERR(open("f/", O_RDONLY), ENOTDIR);
	CHECK_ERR(open("f/.", O_RDONLY), ENOTDIR);
	CHECK_ERR(stat("f/x", &st), ENOTDIR);
	CHECK_ERR(open("", O_RDONLY), ENOENT);
	CHECK_ERR(stat("", &st), ENOENT);
	CHECK_ERR(open("f", O_RDONLY | O_DIRECTORY), ENOTDIR);
	CHECK_ERR(open("nope/x", O_RDONLY), ENOENT);
	TAP_CHECK_EQ(stat("d/", &st), 0);
	TAP_CHECK_EQ(stat("d//.//", &st), 0);
	TAP_CHECK_EQ(ino_of("d/.."), ino_of("."));
	TAP_CHECK_EQ(ino_of("/.."), ino_of("/"));
	TAP_CHECK_EQ(ino_of("/../.."), ino_of("/"));
	TAP_CHECK_EQ(ino_of("/."), ino_of("/"));
}

static void test_lookup_symlinks(void)
{
	char name[16], target[16];
	struct stat st;
	int fd;

	enter_tmpdir("fs_namespace");
	touch("f");
	TAP_REQUIRE(mkdir("d", 0755) == 0);
	TAP_REQUIRE(symlink("f", "lf") == 0);
	TAP_REQUIRE(symlink("d", "ld") == 0);
	TAP_REQUIRE(symlink("a", "b") == 0);
	TAP_REQUIRE(symlink("b", "a") == 0);
	CHECK_ERR(open("a", O_RDONLY), ELOOP);
	CHECK_ERR(stat("a/x", &st), ELOOP);
	CHECK_ERR(open("lf", O_RDONLY | O_NOFOLLOW), ELOOP);
	CHECK_ERR(open("ld", O_RDONLY | O_NOFOLLOW), ELOOP);
	// A trailing slash follows the last link whatever O_NOFOLLOW says.
	fd = open("ld/", O_RDONLY | O_NOFOLLOW);
	TAP_CHECK(fd >= 0);
	close(fd);
	fd = open("lf", O_RDONLY | O_NOFOLLOW | O_PATH);
	TAP_CHECK(fd >= 0);
	close(fd);
	CHECK_ERR(open("lf", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
	// 40 links in a row are followed, the 41st is ELOOP.
	for (int i = 1; i <= 41; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		snprintf(target, sizeof(target), i == 1 ? "f" : "c%d", i - 1);
		TAP_REQUIRE(symlink(target, name) == 0);
	}
	TAP_CHECK_EQ(stat("c40", &st), 0);
	CHECK_ERR(stat("c41", &st), ELOOP);
	TAP_CHECK_EQ(lstat("c41", &st), 0);
}

static void test_lookup_at(void)
{
	int dfd, ffd, fd;

	enter_tmpdir("fs_namespace");
	TAP_REQUIRE(mkdir("d", 0755) == 0);
	touch("d/g");
	touch("f");
	dfd = open("d", O_RDONLY | O_DIRECTORY);
	ffd = open("f", O_RDONLY);
	TAP_REQUIRE(dfd >= 0 && ffd >= 0);
	fd = openat(dfd, "g", O_RDONLY);
	TAP_CHECK(fd >= 0);
	close(fd);
	fd = openat(AT_FDCWD, "d/g", O_RDONLY);
	TAP_CHECK(fd >= 0);
	close(fd);
	CHECK_ERR(openat(ffd, "g", O_RDONLY), ENOTDIR);
	CHECK_ERR(openat(ffd, "", O_RDONLY), ENOENT);
	CHECK_ERR(openat(9999, "g", O_RDONLY), EBADF);
	// An absolute path ignores the directory descriptor, even a bad one.
	fd = openat(9999, fs_tmpdir, O_RDONLY | O_DIRECTORY);
	TAP_CHECK(fd >= 0);
	close(fd);
	TAP_CHECK_EQ(faccessat(dfd, "g", F_OK, 0), 0);
	TAP_CHECK_EQ(mkdirat(dfd, "sub", 0755), 0);
	TAP_CHECK_EQ(unlinkat(dfd, "sub", AT_REMOVEDIR), 0);
}

// --- rename ------------------------------------------------------------------------------------

static void test_rename_files(void)
{
	ino_t a;
	int fd;

	enter_tmpdir("fs_namespace");
	touch("a");
	touch("b");
	a = ino_of("a");
	fd = open("b", O_RDONLY);
	TAP_CHECK_EQ(rename("a", "b"), 0);
	TAP_CHECK_EQ(access("a", F_OK), -1);
	TAP_CHECK_EQ(ino_of("b"), a);
	close(fd);
	TAP_CHECK_EQ(rename("b", "b"), 0);
	TAP_CHECK_EQ(ino_of("b"), a);
	// Two names of one file: rename does nothing.
	TAP_REQUIRE(link("b", "c") == 0);
	TAP_CHECK_EQ(rename("b", "c"), 0);
	TAP_CHECK_EQ(access("b", F_OK), 0);
	TAP_CHECK_EQ(nlink_of("c"), 2);
	CHECK_ERR(rename("nope", "x"), ENOENT);
	CHECK_ERR(rename("b/", "x"), ENOTDIR);
}

static void test_rename_dirs(void)
{
	enter_tmpdir("fs_namespace");
	TAP_REQUIRE(mkdir("d1", 0755) == 0);
	TAP_REQUIRE(mkdir("d1/sub", 0755) == 0);
	TAP_REQUIRE(mkdir("d2", 0755) == 0);
	touch("f");
	CHECK_ERR(rename("d1", "d1/sub/x"), EINVAL);
	CHECK_ERR(rename("d1", "d1/x"), EINVAL);
	CHECK_ERR(rename("d2", "d1"), ENOTEMPTY);
	CHECK_ERR(rename("f", "d2"), EISDIR);
	CHECK_ERR(rename("d2", "f"), ENOTDIR);
	CHECK_ERR(rename(".", "x"), EBUSY);
	CHECK_ERR(rename("f", "."), EBUSY);
	TAP_CHECK_EQ(rename("d1", "d1"), 0);
	// A directory over an empty one, then into another directory.
	TAP_CHECK_EQ(rename("d1/sub", "d2"), 0);
	TAP_CHECK_EQ(access("d1/sub", F_OK), -1);
	TAP_CHECK_EQ(nlink_of("d1"), 2);
	TAP_CHECK_EQ(rename("d2", "d1/moved"), 0);
	TAP_CHECK_EQ(nlink_of("d1"), 3);
	TAP_CHECK_EQ(nlink_of("."), 3); // ".", its name in /tmp, d1/..
	TAP_CHECK_EQ(ino_of("d1/moved/.."), ino_of("d1"));
}

// --- unlink, rmdir, link counts ------------------------------------------------------------

static void test_unlink_open_file(void)
{
	struct stat st;
	char buf[8] = { 0 };
	int fd;

	enter_tmpdir("fs_namespace");
	fd = open("u", O_CREAT | O_RDWR, 0644);
	TAP_REQUIRE(fd >= 0);
	TAP_REQUIRE(write(fd, "hello", 5) == 5);
	TAP_CHECK_EQ(unlink("u"), 0);
	TAP_CHECK_EQ(access("u", F_OK), -1);
	TAP_CHECK_EQ(fstat(fd, &st), 0);
	TAP_CHECK_EQ(st.st_nlink, 0);
	TAP_CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 5);
	TAP_CHECK_STR(buf, "hello");
	TAP_CHECK_EQ(pwrite(fd, "!", 1, 5), 1);
	TAP_CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 6);
	// A new file of the same name is another file.
	touch("u");
	TAP_CHECK(ino_of("u") != st.st_ino);
	close(fd);
}

static void test_rmdir(void)
{
	enter_tmpdir("fs_namespace");
	TAP_REQUIRE(mkdir("d", 0755) == 0);
	touch("d/f");
	touch("f");
	CHECK_ERR(rmdir("d"), ENOTEMPTY);
	CHECK_ERR(rmdir("d/."), EINVAL);
	CHECK_ERR(rmdir("."), EINVAL);
	CHECK_ERR(rmdir("d/.."), ENOTEMPTY);
	CHECK_ERR(rmdir("f"), ENOTDIR);
	CHECK_ERR(rmdir("f/"), ENOTDIR);
	CHECK_ERR(rmdir("nope"), ENOENT);
	CHECK_ERR(unlink("d"), EISDIR);
	CHECK_ERR(unlink("f/"), ENOTDIR);
	TAP_CHECK_EQ(unlink("d/f"), 0);
	TAP_CHECK_EQ(rmdir("d/"), 0);
	CHECK_ERR(mkdir("f", 0755), EEXIST);
}

static void test_link_counts(void)
{
	enter_tmpdir("fs_namespace");
	TAP_REQUIRE(mkdir("d", 0755) == 0);
	TAP_CHECK_EQ(nlink_of("d"), 2);
	TAP_REQUIRE(mkdir("d/a", 0755) == 0);
	TAP_REQUIRE(mkdir("d/b", 0755) == 0);
	touch("d/f");
	TAP_CHECK_EQ(nlink_of("d"), 4); // 2 + subdirectories; files do not count
	TAP_CHECK_EQ(rmdir("d/a"), 0);
	TAP_CHECK_EQ(nlink_of("d"), 3);
	TAP_CHECK_EQ(nlink_of("d/f"), 1);
	TAP_CHECK_EQ(link("d/f", "d/g"), 0);
	TAP_CHECK_EQ(nlink_of("d/f"), 2);
	TAP_CHECK_EQ(unlink("d/g"), 0);
	TAP_CHECK_EQ(nlink_of("d/f"), 1);
	CHECK_ERR(link("d/b", "d/c"), EPERM); // no hard links to directories
}

// --- getdents64 --------------------------------------------------------------------------------

struct dirent64_hdr {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

#define MANY 300

// Count the entries of one getdents64 result and mark each fileNNN among them in seen.
static int mark_seen(const char *buf, long n, int *seen)
{
	int entries = 0;

	for (long off = 0; off < n; entries++) {
		const struct dirent64_hdr *de = (const struct dirent64_hdr *)(buf + off);
		int i;

		if (sscanf(de->d_name, "file%d", &i) == 1 && i >= 0 && i < MANY)
			seen[i]++;
		off += de->d_reclen;
	}
	return entries;
}

// Read the whole directory with getdents64 buffers of size bytes; mark each fileNNN seen.
// Returns the number of entries, or -1 after a failed check.
static int read_all(int fd, size_t size, int *seen)
{
	char buf[4096];
	int entries = 0;
	long n;

	TAP_REQUIRE(lseek(fd, 0, SEEK_SET) == 0);
	while ((n = syscall(SYS_getdents64, fd, buf, size)) > 0)
		entries += mark_seen(buf, n, seen);
	TAP_CHECK_EQ(n, 0);
	return n == 0 ? entries : -1;
}

// A directory "d" with MANY files file0... in a fresh tmpdir, opened.
static int many_files_dir(void)
{
	char name[32];
	int fd;

	enter_tmpdir("fs_namespace");
	TAP_REQUIRE(mkdir("d", 0755) == 0);
	for (int i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "d/file%d", i);
		touch(name);
	}
	fd = open("d", O_RDONLY | O_DIRECTORY);
	TAP_REQUIRE(fd >= 0);
	return fd;
}

static void test_getdents_many(void)
{
	size_t sizes[] = { 40, 64, 100, 333, 4096 };
	int fd = many_files_dir();
	char name[32];

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		int seen[MANY] = { 0 }, bad = 0;

		TAP_CHECK_EQ(read_all(fd, sizes[s], seen), MANY + 2);
		for (int i = 0; i < MANY; i++)
			bad += seen[i] != 1;
		TAP_CHECK_EQ(bad, 0);
	}
	// Too small for one entry: EINVAL, and nothing is consumed.
	TAP_REQUIRE(lseek(fd, 0, SEEK_SET) == 0);
	CHECK_ERR(syscall(SYS_getdents64, fd, name, 10), EINVAL);
	TAP_CHECK_EQ(lseek(fd, 0, SEEK_CUR), 0);
	CHECK_ERR(read(fd, name, sizeof(name)), EISDIR);
	close(fd);
}

static void test_getdents_changing(void)
{
	int seen[MANY] = { 0 }, fd = many_files_dir(), bad = 0;
	char buf[512], name[32];
	long n;

	// Remove odd entries and add new ones while reading: every even entry, which
	// survives, must be seen exactly once.
	for (int round = 0; (n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0; round++) {
		mark_seen(buf, n, seen);
		if (round >= 10)
			continue; // a reader may see new entries: stop making them
		snprintf(name, sizeof(name), "d/file%d", (round * 37) % MANY | 1);
		unlink(name);
		snprintf(name, sizeof(name), "d/new%d", round);
		touch(name);
	}
	TAP_CHECK_EQ(n, 0);
	for (int i = 0; i < MANY; i += 2)
		bad += seen[i] != 1;
	TAP_CHECK_EQ(bad, 0);
	close(fd);
}

static const struct tap_test tests[] = {
	{ "lookup: trailing slashes, empty path, O_DIRECTORY, \".\" and \"..\" at the root",
	  test_lookup_basics },
	{ "lookup: symlink loops, 40 links, O_NOFOLLOW", test_lookup_symlinks },
	{ "lookup: *at() with directory, file, bad and AT_FDCWD descriptors", test_lookup_at },
	{ "rename of files: over a file, onto itself, between links of one file",
	  test_rename_files },
	{ "rename of directories: into itself, over empty and full ones, link counts",
	  test_rename_dirs },
	{ "an unlinked open file keeps its data until closed", test_unlink_open_file },
	{ "rmdir and unlink errors", test_rmdir },
	{ "link counts of directories and files", test_link_counts },
	{ "getdents64 over 300 entries with small buffers", test_getdents_many },
	{ "getdents64 while entries come and go", test_getdents_changing },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
