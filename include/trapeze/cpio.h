// A parser for cpio "newc" archives (the initramfs format), lib/cpio.c. No kernel state,
// no allocation; the entries point into the archive itself.
//
// Each entry is a 110-byte ASCII header: the magic "070701" and 13 fields of 8 hex digits
// (ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize
// check), then the NUL-terminated name padded so that header + name ends on a 4-byte
// boundary, then the file data padded to 4 bytes. Offsets and padding count from the start
// of the archive. An entry named "TRAILER!!!" ends the archive.
//
// Hard links: newc stores the data once, with the last of the entries sharing (dev, ino);
// the others have size 0. Symlinks keep their target as the data.
#pragma once

#include <trapeze/types.h>

#define CPIO_NEWC_MAGIC "070701"
#define CPIO_NEWC_HEADER_LEN 110
#define CPIO_TRAILER_NAME "TRAILER!!!"

struct cpio_entry {
	const char *name; // NUL-terminated, inside the archive
	size_t namelen;   // without the NUL
	uint32_t mode, uid, gid, nlink;
	uint64_t mtime;
	const void *data; // size bytes inside the archive
	size_t size;
	// For hard links (ino, dev) and device nodes (rdev):
	uint32_t ino;
	uint32_t dev_major, dev_minor;
	uint32_t rdev_major, rdev_minor;
};

// Parse the entry at *offset of the archive [archive, archive + len). On success fill *out,
// advance *offset past the entry and its padding, and return 1. At the trailer return 0,
// with *offset just past the trailer's padded name (a concatenated archive, if any,
// follows after zero padding). Return -EINVAL for a malformed archive: bad magic, a field that is not 8 hex
// digits, namesize 0, a name without its NUL at the end (or with one inside), a header,
// name or data running past len, or an archive that ends without a trailer. Padding missing
// only because the archive ends is tolerated. Never reads outside [archive, archive + len).
int cpio_next(const void *archive, size_t len, size_t *offset, struct cpio_entry *out);
