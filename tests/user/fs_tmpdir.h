// Scratch space for the file system tests (fs_*, regress_* of fs/). Include after tap.h.
// Each test runs in its own child (tap_run), so what a test makes is removed when that
// child exits.
#ifndef FS_TMPDIR_H
#define FS_TMPDIR_H

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

static char fs_tmpdir[64];

static inline int fs_tmpdir_remove_entry(const char *path, const struct stat *st, int type,
					 struct FTW *ftw)
{
	return remove(path);
}

static inline void fs_tmpdir_remove(void)
{
	if (chdir("/") == 0)
		nftw(fs_tmpdir, fs_tmpdir_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

// Make a fresh directory /tmp/<prefix>XXXXXX, go into it, and remove it (with all that
// is in it) when the test's child exits. Returns its path.
static inline const char *enter_tmpdir(const char *prefix)
{
	snprintf(fs_tmpdir, sizeof(fs_tmpdir), "/tmp/%sXXXXXX", prefix);
	TAP_REQUIRE(mkdtemp(fs_tmpdir) != NULL);
	TAP_REQUIRE(chdir(fs_tmpdir) == 0);
	atexit(fs_tmpdir_remove);
	return fs_tmpdir;
}

// A new regular file in /tmp, open for reading and writing, already unlinked.
static inline int tmpfile_open(void)
{
	char path[] = "/tmp/fs_testXXXXXX";
	int fd = mkstemp(path);

	TAP_REQUIRE(fd >= 0);
	unlink(path);
	return fd;
}

#endif // FS_TMPDIR_H
