// Unit tests for lib/cpio.c. The archives are built here byte by byte, the way
// `cpio -o -H newc` lays them out, then parsed whole, damaged in one field, or cut short.
// Cut-short archives keep the rest of the valid archive in memory right after len, so a
// parser that read past len would find a well-formed entry there and give itself away.

#include <trapeze/cpio.h>
#include <trapeze/format.h>
#include <trapeze/ktest.h>
#include <trapeze/string.h>
#include <uapi/errno.h>

#define ARCHIVE_MAX 1024
#define FIELD_MODE 1 // field indexes in the header, after the magic
#define FIELD_FILESIZE 6
#define FIELD_NAMESIZE 11
#define S_IFDIR_ 0040000
#define S_IFREG_ 0100000
#define S_IFLNK_ 0120000
#define S_IFCHR_ 0020000

struct test_file {
	const char *name;
	uint32_t mode;
	const char *data;
	uint32_t rdev_major, rdev_minor;
};

// Name lengths 1, 3, 8, 4, 9 and 3 leave every possible amount of name padding.
static const struct test_file test_files[] = {
	{ ".", S_IFDIR_ | 0755, "", 0, 0 },
	{ "etc", S_IFDIR_ | 0755, "", 0, 0 },
	{ "etc/motd", S_IFREG_ | 0644, "hello, trapeze\n", 0, 0 },
	{ "link", S_IFLNK_ | 0777, "etc/motd", 0, 0 },
	{ "etc/empty", S_IFREG_ | 0600, "", 0, 0 },
	{ "tty", S_IFCHR_ | 0620, "", 4, 1 },
};

static char archive[ARCHIVE_MAX];

static size_t zero_pad(size_t off)
{
	while (off % 4)
		archive[off++] = '\0';
	return off;
}

// Append one entry at off; returns the offset after it. Fields other than the ones the
// test checks get distinct values (ino = index + 1, uid 1000, gid 100, mtime).
static size_t archive_put(size_t off, int index, const char *name, uint32_t mode,
			  const char *data, uint32_t rdev_major, uint32_t rdev_minor)
{
	size_t namesize = strlen(name) + 1, size = strlen(data);

	snprintf(archive + off, CPIO_NEWC_HEADER_LEN + 1,
		 "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", index + 1,
		 mode, 1000, 100, 1, 0x5f5e1000, size, 8, 1, rdev_major, rdev_minor, namesize, 0);
	off += CPIO_NEWC_HEADER_LEN;
	memcpy(archive + off, name, namesize);
	off = zero_pad(off + namesize);
	memcpy(archive + off, data, size);
	return zero_pad(off + size);
}

// Build the test archive; returns its length. Without a trailer if trailer is false.
static size_t archive_build(bool trailer)
{
	size_t off = 0;

	memset(archive, 0xaa, sizeof(archive));
	for (size_t i = 0; i < ARRAY_SIZE(test_files); i++) {
		const struct test_file *f = &test_files[i];

		off = archive_put(off, i, f->name, f->mode, f->data, f->rdev_major, f->rdev_minor);
	}
	if (trailer)
		off = archive_put(off, 0, CPIO_TRAILER_NAME, 0, "", 0, 0);
	return off;
}

// Overwrite header field index of the entry at hdr with 8 characters.
static void field_set(size_t hdr, int index, const char *digits)
{
	memcpy(archive + hdr + 6 + index * 8, digits, 8);
}

// Walk the archive [archive, archive + len); returns what ended the walk (0 or -errno) and
// checks that every entry handed out lies inside len.
static int archive_walk(struct ktest_ctx *t, size_t len, int *entries)
{
	size_t off = 0;
	struct cpio_entry e;
	int ret;

	*entries = 0;
	while ((ret = cpio_next(archive, len, &off, &e)) == 1) {
		size_t name_at = e.name - archive, data_at = (const char *)e.data - archive;

		KT_EXPECT(t, name_at + e.namelen < len && e.name[e.namelen] == '\0');
		KT_EXPECT(t, data_at <= len && e.size <= len - data_at);
		KT_EXPECT(t, off <= len);
		if (++*entries > (int)ARRAY_SIZE(test_files))
			return -ELOOP;
	}
	return ret;
}

static bool entry_matches(const struct cpio_entry *e, const struct test_file *f, int index)
{
	size_t size = strlen(f->data);

	return e->namelen == strlen(f->name) && strcmp(e->name, f->name) == 0 &&
	       e->mode == f->mode && e->uid == 1000 && e->gid == 100 && e->nlink == 1 &&
	       e->mtime == 0x5f5e1000 && e->size == size && memcmp(e->data, f->data, size) == 0 &&
	       e->ino == (uint32_t)index + 1 && e->dev_major == 8 && e->dev_minor == 1 &&
	       e->rdev_major == f->rdev_major && e->rdev_minor == f->rdev_minor;
}

KTEST(cpio_parses_good_archive, "cpio: every entry and field of a good archive")
{
	size_t len = archive_build(true), off = 0;
	struct cpio_entry e;

	for (size_t i = 0; i < ARRAY_SIZE(test_files); i++) {
		KT_EXPECT(t, cpio_next(archive, len, &off, &e) == 1);
		KT_EXPECT(t, entry_matches(&e, &test_files[i], i));
		KT_EXPECT(t, off % 4 == 0);
	}
	KT_EXPECT(t, cpio_next(archive, len, &off, &e) == 0);
	KT_EXPECT(t, off == len);
	// Hex digits may be lowercase too.
	for (size_t i = 0; i < CPIO_NEWC_HEADER_LEN; i++) {
		if (archive[i] >= 'A' && archive[i] <= 'F')
			archive[i] += 'a' - 'A';
	}
	off = 0;
	KT_EXPECT(t, cpio_next(archive, len, &off, &e) == 1);
	KT_EXPECT(t, entry_matches(&e, &test_files[0], 0));
}

