// Freestanding memory and string routines (include/trapeze/string.h). No kernel state;
// every function may run in any context, including interrupt context.
//
// memcpy and memset move 8 bytes per step (`rep movsq` / `rep stosq`) and finish the tail
// with the byte forms: QEMU's TCG emulates each iteration of a `rep` string instruction
// separately, so the quadword forms are about 7 times faster there than `rep movsb`, and
// on real CPUs with ERMS they are as fast. They need no vector registers (the kernel is
// built with -mgeneral-regs-only). Both rely on the direction flag being clear, which the ABI
// guarantees on every function entry.

#include <trapeze/string.h>

// GCC recognises byte loops as memset/memcpy and replaces them with calls to those very
// functions; inside this file that would be infinite recursion.
#define __no_loop_calls __attribute__((optimize("no-tree-loop-distribute-patterns")))

// An 8-byte word that may sit at any address and alias anything (memmove's backward copy).
typedef uint64_t __attribute__((may_alias, aligned(1))) unaligned_u64;

void *memcpy(void *dst, const void *src, size_t n)
{
	void *ret = dst;
	size_t words = n / 8, tail = n % 8;

	__asm__ volatile("rep movsq\n\t"
			 "movq %3, %%rcx\n\t"
			 "rep movsb"
			 : "+D"(dst), "+S"(src), "+c"(words)
			 : "r"(tail)
			 : "memory");
	return ret;
}

void *memset(void *dst, int c, size_t n)
{
	void *ret = dst;
	uint64_t pattern = 0x0101010101010101ULL * (uint8_t)c;
	size_t words = n / 8, tail = n % 8;

	__asm__ volatile("rep stosq\n\t"
			 "movq %3, %%rcx\n\t"
			 "rep stosb"
			 : "+D"(dst), "+c"(words)
			 : "a"(pattern), "r"(tail)
			 : "memory");
	return ret;
}

// memcpy copies forwards, from low to high addresses, and each step reads its 8 bytes
// before writing them, so it is correct whenever dst is below src, even if the ranges
// overlap. Only the case
// dst inside (src, src + n) needs a copy from the top down, done here a word at a time.
__no_loop_calls void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if ((uintptr_t)d <= (uintptr_t)s || (uintptr_t)d - (uintptr_t)s >= n)
		return memcpy(dst, src, n);
	while (n >= 8) {
		n -= 8;
		*(unaligned_u64 *)(d + n) = *(const unaligned_u64 *)(s + n);
	}
	while (n > 0) {
		n--;
		d[n] = s[n];
	}
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (size_t i = 0; i < n; i++) {
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	}
	return 0;
}

void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == (unsigned char)c)
			return (void *)(p + i);
	}
	return NULL;
}

size_t strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return p - s;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

// Bytes compare as unsigned char, as C specifies, so "\xff" sorts after "a".
int strcmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

	while (*x && *x == *y) {
		x++;
		y++;
	}
	return (*x > *y) - (*x < *y);
}

int strncmp(const char *a, const char *b, size_t n)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

	for (; n > 0; n--, x++, y++) {
		if (*x != *y)
			return *x < *y ? -1 : 1;
		if (!*x)
			break;
	}
	return 0;
}

// As in C, the terminating NUL counts as part of the string: strchr(s, 0) finds it.
char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

char *strrchr(const char *s, int c)
{
	const char *last = NULL;

	for (;; s++) {
		if (*s == (char)c)
			last = s;
		if (!*s)
			return (char *)last;
	}
}

size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

// The value of digit character c in bases up to 36, or 36 if it is not a digit at all.
static unsigned int str_digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 36;
}

static bool str_is_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

// Skip a "0x"/"0X" prefix (base 16 or 0) or pick base 8 for a leading 0 (base 0). The
// prefix is consumed only if a hex digit follows it, so "0x" alone parses as 0 and *end
// points at the 'x', as in C.
static const char *str_parse_prefix(const char *s, int *base)
{
	bool hex_prefix = s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
			  str_digit_value(s[2]) < 16;

	if ((*base == 0 || *base == 16) && hex_prefix) {
		*base = 16;
		return s + 2;
	}
	if (*base == 0)
		*base = s[0] == '0' ? 8 : 10;
	return s;
}

// Parse the digits of an unsigned number after any sign. Saturates at ULONG_MAX on overflow
// (still consuming every digit). Sets *ok to whether at least one digit was read.
static unsigned long str_parse_digits(const char *s, const char **end, int base, bool *ok)
{
	unsigned long v = 0;
	bool overflow = false;
	unsigned int d;

	s = str_parse_prefix(s, &base);
	*ok = false;
	for (; (d = str_digit_value(*s)) < (unsigned int)base; s++) {
		*ok = true;
		if (v > (~0UL - d) / base)
			overflow = true;
		else
			v = v * base + d;
	}
	*end = s;
	return overflow ? ~0UL : v;
}

// Like C's strtoul: leading white space, an optional '+', then digits in base 2..36
// (base 0 picks 10, 16 or 8 from the prefix). Unlike C, a '-' sign is not accepted (a
// negative number is not an unsigned one): "-1" parses nothing. With no digits, or an
// unsupported base, returns 0 and *end = s. Overflow saturates at ULONG_MAX.
unsigned long strtoul(const char *s, char **end, int base)
{
	const char *p = s, *stop;
	unsigned long v = 0;
	bool ok = false;

	while (str_is_space(*p))
		p++;
	if (*p == '+')
		p++;
	if (base == 0 || (base >= 2 && base <= 36))
		v = str_parse_digits(p, &stop, base, &ok);
	if (end)
		*end = (char *)(ok ? stop : s);
	return ok ? v : 0;
}

// Like C's strtol: as strtoul, but with an optional '-' too; saturates at LONG_MIN and
// LONG_MAX.
long strtol(const char *s, char **end, int base)
{
	const char *p = s, *stop;
	unsigned long mag = 0, limit;
	bool neg = false, ok = false;

	while (str_is_space(*p))
		p++;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (base == 0 || (base >= 2 && base <= 36))
		mag = str_parse_digits(p, &stop, base, &ok);
	if (end)
		*end = (char *)(ok ? stop : s);
	if (!ok)
		return 0;
	limit = neg ? (unsigned long)INT64_MAX + 1 : (unsigned long)INT64_MAX;
	if (mag > limit)
		mag = limit;
	return neg ? (long)(0 - mag) : (long)mag;
}
