// Unit tests for lib/format.c: every conversion, flags, width and precision, truncation
// and the return value. Expected strings are what C's snprintf prints, except where
// include/trapeze/format.h defines otherwise (%p, NULL %s, unknown conversions).

#include <trapeze/format.h>
#include <trapeze/ktest.h>
#include <trapeze/string.h>

// Format into a buffer and compare with expect, both the text and the returned length.
// On a mismatch the diagnostic shows the format and what came out.
static void __printf(5, 6) fmt_check(struct ktest_ctx *t, const char *file, int line,
				     const char *expect, const char *fmt, ...)
{
	static char msg[256];
	char buf[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n == (int)strlen(expect) && strcmp(buf, expect) == 0)
		return;
	snprintf(msg, sizeof(msg), "\"%s\" gave \"%s\" (%d), expected \"%s\"", fmt, buf, n,
		 expect);
	ktest_fail(t, msg, file, line);
}

#define KT_FMT(t, expect, ...) fmt_check((t), __FILE__, __LINE__, (expect), __VA_ARGS__)

// Hide a value from the compiler, for the cases its format checker rejects on purpose
// (redundant flags, NULL %s) but whose behaviour the kernel still defines.
static const char *opaque(const char *s)
{
	__asm__("" : "+r"(s));
	return s;
}

KTEST(format_integers, "format: %d %i %u %x %X %o")
{
	KT_FMT(t, "0 1 -1 42", "%d %d %d %i", 0, 1, -1, 42);
	KT_FMT(t, "2147483647 -2147483648", "%d %d", INT32_MAX, INT32_MIN);
	KT_FMT(t, "4294967295 0", "%u %u", UINT32_MAX, 0u);
	KT_FMT(t, "ff FF 377 0", "%x %X %o %x", 255u, 255u, 255u, 0u);
	KT_FMT(t, "deadbeef DEADBEEF", "%x %X", 0xdeadbeefu, 0xdeadbeefu);
	KT_FMT(t, "4294967295", "%u", (unsigned int)-1);
	KT_FMT(t, "ffffffff", "%x", -1);
}

KTEST(format_lengths, "format: length modifiers hh h l ll z t j")
{
	KT_FMT(t, "-1 255 -32768 65535", "%hhd %hhu %hd %hu", 255, 255, 32768, 65535);
	KT_FMT(t, "44 ff", "%hhu %hhx", 300, 0x1ff);
	KT_FMT(t, "-9223372036854775808", "%ld", (long)INT64_MIN);
	KT_FMT(t, "-9223372036854775808", "%lld", (long long)INT64_MIN);
	KT_FMT(t, "9223372036854775807", "%lli", (long long)INT64_MAX);
	KT_FMT(t, "18446744073709551615", "%lu", (unsigned long)UINT64_MAX);
	KT_FMT(t, "ffffffffffffffff", "%llx", (unsigned long long)UINT64_MAX);
	KT_FMT(t, "1777777777777777777777", "%lo", (unsigned long)UINT64_MAX);
	KT_FMT(t, "18446744073709551615 -3", "%zu %zd", (size_t)-1, (ssize_t)-3);
	KT_FMT(t, "-4 -5 7", "%td %jd %ju", (ptrdiff_t)-4, (intmax_t)-5, (uintmax_t)7);
}

KTEST(format_width_flags, "format: width, '-', '0', '+', ' ' and '#'")
{
	KT_FMT(t, "[   42][42   ][00042]", "[%5d][%-5d][%05d]", 42, 42, 42);
	KT_FMT(t, "[  -42][-42  ][-0042]", "[%5d][%-5d][%05d]", -42, -42, -42);
	KT_FMT(t, "[+42][ 42][+0][-1]", "[%+d][% d][%+d][% d]", 42, 42, 0, -1);
	KT_FMT(t, "[+42]", opaque("[%+ d]"), 42); // '+' wins over ' '
	KT_FMT(t, "[42   ]", opaque("[%-05d]"), 42); // '-' wins over '0'
	KT_FMT(t, "[0xff][0XFF][0][0377][0]", "[%#x][%#X][%#x][%#o][%#o]", 255u, 255u, 0u, 255u,
	       0u);
	KT_FMT(t, "[0x00ff][  0xff]", "[%#06x][%#6x]", 255u, 255u);
	KT_FMT(t, "[42][1]", "[%1d][%0d]", 42, 1);
	KT_FMT(t, "[42]", "[%u]", 42u);
	KT_FMT(t, "[    -9223372036854775808]", "[%24lld]", (long long)INT64_MIN);
}

