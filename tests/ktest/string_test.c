// Unit tests for lib/string.c: the memory routines (including overlapping memmove in both
// directions and at word-unaligned addresses), the string routines and number parsing.

#include <trapeze/ktest.h>
#include <trapeze/string.h>

#define BUF_LEN 96

// Fill buf with a pattern whose every byte differs from its neighbours.
static void pattern_fill(unsigned char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)(i * 7 + 1);
}

KTEST(string_memcpy_memset, "string: memcpy and memset, lengths 0 to 40")
{
	unsigned char src[BUF_LEN], dst[BUF_LEN];

	pattern_fill(src, sizeof(src));
	for (size_t n = 0; n <= 40; n++) {
		memset(dst, 0xee, sizeof(dst));
		KT_EXPECT(t, memcpy(dst + 3, src + 5, n) == dst + 3);
		KT_EXPECT(t, memcmp(dst + 3, src + 5, n) == 0);
		KT_EXPECT(t, dst[2] == 0xee && dst[3 + n] == 0xee);

		KT_EXPECT(t, memset(dst + 1, 0x1a5, n) == dst + 1); // only the low byte counts
		KT_EXPECT(t, memchr(dst + 1, 0xa5, n) == (n ? dst + 1 : NULL));
		for (size_t i = 1; i <= n; i++)
			KT_EXPECT(t, dst[i] == 0xa5);
		KT_EXPECT(t, dst[0] == 0xee && dst[n + 1] != 0xa5);
	}
}

// Check memmove(buf + d, buf + s, n) against a byte-at-a-time copy through a temporary.
static bool memmove_matches(size_t d, size_t s, size_t n)
{
	unsigned char buf[BUF_LEN], want[BUF_LEN], tmp[BUF_LEN];

	pattern_fill(buf, sizeof(buf));
	pattern_fill(want, sizeof(want));
	for (size_t i = 0; i < n; i++)
		tmp[i] = want[s + i];
	for (size_t i = 0; i < n; i++)
		want[d + i] = tmp[i];
	return memmove(buf + d, buf + s, n) == buf + d && memcmp(buf, want, sizeof(buf)) == 0;
}

KTEST(string_memmove_overlap, "string: memmove with overlap in both directions")
{
	static const size_t lens[] = { 0, 1, 7, 8, 9, 16, 31, 40 };
	static const size_t offs[] = { 0, 1, 3, 8, 13, 20 };

	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		for (size_t a = 0; a < ARRAY_SIZE(offs); a++) {
			for (size_t b = 0; b < ARRAY_SIZE(offs); b++)
				KT_EXPECT(t, memmove_matches(offs[a] + 30, offs[b] + 30, lens[i]));
		}
	}
	KT_EXPECT(t, memmove_matches(1, 0, BUF_LEN - 1)); // dst just above src, long copy
	KT_EXPECT(t, memmove_matches(0, 1, BUF_LEN - 1));
}

KTEST(string_memcmp_memchr, "string: memcmp compares unsigned bytes; memchr")
{
	KT_EXPECT(t, memcmp("abc", "abd", 3) < 0);
	KT_EXPECT(t, memcmp("abd", "abc", 3) > 0);
	KT_EXPECT(t, memcmp("abc", "abd", 2) == 0);
	KT_EXPECT(t, memcmp("x", "y", 0) == 0);
	KT_EXPECT(t, memcmp("\x80", "\x7f", 1) > 0);

	static const char s[] = "hello\0world";
	KT_EXPECT(t, memchr(s, 'o', sizeof(s)) == s + 4);
	KT_EXPECT(t, memchr(s, 'w', sizeof(s)) == s + 6); // past the NUL
	KT_EXPECT(t, memchr(s, 'w', 6) == NULL);
	KT_EXPECT(t, memchr(s, '\0', sizeof(s)) == s + 5);
}

KTEST(string_strlen_strcmp, "string: strlen, strnlen, strcmp, strncmp")
{
	KT_EXPECT(t, strlen("") == 0);
	KT_EXPECT(t, strlen("trapeze") == 7);
	KT_EXPECT(t, strnlen("trapeze", 3) == 3);
	KT_EXPECT(t, strnlen("trapeze", 100) == 7);
	KT_EXPECT(t, strnlen("", 0) == 0);

	KT_EXPECT(t, strcmp("abc", "abc") == 0);
	KT_EXPECT(t, strcmp("abc", "abd") < 0);
	KT_EXPECT(t, strcmp("abc", "ab") > 0);
	KT_EXPECT(t, strcmp("", "a") < 0);
	KT_EXPECT(t, strcmp("\xff", "a") > 0); // bytes compare as unsigned

	KT_EXPECT(t, strncmp("abcx", "abcy", 3) == 0);
	KT_EXPECT(t, strncmp("abcx", "abcy", 4) < 0);
	KT_EXPECT(t, strncmp("ab", "abc", 5) < 0);
	KT_EXPECT(t, strncmp("ab\0x", "ab\0y", 4) == 0); // stops at the NUL
	KT_EXPECT(t, strncmp("a", "b", 0) == 0);
}

