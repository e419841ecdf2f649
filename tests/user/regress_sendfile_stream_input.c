// Regression: sendfile from a pipe. Trapeze accepted any readable input and read it until
// count bytes or end of file, so with a pipe (or the terminal) as input it kept waiting
// after the data that was there, and a short read's end of file (^D) was swallowed:
// busybox cat, which tries sendfile first, never saw ^D. Linux refuses inputs that are not
// files with a position: EINVAL (ESPIPE when an offset is given).
#include "tap.h"
#include "fs_tmpdir.h"

#include <fcntl.h>
#include <sys/sendfile.h>

static void test_pipe_input(void)
{
	int p[2], out = tmpfile_open();
	off_t off = 0;
	char buf[8];

	TAP_REQUIRE(pipe(p) == 0);
	TAP_REQUIRE(write(p[1], "hello", 5) == 5);
	errno = 0;
	TAP_CHECK_EQ(sendfile(out, p[0], NULL, 65536), -1);
	TAP_CHECK_EQ(errno, EINVAL);
	errno = 0;
	TAP_CHECK_EQ(sendfile(out, p[0], &off, 65536), -1);
	TAP_CHECK_EQ(errno, ESPIPE);
	// Nothing was taken from the pipe.
	TAP_CHECK_EQ(read(p[0], buf, sizeof(buf)), 5);
}

static void test_file_input(void)
{
	int in = tmpfile_open(), out = tmpfile_open();
	off_t off = 1;

	TAP_REQUIRE(write(in, "0123456789", 10) == 10);
	TAP_REQUIRE(lseek(in, 0, SEEK_SET) == 0);
	TAP_CHECK_EQ(sendfile(out, in, NULL, 65536), 10);
	TAP_CHECK_EQ(sendfile(out, in, NULL, 65536), 0);
	TAP_CHECK_EQ(lseek(in, 0, SEEK_CUR), 10);
	TAP_CHECK_EQ(sendfile(out, in, &off, 4), 4);
	TAP_CHECK_EQ(off, 5);
	TAP_CHECK_EQ(lseek(out, 0, SEEK_CUR), 14);
}

static const struct tap_test tests[] = {
	{ "sendfile from a pipe is EINVAL (ESPIPE with an offset) and takes nothing",
	  test_pipe_input },
	{ "sendfile from a file stops at its end and moves the right position",
	  test_file_input },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
