// printf-style formatting into a caller's buffer (include/trapeze/format.h). No kernel
// state and no allocation, so printk, panic and interrupt handlers can all use it.
//
// A conversion is %[flags][width][.precision][length]conversion, as in C99:
//	flags      '-' left-justify, '0' pad numbers with zeroes, ' ' or '+' sign for
//	           non-negative signed numbers, '#' 0x prefix (x, X) or a leading 0 (o)
//	width      minimum field width, a number or '*' (a negative '*' means '-')
//	precision  minimum digits for numbers, maximum bytes for %s; '*' takes an int,
//	           a negative one counts as absent
//	length     hh h l ll z t j
// What C leaves undefined is defined here: an unknown conversion (including %n, which
// would write to memory) is copied to the output as written, a NULL %s prints "(null)"
// (cut by the precision like any string), and %p always prints "0x" and 16 hex digits.

#include <trapeze/format.h>
#include <trapeze/string.h>

#define FMT_LEFT (1u << 0)
#define FMT_ZERO (1u << 1)
#define FMT_SPACE (1u << 2)
#define FMT_PLUS (1u << 3)
#define FMT_ALT (1u << 4)

// Width and precision saturate here: enough for any real use, far from int overflow.
#define FMT_MAX_FIELD 0x10000000

#define PTR_HEX_DIGITS 16

enum fmt_length { LEN_INT, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_T, LEN_J };

struct fmt_spec {
	unsigned int flags;
	int width;
	int prec; // -1: none given
	enum fmt_length length;
};

// The output: bytes past size - 1 are counted but not stored, so that len ends up as the
// length the whole output would have had.
struct fmt_out {
	char *buf;
	size_t size;
	size_t len;
};