KTEST(format_precision, "format: precision on numbers and strings")
{
	KT_FMT(t, "[00042][-00042][   00042]", "[%.5d][%.5d][%8.5d]", 42, -42, 42);
	KT_FMT(t, "[][ ][0]", "[%.0d][%1.0d][%.1d]", 0, 0, 0);
	KT_FMT(t, "[   42]", opaque("[%05.2d]"), 42); // a precision turns off '0'
	KT_FMT(t, "[0x00ff][000377]", "[%#.4x][%#.6o]", 255u, 255u);
	KT_FMT(t, "[0]", "[%#.0o]", 0u);
	KT_FMT(t, "[hel][hello][  hel][hel  ]", "[%.3s][%.10s][%5.3s][%-5.3s]", "hello", "hello",
	       "hello", "hello");
	KT_FMT(t, "[][]", "[%.0s][%.s]", "abc", "abc");
	// A precision bounds the read: the array needs no NUL.
	static const char unterminated[3] = { 'a', 'b', 'c' };
	KT_FMT(t, "[abc]", "[%.3s]", unterminated);
}

KTEST(format_star, "format: '*' width and precision, negative values")
{
	KT_FMT(t, "[   42][42   ]", "[%*d][%*d]", 5, 42, -5, 42);
	KT_FMT(t, "[  007]", "[%*.*d]", 5, 3, 7);
	KT_FMT(t, "[7]", "[%.*d]", -1, 7); // negative precision: as if none
	KT_FMT(t, "[ab]", "[%.*s]", 2, "abcdef");
	KT_FMT(t, "[abcdef]", "[%.*s]", -3, "abcdef");
}

KTEST(format_chars_strings, "format: %c, %s, NULL %s and %%")
{
	KT_FMT(t, "a b", "%c %c", 'a', 'b');
	KT_FMT(t, "[  x][x  ]", "[%3c][%-3c]", 'x', 'x');
	KT_FMT(t, "[hello][  hi][hi  ]", "[%s][%4s][%-4s]", "hello", "hi", "hi");
	KT_FMT(t, "[]", "[%s]", "");
	KT_FMT(t, "(null)", "%s", opaque(NULL));
	KT_FMT(t, "[    (null)]", "[%10s]", opaque(NULL));
	KT_FMT(t, "100%", "100%%");
	KT_FMT(t, "a%b", "a%%b");
}

KTEST(format_pointer, "format: %p is 0x and 16 hex digits")
{
	KT_FMT(t, "0x0000000000000000", "%p", (void *)0);
	KT_FMT(t, "0x00000000deadbeef", "%p", (void *)0xdeadbeefUL);
	KT_FMT(t, "0xffffffff80100000", "%p", (void *)0xffffffff80100000UL);
	KT_FMT(t, "[  0x0000000000000001][0x0000000000000001  ]", "[%20p][%-20p]", (void *)1,
	       (void *)1);
}

// Unknown conversions are shown as written, and never consume memory or write it (%n).
KTEST(format_unknown, "format: unknown conversions are printed as written")
{
	KT_FMT(t, "a%qb %n %", opaque("a%qb %n %"), 0);
}

KTEST(format_truncation, "format: truncation keeps the NUL and returns the full length")
{
	char buf[8];

	memset(buf, 'X', sizeof(buf));
	KT_EXPECT(t, snprintf(buf, 5, "%d", 1234567) == 7);
	KT_EXPECT(t, strcmp(buf, "1234") == 0);
	KT_EXPECT(t, buf[5] == 'X'); // nothing written past size

	memset(buf, 'X', sizeof(buf));
	KT_EXPECT(t, snprintf(buf, 1, "%s", "abc") == 3);
	KT_EXPECT(t, buf[0] == '\0' && buf[1] == 'X');

	memset(buf, 'X', sizeof(buf));
	KT_EXPECT(t, snprintf(buf, 0, "%s", "abc") == 3);
	KT_EXPECT(t, buf[0] == 'X');
	KT_EXPECT(t, snprintf(NULL, 0, "%d-%s", -5, "xyz") == 6);

	memset(buf, 'X', sizeof(buf));
	KT_EXPECT(t, snprintf(buf, sizeof(buf), "%20d", 1) == 20);
	KT_EXPECT(t, strcmp(buf, "       ") == 0);

	memset(buf, 'X', sizeof(buf));
	KT_EXPECT(t, snprintf(buf, sizeof(buf), "%s", "1234567") == 7);
	KT_EXPECT(t, strcmp(buf, "1234567") == 0);
	KT_EXPECT(t, snprintf(buf, sizeof(buf), "%s", "12345678") == 8);
	KT_EXPECT(t, strcmp(buf, "1234567") == 0);
}