KTEST(string_strchr_strlcpy, "string: strchr, strrchr, strlcpy")
{
	static const char s[] = "a/b/c";
	char buf[8];

	KT_EXPECT(t, strchr(s, '/') == s + 1);
	KT_EXPECT(t, strrchr(s, '/') == s + 3);
	KT_EXPECT(t, strchr(s, 'x') == NULL && strrchr(s, 'x') == NULL);
	KT_EXPECT(t, strchr(s, '\0') == s + 5 && strrchr(s, '\0') == s + 5);

	memset(buf, 'X', sizeof(buf));
	KT_EXPECT(t, strlcpy(buf, "abcdefghij", 5) == 10);
	KT_EXPECT(t, strcmp(buf, "abcd") == 0 && buf[5] == 'X');
	KT_EXPECT(t, strlcpy(buf, "hi", sizeof(buf)) == 2 && strcmp(buf, "hi") == 0);
	buf[0] = 'X';
	KT_EXPECT(t, strlcpy(buf, "hi", 0) == 2 && buf[0] == 'X');
	KT_EXPECT(t, strlcpy(buf, "hi", 1) == 2 && buf[0] == '\0');
}

// strtoul(s, &end, base) == v with end at s + used.
static bool strtoul_is(const char *s, int base, unsigned long v, size_t used)
{
	char *end;

	return strtoul(s, &end, base) == v && end == s + used;
}

static bool strtol_is(const char *s, int base, long v, size_t used)
{
	char *end;

	return strtol(s, &end, base) == v && end == s + used;
}

KTEST(string_strtoul_bases, "string: strtoul in bases 0, 8, 10, 16 and 36")
{
	KT_EXPECT(t, strtoul_is("1234", 10, 1234, 4));
	KT_EXPECT(t, strtoul_is("1234", 0, 1234, 4));
	KT_EXPECT(t, strtoul_is("0x1F", 0, 31, 4));
	KT_EXPECT(t, strtoul_is("0x1f", 16, 31, 4));
	KT_EXPECT(t, strtoul_is("1f", 16, 31, 2));
	KT_EXPECT(t, strtoul_is("0755", 0, 0755, 4));
	KT_EXPECT(t, strtoul_is("0755", 10, 755, 4));
	KT_EXPECT(t, strtoul_is("789", 8, 7, 1));
	KT_EXPECT(t, strtoul_is("08", 0, 0, 1)); // octal: '8' is not a digit
	KT_EXPECT(t, strtoul_is("0", 0, 0, 1));
	KT_EXPECT(t, strtoul_is("0x", 0, 0, 1)); // "0", then an 'x' that is not used
	KT_EXPECT(t, strtoul_is("0xg", 16, 0, 1));
	KT_EXPECT(t, strtoul_is("101", 2, 5, 3));
	KT_EXPECT(t, strtoul_is("zZ", 36, 35 * 36 + 35, 2));
	KT_EXPECT(t, strtoul_is("  +42 rest", 10, 42, 5));
	KT_EXPECT(t, strtoul_is("18446744073709551615", 10, UINT64_MAX, 20));
	KT_EXPECT(t, strtoul_is("0xffffffffffffffff", 0, UINT64_MAX, 18));
	KT_EXPECT(t, strtoul_is("18446744073709551616", 10, UINT64_MAX, 20)); // saturates
	KT_EXPECT(t, strtoul("12", NULL, 10) == 12);
}

KTEST(string_strtoul_rejects, "string: strtoul with no digits, a sign or a bad base")
{
	KT_EXPECT(t, strtoul_is("", 10, 0, 0));
	KT_EXPECT(t, strtoul_is("xyz", 0, 0, 0));
	KT_EXPECT(t, strtoul_is("  ", 10, 0, 0));
	KT_EXPECT(t, strtoul_is("-1", 10, 0, 0)); // an unsigned number has no '-'
	KT_EXPECT(t, strtoul_is("+", 10, 0, 0));
	KT_EXPECT(t, strtoul_is("12", 1, 0, 0));
	KT_EXPECT(t, strtoul_is("12", 37, 0, 0));
}

KTEST(string_strtol, "string: strtol signs and saturation")
{
	KT_EXPECT(t, strtol_is("-42", 10, -42, 3));
	KT_EXPECT(t, strtol_is("+42", 10, 42, 3));
	KT_EXPECT(t, strtol_is("-0x10", 0, -16, 5));
	KT_EXPECT(t, strtol_is("9223372036854775807", 10, INT64_MAX, 19));
	KT_EXPECT(t, strtol_is("-9223372036854775808", 10, INT64_MIN, 20));
	KT_EXPECT(t, strtol_is("9223372036854775808", 10, INT64_MAX, 19));
	KT_EXPECT(t, strtol_is("-9223372036854775809", 10, INT64_MIN, 20));
	KT_EXPECT(t, strtol_is("-", 10, 0, 0));
	KT_EXPECT(t, strtol_is("- 5", 10, 0, 0));
}
