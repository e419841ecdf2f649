// Regression: rename(2) of a name onto itself (or onto another link of the same file)
// does nothing and succeeds, whatever the file is. Trapeze checked the target first, so
// rename("d", "d") of a directory with entries failed with ENOTEMPTY.
#include "tap.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define RENAME_NOREPLACE 1 // <linux/fs.h>; musl has no renameat2() wrapper

static void test_full_directory_onto_itself(void)
{
	char dir[] = "/tmp/regress_renameXXXXXX", sub[64], file[80];
	struct stat st;

	TAP_REQUIRE(mkdtemp(dir) != NULL);
	snprintf(sub, sizeof(sub), "%s/d", dir);
	snprintf(file, sizeof(file), "%s/d/f", dir);
	TAP_REQUIRE(mkdir(sub, 0755) == 0);
	TAP_REQUIRE(close(open(file, O_CREAT | O_WRONLY, 0644)) == 0);
	TAP_CHECK_EQ(rename(sub, sub), 0);
	TAP_CHECK_EQ(rename(dir, dir), 0);
	TAP_CHECK_EQ(stat(file, &st), 0);
	// RENAME_NOREPLACE still refuses: the target exists.
	errno = 0;
	TAP_CHECK_EQ(syscall(SYS_renameat2, AT_FDCWD, sub, AT_FDCWD, sub, RENAME_NOREPLACE), -1);
	TAP_CHECK_EQ(errno, EEXIST);
	unlink(file);
	rmdir(sub);
	rmdir(dir);
}

static const struct tap_test tests[] = {
	{ "rename of a directory with entries onto itself succeeds",
	  test_full_directory_onto_itself },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
