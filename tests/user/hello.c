// The first thing a new kernel must do for user space: let a program write to the console
// through the libc (printf, puts, stderr) and through write(2), with the right return
// values. Everything printed here is a TAP comment ("# ..."), so the TAP stream stays valid.

#include "tap.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void test_printf(void)
{
	int n = printf("# hello from printf, 6 * 7 = %d\n", 6 * 7);

	TAP_CHECK_EQ(n, (int)strlen("# hello from printf, 6 * 7 = 42\n"));
	TAP_CHECK_EQ(fflush(stdout), 0);
	TAP_CHECK(!ferror(stdout));
}

static void test_puts(void)
{
	TAP_CHECK(puts("# hello from puts") >= 0);
	TAP_CHECK_EQ(fflush(stdout), 0);
	TAP_CHECK(!ferror(stdout));
}

static void test_stderr(void)
{
	static const char raw[] = "# hello from write(2, ...)\n";
	int n = fprintf(stderr, "# hello from %s\n", "stderr");

	TAP_CHECK_EQ(n, (int)strlen("# hello from stderr\n"));
	TAP_CHECK(!ferror(stderr));
	TAP_CHECK_EQ(write(STDERR_FILENO, raw, sizeof(raw) - 1), sizeof(raw) - 1);
}

static void test_write_returns_count(void)
{
	static const char msg[] = "# hello from write(1, ...)\n";

	TAP_CHECK_EQ(write(STDOUT_FILENO, msg, sizeof(msg) - 1), sizeof(msg) - 1);
	TAP_CHECK_EQ(write(STDOUT_FILENO, msg, 0), 0);
}

// 4096 bytes in one write(): 32 comment lines of 128 bytes each.
static void test_write_4k(void)
{
	static char buf[4096];
	const int line_len = 128;

	for (int line = 0; line < 32; line++) {
		char *p = buf + line * line_len;

		memset(p, '.', (size_t)line_len);
		memcpy(p, "# 4 KiB write, line ", 20);
		p[20] = (char)('0' + line / 10);
		p[21] = (char)('0' + line % 10);
		p[22] = ' ';
		p[line_len - 1] = '\n';
	}
	TAP_CHECK_EQ(write(STDOUT_FILENO, buf, sizeof(buf)), 4096);
}

static const struct tap_test tests[] = {
	{ "printf reaches the console", test_printf },
	{ "puts reaches the console", test_puts },
	{ "stderr is writable", test_stderr },
	{ "write(1) returns the byte count, 0 for an empty write", test_write_returns_count },
	{ "a 4 KiB write returns 4096", test_write_4k },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