KTEST(cpio_rejects_bad_magic, "cpio: bad magic is -EINVAL")
{
	size_t len = archive_build(true), off = 0;
	struct cpio_entry e;

	archive[5] = '2'; // "070702", the crc format, is not newc
	KT_EXPECT(t, cpio_next(archive, len, &off, &e) == -EINVAL);
	archive[5] = '1';
	archive[0] = ' ';
	KT_EXPECT(t, cpio_next(archive, len, &off, &e) == -EINVAL);
	KT_EXPECT(t, off == 0);
}

KTEST(cpio_rejects_bad_hex, "cpio: a header field that is not 8 hex digits is -EINVAL")
{
	static const char *const bad[] = { "0000000g", " 0000001", "-0000001", "0x000001",
					    "0000001\0" };
	size_t len = archive_build(true), off = 0;
	struct cpio_entry e;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		archive_build(true);
		field_set(0, FIELD_MODE, bad[i]);
		KT_EXPECT(t, cpio_next(archive, len, &off, &e) == -EINVAL);
	}
	archive_build(true);
	archive[CPIO_NEWC_HEADER_LEN - 1] = 'z'; // last digit of the check field
	KT_EXPECT(t, cpio_next(archive, len, &off, &e) == -EINVAL);
}

KTEST(cpio_rejects_truncated_header, "cpio: a header cut short is -EINVAL")
{
	size_t len = archive_build(true), off = 0;
	struct cpio_entry e;

	KT_EXPECT(t, cpio_next(archive, 0, &off, &e) == -EINVAL);
	KT_EXPECT(t, cpio_next(archive, CPIO_NEWC_HEADER_LEN - 1, &off, &e) == -EINVAL);
	off = len + 4; // an offset past the end is no better
	KT_EXPECT(t, cpio_next(archive, len, &off, &e) == -EINVAL);
}

KTEST(cpio_rejects_bad_name, "cpio: name past the end, namesize 0, no NUL")
{
	size_t len = archive_build(true), off = 0;
	struct cpio_entry e;

	field_set(0, FIELD_NAMESIZE, "0000FFFF");
	KT_EXPECT(t, cpio_next(archive, len, &off, &e) == -EINVAL);
	field_set(0, FIELD_NAMESIZE, "FFFFFFFF");
	KT_EXPECT(t, cpio_next(archive, len, &off, &e) == -EINVAL);
	field_set(0, FIELD_NAMESIZE, "00000000");
	KT_EXPECT(t, cpio_next(archive, len, &off, &e) == -EINVAL);
	// Entry 2 is "etc/motd" (namesize 9): claim 8 so the last name byte is 'd', not NUL.
	archive_build(true);
	off = 0;
	KT_EXPECT(t, cpio_next(archive, len, &off, &e) == 1);
	KT_EXPECT(t, cpio_next(archive, len, &off, &e) == 1);
	field_set(off, FIELD_NAMESIZE, "00000008");
	KT_EXPECT(t, cpio_next(archive, len, &off, &e) == -EINVAL);
	// A NUL inside the name is malformed too.
	archive_build(true);
	archive[CPIO_NEWC_HEADER_LEN] = '\0';
	field_set(0, FIELD_NAMESIZE, "00000002");
	off = 0;
	KT_EXPECT(t, cpio_next(archive, len, &off, &e) == -EINVAL);
}

KTEST(cpio_rejects_data_past_end, "cpio: data past the end is -EINVAL")
{
	size_t len = archive_build(true), off = 0;
	struct cpio_entry e;

	field_set(0, FIELD_FILESIZE, "00010000");
	KT_EXPECT(t, cpio_next(archive, len, &off, &e) == -EINVAL);
	field_set(0, FIELD_FILESIZE, "FFFFFFFF");
	KT_EXPECT(t, cpio_next(archive, len, &off, &e) == -EINVAL);
}

KTEST(cpio_rejects_missing_trailer, "cpio: an archive without a trailer ends in -EINVAL")
{
	size_t len = archive_build(false);
	int entries, ret;

	ret = archive_walk(t, len, &entries);
	KT_EXPECT(t, ret == -EINVAL);
	KT_EXPECT(t, entries == (int)ARRAY_SIZE(test_files));
}

// Cut the archive at every length: the walk must fail rather than use bytes beyond the
// cut, which still hold the rest of a valid archive.
KTEST(cpio_truncated_everywhere, "cpio: an archive cut at any byte never reads past len")
{
	size_t full = archive_build(true);
	// The trailer's 110 + 11 bytes of header and name end 3 bytes before the padded end.
	size_t trailer_name_end = full - 3;
	int entries, ret;

	for (size_t len = 0; len < full; len++) {
		ret = archive_walk(t, len, &entries);
		if (len >= trailer_name_end)
			KT_EXPECT(t, ret == 0); // only the trailer's padding is missing
		else
			KT_EXPECT(t, ret == -EINVAL);
	}
	KT_EXPECT(t, archive_walk(t, full, &entries) == 0);
	KT_EXPECT(t, entries == (int)ARRAY_SIZE(test_files));
}
