// Regression: creating names the way Linux does.
// - open(O_CREAT) through a dangling symlink creates the file the link names (Trapeze
//   failed with ENOENT); with O_EXCL it is EEXIST, with O_NOFOLLOW ELOOP.
// - open(O_CREAT) of an existing directory is EISDIR even for O_RDONLY (Trapeze opened it).
// - symlink() and link() to a new name with a trailing slash are ENOENT, EEXIST when the
//   name exists (Trapeze created "name").
#include "tap.h"
#include "fs_tmpdir.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

static void test_creat_through_dangling_link(void)
{
	struct stat st;
	char buf[8] = { 0 };
	int fd;

	enter_tmpdir("regress_creat");
	TAP_REQUIRE(mkdir("d", 0755) == 0);
	TAP_REQUIRE(symlink("target", "d/link") == 0); // relative to the link's directory
	fd = open("d/link", O_CREAT | O_WRONLY, 0600);
	TAP_REQUIRE(fd >= 0);
	TAP_CHECK_EQ(write(fd, "hi", 2), 2);
	close(fd);
	TAP_CHECK_EQ(stat("d/target", &st), 0);
	TAP_CHECK(S_ISREG(st.st_mode));
	TAP_CHECK_EQ(st.st_size, 2);
	TAP_CHECK_EQ(lstat("d/link", &st), 0);
	TAP_CHECK(S_ISLNK(st.st_mode));
	fd = open("d/link", O_RDONLY);
	TAP_CHECK(fd >= 0);
	TAP_CHECK_EQ(read(fd, buf, sizeof(buf)), 2);
	TAP_CHECK_STR(buf, "hi");
	close(fd);
}

static void test_creat_through_link_chain(void)
{
	char cwd[PATH_MAX], abs[PATH_MAX + 16];
	int fd;

	enter_tmpdir("regress_creat");
	TAP_REQUIRE(getcwd(cwd, sizeof(cwd)) != NULL);
	snprintf(abs, sizeof(abs), "%s/abs_target", cwd);
	TAP_REQUIRE(symlink(abs, "l1") == 0); // an absolute target
	TAP_REQUIRE(symlink("l1", "l2") == 0);
	fd = open("l2", O_CREAT | O_RDWR, 0600);
	TAP_CHECK(fd >= 0);
	close(fd);
	TAP_CHECK_EQ(access("abs_target", F_OK), 0);
}

static void test_creat_link_loop(void)
{
	enter_tmpdir("regress_creat");
	TAP_REQUIRE(symlink("b", "a") == 0);
	TAP_REQUIRE(symlink("a", "b") == 0);
	errno = 0;
	TAP_CHECK_EQ(open("a", O_CREAT | O_WRONLY, 0600), -1);
	TAP_CHECK_EQ(errno, ELOOP);
}

static void test_creat_excl_nofollow_on_link(void)
{
	enter_tmpdir("regress_creat");
	TAP_REQUIRE(symlink("nowhere", "dang") == 0);
	errno = 0;
	TAP_CHECK_EQ(open("dang", O_CREAT | O_EXCL | O_WRONLY, 0600), -1);
	TAP_CHECK_EQ(errno, EEXIST);
	errno = 0;
	TAP_CHECK_EQ(open("dang", O_CREAT | O_NOFOLLOW | O_WRONLY, 0600), -1);
	TAP_CHECK_EQ(errno, ELOOP);
	TAP_CHECK_EQ(access("nowhere", F_OK), -1);
}

static void test_creat_on_directory(void)
{
	enter_tmpdir("regress_creat");
	TAP_REQUIRE(mkdir("d", 0755) == 0);
	errno = 0;
	TAP_CHECK_EQ(open("d", O_CREAT | O_RDONLY, 0600), -1);
	TAP_CHECK_EQ(errno, EISDIR);
	errno = 0;
	TAP_CHECK_EQ(open("d/", O_CREAT | O_RDONLY, 0600), -1);
	TAP_CHECK_EQ(errno, EISDIR);
	errno = 0;
	TAP_CHECK_EQ(open("new/", O_CREAT | O_RDONLY, 0600), -1);
	TAP_CHECK_EQ(errno, EISDIR);
	TAP_CHECK_EQ(access("new", F_OK), -1);
}

static void test_symlink_link_trailing_slash(void)
{
	enter_tmpdir("regress_creat");
	TAP_REQUIRE(close(open("f", O_CREAT | O_WRONLY, 0644)) == 0);
	errno = 0;
	TAP_CHECK_EQ(symlink("f", "s/"), -1);
	TAP_CHECK_EQ(errno, ENOENT);
	errno = 0;
	TAP_CHECK_EQ(link("f", "h/"), -1);
	TAP_CHECK_EQ(errno, ENOENT);
	TAP_CHECK_EQ(access("s", F_OK), -1);
	TAP_CHECK_EQ(access("h", F_OK), -1);
	errno = 0;
	TAP_CHECK_EQ(symlink("x", "f/"), -1);
	TAP_CHECK_EQ(errno, EEXIST);
}

static const struct tap_test tests[] = {
	{ "open(O_CREAT) through a dangling symlink creates its target",
	  test_creat_through_dangling_link },
	{ "open(O_CREAT) follows a chain of links to an absolute target",
	  test_creat_through_link_chain },
	{ "open(O_CREAT) on a symlink loop is ELOOP", test_creat_link_loop },
	{ "open(O_CREAT|O_EXCL / O_NOFOLLOW) on a dangling link: EEXIST / ELOOP",
	  test_creat_excl_nofollow_on_link },
	{ "open(O_CREAT) of a directory is EISDIR", test_creat_on_directory },
	{ "symlink() and link() to a name with a trailing slash: ENOENT / EEXIST",
	  test_symlink_link_trailing_slash },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
