// The Linux x86-64 ABI for file metadata: mode bits, struct stat (newfstatat and friends),
// struct statx, struct linux_dirent64 (getdents64) and the utimensat special values.
// Layouts checked against Linux's arch/x86/include/uapi/asm/stat.h and
// include/uapi/linux/stat.h; the _Static_asserts below pin every offset user space reads.
#pragma once

#include <trapeze/types.h>

// File type, in the top bits of st_mode.
#define S_IFMT 0170000
#define S_IFSOCK 0140000
#define S_IFLNK 0120000
#define S_IFREG 0100000
#define S_IFBLK 0060000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define S_IFIFO 0010000

#define S_ISUID 04000
#define S_ISGID 02000
#define S_ISVTX 01000
#define S_IRWXU 00700
#define S_IRUSR 00400
#define S_IWUSR 00200
#define S_IXUSR 00100
#define S_IRWXG 00070
#define S_IRWXO 00007
#define S_IXGRP 00010
#define S_IXOTH 00001
#define S_IALLUGO 07777 // every permission bit chmod may set
#define S_IXUGO (S_IXUSR | S_IXGRP | S_IXOTH)

#define S_ISREG(m) (((m) & S_IFMT) == S_IFREG)
#define S_ISDIR(m) (((m) & S_IFMT) == S_IFDIR)
#define S_ISLNK(m) (((m) & S_IFMT) == S_IFLNK)
#define S_ISCHR(m) (((m) & S_IFMT) == S_IFCHR)
#define S_ISBLK(m) (((m) & S_IFMT) == S_IFBLK)
#define S_ISFIFO(m) (((m) & S_IFMT) == S_IFIFO)
#define S_ISSOCK(m) (((m) & S_IFMT) == S_IFSOCK)

// Device numbers as glibc's makedev encodes them in a 64-bit dev_t.
#define MKDEV(ma, mi)                                                                  \
	((((uint64_t)(ma) & 0xfffff000ULL) << 32) | (((uint64_t)(ma) & 0xfffULL) << 8) | \
	 (((uint64_t)(mi) & 0xffffff00ULL) << 12) | ((uint64_t)(mi) & 0xffULL))
#define MAJOR(dev) ((uint32_t)((((dev) >> 32) & 0xfffff000U) | (((dev) >> 8) & 0xfffU)))
#define MINOR(dev) ((uint32_t)((((dev) >> 12) & 0xffffff00U) | ((dev) & 0xffU)))

// x86-64 struct stat: 144 bytes.
struct stat {
	uint64_t st_dev;
	uint64_t st_ino;
	uint64_t st_nlink;
	uint32_t st_mode;
	uint32_t st_uid;
	uint32_t st_gid;
	int32_t __pad0;
	uint64_t st_rdev;
	int64_t st_size;
	int64_t st_blksize;
	int64_t st_blocks; // in 512-byte units
	int64_t st_atime;
	int64_t st_atime_nsec;
	int64_t st_mtime;
	int64_t st_mtime_nsec;
	int64_t st_ctime;
	int64_t st_ctime_nsec;
	int64_t __unused[3];
};

_Static_assert(sizeof(struct stat) == 144, "struct stat is 144 bytes on x86-64");
_Static_assert(__builtin_offsetof(struct stat, st_nlink) == 16, "st_nlink");
_Static_assert(__builtin_offsetof(struct stat, st_mode) == 24, "st_mode");
_Static_assert(__builtin_offsetof(struct stat, st_rdev) == 40, "st_rdev");
_Static_assert(__builtin_offsetof(struct stat, st_size) == 48, "st_size");
_Static_assert(__builtin_offsetof(struct stat, st_blocks) == 64, "st_blocks");
_Static_assert(__builtin_offsetof(struct stat, st_atime) == 72, "st_atime");
_Static_assert(__builtin_offsetof(struct stat, st_mtime) == 88, "st_mtime");
_Static_assert(__builtin_offsetof(struct stat, st_ctime) == 104, "st_ctime");

// statx(2).
#define STATX_TYPE 0x001U
#define STATX_MODE 0x002U
#define STATX_NLINK 0x004U
#define STATX_UID 0x008U
#define STATX_GID 0x010U
#define STATX_ATIME 0x020U
#define STATX_MTIME 0x040U
#define STATX_CTIME 0x080U
#define STATX_INO 0x100U
#define STATX_SIZE 0x200U
#define STATX_BLOCKS 0x400U
#define STATX_BASIC_STATS 0x7ffU
#define STATX__RESERVED 0x80000000U

struct statx_timestamp {
	int64_t tv_sec;
	uint32_t tv_nsec;
	int32_t __reserved;
};

struct statx {
	uint32_t stx_mask;
	uint32_t stx_blksize;
	uint64_t stx_attributes;
	uint32_t stx_nlink;
	uint32_t stx_uid;
	uint32_t stx_gid;
	uint16_t stx_mode;
	uint16_t __spare0;
	uint64_t stx_ino;
	uint64_t stx_size;
	uint64_t stx_blocks;
	uint64_t stx_attributes_mask;
	struct statx_timestamp stx_atime, stx_btime, stx_ctime, stx_mtime;
	uint32_t stx_rdev_major, stx_rdev_minor;
	uint32_t stx_dev_major, stx_dev_minor;
	uint64_t stx_mnt_id;
	uint32_t stx_dio_mem_align, stx_dio_offset_align;
	uint64_t __spare3[12];
};

_Static_assert(sizeof(struct statx) == 256, "struct statx is 256 bytes");
_Static_assert(__builtin_offsetof(struct statx, stx_ino) == 32, "stx_ino");
_Static_assert(__builtin_offsetof(struct statx, stx_atime) == 64, "stx_atime");
_Static_assert(__builtin_offsetof(struct statx, stx_rdev_major) == 128, "stx_rdev_major");

// getdents64 records: d_reclen covers the header, the name, its NUL and padding to 8 bytes.
struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off; // the position to lseek to for the entry after this one
	uint16_t d_reclen;
	uint8_t d_type;
	char d_name[];
};

_Static_assert(__builtin_offsetof(struct linux_dirent64, d_name) == 19, "d_name at 19");

#define DT_UNKNOWN 0
#define DT_FIFO 1
#define DT_CHR 2
#define DT_DIR 4
#define DT_BLK 6
#define DT_REG 8
#define DT_LNK 10
#define DT_SOCK 12

// utimensat: a struct timespec pair; tv_nsec may hold one of these instead of a time.
#define UTIME_NOW ((1L << 30) - 1)
#define UTIME_OMIT ((1L << 30) - 2)

// access(2) modes.
#define F_OK 0
#define X_OK 1
#define W_OK 2
#define R_OK 4
