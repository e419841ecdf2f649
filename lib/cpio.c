// cpio "newc" archive parsing (include/trapeze/cpio.h). The archive may come from anyone
// who can hand the kernel a boot module, so every length is checked against the bytes
// actually present before it is used, with subtractions that cannot wrap.

#include <trapeze/compiler.h>
#include <trapeze/cpio.h>
#include <trapeze/string.h>
#include <uapi/errno.h>

#define CPIO_FIELD_DIGITS 8
#define CPIO_ALIGN 4

// Field order in the header, after the magic.
enum cpio_field {
	CPIO_INO,
	CPIO_MODE,
	CPIO_UID,
	CPIO_GID,
	CPIO_NLINK,
	CPIO_MTIME,
	CPIO_FILESIZE,
	CPIO_DEVMAJOR,
	CPIO_DEVMINOR,
	CPIO_RDEVMAJOR,
	CPIO_RDEVMINOR,
	CPIO_NAMESIZE,
	CPIO_CHECK,
	CPIO_NR_FIELDS,
};

_Static_assert(sizeof(CPIO_NEWC_MAGIC) - 1 + CPIO_NR_FIELDS * CPIO_FIELD_DIGITS ==
		       CPIO_NEWC_HEADER_LEN,
	       "newc header layout");

// Decode 8 hex digits (either case); -EINVAL if any is not a hex digit. strtoul is no use
// here: it would accept a sign, spaces or a "0x" prefix, and stop silently at junk.
static int cpio_parse_hex(const char *s, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < CPIO_FIELD_DIGITS; i++) {
		char c = s[i];
		uint32_t d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -EINVAL;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

// Check the magic and decode every field of the header at hdr (CPIO_NEWC_HEADER_LEN bytes).
static int cpio_parse_header(const char *hdr, uint32_t fields[CPIO_NR_FIELDS])
{
	const char *p = hdr + sizeof(CPIO_NEWC_MAGIC) - 1;

	if (memcmp(hdr, CPIO_NEWC_MAGIC, sizeof(CPIO_NEWC_MAGIC) - 1) != 0)
		return -EINVAL;
	for (int i = 0; i < CPIO_NR_FIELDS; i++, p += CPIO_FIELD_DIGITS) {
		if (cpio_parse_hex(p, &fields[i]) < 0)
			return -EINVAL;
	}
	return 0;
}

static void cpio_fill_entry(struct cpio_entry *out, const uint32_t f[CPIO_NR_FIELDS])
{
	out->namelen = f[CPIO_NAMESIZE] - 1;
	out->mode = f[CPIO_MODE];
	out->uid = f[CPIO_UID];
	out->gid = f[CPIO_GID];
	out->nlink = f[CPIO_NLINK];
	out->mtime = f[CPIO_MTIME];
	out->size = f[CPIO_FILESIZE];
	out->ino = f[CPIO_INO];
	out->dev_major = f[CPIO_DEVMAJOR];
	out->dev_minor = f[CPIO_DEVMINOR];
	out->rdev_major = f[CPIO_RDEVMAJOR];
	out->rdev_minor = f[CPIO_RDEVMINOR];
}

// Bytes from off up to the next multiple of CPIO_ALIGN (0 to 3).
static size_t cpio_pad(size_t off)
{
	return (CPIO_ALIGN - off % CPIO_ALIGN) % CPIO_ALIGN;
}

int cpio_next(const void *archive, size_t len, size_t *offset, struct cpio_entry *out)
{
	const char *base = archive;
	size_t off = *offset, namesize, name_end, data_off;
	uint32_t f[CPIO_NR_FIELDS];

	// Every check below keeps off <= len, so len - off never wraps.
	if (off > len || len - off < CPIO_NEWC_HEADER_LEN)
		return -EINVAL;
	if (cpio_parse_header(base + off, f) < 0)
		return -EINVAL;
	namesize = f[CPIO_NAMESIZE];
	off += CPIO_NEWC_HEADER_LEN;
	if (namesize == 0 || namesize > len - off)
		return -EINVAL;
	out->name = base + off;
	// The name is exactly namesize - 1 bytes and its NUL: no NUL inside, one at the end.
	if (base[off + namesize - 1] != '\0' || memchr(out->name, '\0', namesize - 1))
		return -EINVAL;
	cpio_fill_entry(out, f);
	// Padding cut off at the very end of the archive is forgiven, here and after the data:
	// an entry is complete without it, and a later call reports the missing trailer.
	name_end = off + namesize;
	data_off = MIN(name_end + cpio_pad(name_end), len);
	out->data = base + data_off;
	if (namesize == sizeof(CPIO_TRAILER_NAME) &&
	    memcmp(out->name, CPIO_TRAILER_NAME, sizeof(CPIO_TRAILER_NAME)) == 0) {
		*offset = data_off;
		return 0;
	}
	if (out->size > len - data_off)
		return -EINVAL;
	off = data_off + out->size;
	*offset = MIN(off + cpio_pad(off), len);
	return 1;
}
