// Regression: a symlink whose target ends in a slash ("f/") names a directory, so following
// it to a regular file is ENOTDIR, as a typed trailing slash is. Trapeze checked only the
// slash at the end of the path the program passed, and opened the file.
#include "tap.h"
#include "fs_tmpdir.h"

#include <fcntl.h>
#include <sys/stat.h>

static void test_link_to_file_slash(void)
{
	struct stat st;

	enter_tmpdir("regress_slash");
	TAP_REQUIRE(close(open("f", O_CREAT | O_WRONLY, 0644)) == 0);
	TAP_REQUIRE(symlink("f/", "l") == 0);
	errno = 0;
	TAP_CHECK_EQ(open("l", O_RDONLY), -1);
	TAP_CHECK_EQ(errno, ENOTDIR);
	errno = 0;
	TAP_CHECK_EQ(stat("l", &st), -1);
	TAP_CHECK_EQ(errno, ENOTDIR);
	// Not followed: the link itself is fine.
	TAP_CHECK_EQ(lstat("l", &st), 0);
	TAP_CHECK(S_ISLNK(st.st_mode));
}

static void test_link_to_dir_slash(void)
{
	struct stat st;
	int fd;

	enter_tmpdir("regress_slash");
	TAP_REQUIRE(mkdir("d", 0755) == 0);
	TAP_REQUIRE(symlink("d/", "l") == 0);
	TAP_CHECK_EQ(stat("l", &st), 0);
	TAP_CHECK(S_ISDIR(st.st_mode));
	fd = open("l", O_RDONLY);
	TAP_CHECK(fd >= 0);
	close(fd);
}

static void test_chain_ending_in_slash(void)
{
	enter_tmpdir("regress_slash");
	TAP_REQUIRE(close(open("f", O_CREAT | O_WRONLY, 0644)) == 0);
	TAP_REQUIRE(symlink("f/", "l1") == 0);
	TAP_REQUIRE(symlink("l1", "l2") == 0);
	errno = 0;
	TAP_CHECK_EQ(open("l2", O_RDONLY), -1);
	TAP_CHECK_EQ(errno, ENOTDIR);
	// A slash in the middle of a target is just a separator.
	TAP_REQUIRE(mkdir("d", 0755) == 0);
	TAP_REQUIRE(close(open("d/g", O_CREAT | O_WRONLY, 0644)) == 0);
	TAP_REQUIRE(symlink("d//g", "l3") == 0);
	TAP_CHECK_EQ(access("l3", F_OK), 0);
}

static const struct tap_test tests[] = {
	{ "a link to \"f/\" with f a file is ENOTDIR when followed", test_link_to_file_slash },
	{ "a link to \"d/\" with d a directory works", test_link_to_dir_slash },
	{ "a chain of links ending in \"f/\" is ENOTDIR", test_chain_ending_in_slash },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