static void fmt_put(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void fmt_put_mem(struct fmt_out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fmt_put(o, s[i]);
}

// n copies of c; stores only what fits, so a huge width costs no more than the buffer.
static void fmt_pad(struct fmt_out *o, char c, size_t n)
{
	size_t room = o->len + 1 < o->size ? o->size - 1 - o->len : 0;

	for (size_t i = 0; i < n && i < room; i++)
		o->buf[o->len + i] = c;
	o->len += n;
}

// Parse a decimal field (width or precision), saturating at FMT_MAX_FIELD.
static int fmt_parse_num(const char **fmt)
{
	int v = 0;

	for (; **fmt >= '0' && **fmt <= '9'; (*fmt)++) {
		if (v <= FMT_MAX_FIELD / 10)
			v = v * 10 + (**fmt - '0');
		else
			v = FMT_MAX_FIELD;
	}
	return MIN(v, FMT_MAX_FIELD);
}

static unsigned int fmt_parse_flags(const char **fmt)
{
	static const char flag_chars[] = "-0 +#"; // in the order of the FMT_ bits
	unsigned int flags = 0;
	const char *f;

	while (**fmt && (f = strchr(flag_chars, **fmt))) {
		flags |= 1u << (f - flag_chars);
		(*fmt)++;
	}
	return flags;
}

static enum fmt_length fmt_parse_length(const char **fmt)
{
	const char *p = *fmt;
	enum fmt_length len = LEN_INT;

	switch (*p) {
	case 'h': len = p[1] == 'h' ? LEN_HH : LEN_H; break;
	case 'l': len = p[1] == 'l' ? LEN_LL : LEN_L; break;
	case 'z': len = LEN_Z; break;
	case 't': len = LEN_T; break;
	case 'j': len = LEN_J; break;
	default: return LEN_INT;
	}
	*fmt = p + (len == LEN_HH || len == LEN_LL ? 2 : 1);
	return len;
}

// Parse everything between '%' and the conversion character; *fmt ends on the latter.
static void fmt_parse_spec(const char **fmt, va_list *ap, struct fmt_spec *spec)
{
	spec->flags = fmt_parse_flags(fmt);
	if (**fmt == '*') {
		(*fmt)++;
		spec->width = va_arg(*ap, int);
		if (spec->width < 0) {
			spec->flags |= FMT_LEFT;
			spec->width = spec->width < -FMT_MAX_FIELD ? FMT_MAX_FIELD : -spec->width;
		}
		spec->width = MIN(spec->width, FMT_MAX_FIELD);
	} else {
		spec->width = fmt_parse_num(fmt);
	}
	spec->prec = -1;
	if (**fmt == '.') {
		(*fmt)++;
		if (**fmt == '*') {
			(*fmt)++;
			spec->prec = va_arg(*ap, int);
			spec->prec = spec->prec < 0 ? -1 : MIN(spec->prec, FMT_MAX_FIELD);
		} else {
			spec->prec = fmt_parse_num(fmt);
		}
	}
	spec->length = fmt_parse_length(fmt);
}

static long long fmt_arg_signed(va_list *ap, enum fmt_length len)
{
	switch (len) {
	case LEN_HH: return (signed char)va_arg(*ap, int);
	case LEN_H: return (short)va_arg(*ap, int);
	case LEN_L: return va_arg(*ap, long);
	case LEN_LL: return va_arg(*ap, long long);
	case LEN_Z: return va_arg(*ap, ssize_t);
	case LEN_T: return va_arg(*ap, ptrdiff_t);
	case LEN_J: return va_arg(*ap, intmax_t);
	default: return va_arg(*ap, int);
	}
}

static unsigned long long fmt_arg_unsigned(va_list *ap, enum fmt_length len)
{
	switch (len) {
	case LEN_HH: return (unsigned char)va_arg(*ap, unsigned int);
	case LEN_H: return (unsigned short)va_arg(*ap, unsigned int);
	case LEN_L: return va_arg(*ap, unsigned long);
	case LEN_LL: return va_arg(*ap, unsigned long long);
	case LEN_Z: return va_arg(*ap, size_t);
	case LEN_T: return (size_t)va_arg(*ap, ptrdiff_t);
	case LEN_J: return va_arg(*ap, uintmax_t);
	default: return va_arg(*ap, unsigned int);
	}
}

// Emit a field of body_len bytes: spaces to the width on the side the flags say.
static void fmt_field(struct fmt_out *o, const struct fmt_spec *spec, const char *body,
		      size_t body_len)
{
	size_t pad = (size_t)spec->width > body_len ? spec->width - body_len : 0;

	if (!(spec->flags & FMT_LEFT))
		fmt_pad(o, ' ', pad);
	fmt_put_mem(o, body, body_len);
	if (spec->flags & FMT_LEFT)
		fmt_pad(o, ' ', pad);
}

// Print a number: [spaces] prefix [zeroes] digits [spaces]. The prefix is a sign or 0x;
// zeroes come from the precision, from '#' with %o, or from the '0' flag (which C ignores
// when a precision is given).
static void fmt_number(struct fmt_out *o, const struct fmt_spec *spec, unsigned long long v,
		       unsigned int base, bool upper, const char *prefix)
{
	const char *digit_chars = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char digits[24]; // 22 octal digits hold 64 bits
	size_t nd = 0, np = strlen(prefix), zeroes, total;

	for (unsigned long long x = v; x != 0 || (nd == 0 && spec->prec != 0); x /= base)
		digits[nd++] = digit_chars[x % base];
	zeroes = spec->prec > (int)nd ? spec->prec - nd : 0;
	if ((spec->flags & FMT_ALT) && base == 8 && zeroes == 0 && (nd == 0 || v != 0))
		zeroes = 1;
	total = np + zeroes + nd;
	if ((spec->flags & (FMT_ZERO | FMT_LEFT)) == FMT_ZERO && spec->prec < 0 &&
	    (size_t)spec->width > total) {
		zeroes += spec->width - total;
		total = spec->width;
	}
	if (!(spec->flags & FMT_LEFT) && (size_t)spec->width > total)
		fmt_pad(o, ' ', spec->width - total);
	fmt_put_mem(o, prefix, np);
	fmt_pad(o, '0', zeroes);
	while (nd > 0)
		fmt_put(o, digits[--nd]);
	if ((spec->flags & FMT_LEFT) && (size_t)spec->width > total)
		fmt_pad(o, ' ', spec->width - total);
}

static void fmt_signed(struct fmt_out *o, const struct fmt_spec *spec, va_list *ap)
{
	long long v = fmt_arg_signed(ap, spec->length);
	// Negate in unsigned arithmetic: -INT64_MIN does not fit in a long long.
	unsigned long long mag = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	const char *sign = "";

	if (v < 0)
		sign = "-";
	else if (spec->flags & FMT_PLUS)
		sign = "+";
	else if (spec->flags & FMT_SPACE)
		sign = " ";
	fmt_number(o, spec, mag, 10, false, sign);
}

static void fmt_unsigned(struct fmt_out *o, const struct fmt_spec *spec, va_list *ap, char conv)
{
	unsigned long long v = fmt_arg_unsigned(ap, spec->length);
	const char *prefix = "";

	if ((spec->flags & FMT_ALT) && v != 0 && conv == 'x')
		prefix = "0x";
	if ((spec->flags & FMT_ALT) && v != 0 && conv == 'X')
		prefix = "0X";
	switch (conv) {
	case 'o': fmt_number(o, spec, v, 8, false, prefix); break;
	case 'u': fmt_number(o, spec, v, 10, false, prefix); break;
	default: fmt_number(o, spec, v, 16, conv == 'X', prefix); break;
	}
}

static void fmt_pointer(struct fmt_out *o, const struct fmt_spec *spec, va_list *ap)
{
	struct fmt_spec p = *spec;

	p.prec = PTR_HEX_DIGITS;
	fmt_number(o, &p, (uintptr_t)va_arg(*ap, void *), 16, false, "0x");
}

static void fmt_string(struct fmt_out *o, const struct fmt_spec *spec, va_list *ap)
{
	const char *s = va_arg(*ap, const char *);

	if (!s)
		s = "(null)";
	// strnlen, not strlen: with a precision the string need not be NUL-terminated.
	fmt_field(o, spec, s, strnlen(s, spec->prec < 0 ? SIZE_MAX : (size_t)spec->prec));
}

// Format one conversion; fmt points just past the '%' and is left past the conversion.
// Returns false if the conversion is unknown, leaving fmt on the offending character.
static bool fmt_convert(struct fmt_out *o, const char **fmt, va_list *ap)
{
	struct fmt_spec spec;
	char c;

	fmt_parse_spec(fmt, ap, &spec);
	switch (c = **fmt) {
	case 'd': case 'i': fmt_signed(o, &spec, ap); break;
	case 'u': case 'x': case 'X': case 'o': fmt_unsigned(o, &spec, ap, c); break;
	case 'p': fmt_pointer(o, &spec, ap); break;
	case 's': fmt_string(o, &spec, ap); break;
	case 'c':
		c = (char)va_arg(*ap, int);
		fmt_field(o, &spec, &c, 1);
		break;
	case '%': fmt_put(o, '%'); break;
	default: return false;
	}
	(*fmt)++;
	return true;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = { .buf = buf, .size = size, .len = 0 };
	va_list args;

	// A copy, because the helpers take a va_list by pointer and ap may be an array
	// parameter (which decays to a pointer of the wrong type).
	va_copy(args, ap);
	while (*fmt) {
		const char *start = fmt;

		if (*fmt++ != '%') {
			fmt_put(&o, *start);
			continue;
		}
		if (!fmt_convert(&o, &fmt, &args)) {
			// Unknown: show it as written. A '%' at the very end shows as itself.
			if (*fmt)
				fmt++;
			fmt_put_mem(&o, start, fmt - start);
		}
	}
	va_end(args);
	if (size > 0)
		buf[MIN(o.len, size - 1)] = '\0';
	return o.len > INT32_MAX ? INT32_MAX : (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
