// The VFS's own structures: superblocks, inodes, dentries, open files, descriptor tables,
// and the operation tables a file system or driver fills in. Other subsystems use
// <trapeze/vfs.h>; file systems and drivers that provide files use this header.
// See docs/vfs.md for the design and the lock rules in one place.
//
// Lock order (outermost first):
//	rename_mutex -> directory i_mutex (parent before child; two unrelated directories
//	in address order) -> file i_mutex -> f_pos_lock is never held with an i_mutex of
//	another inode -> fs->lock -> dcache_lock, files->lock, f_lock (spinlocks, leaves)
// A mutex may sleep; every spinlock here is held for a few instructions and never across
// a user copy; fs->lock is held while a reference to root or cwd is taken (dcache_lock).
#pragma once

#include <trapeze/list.h>
#include <trapeze/mutex.h>
#include <trapeze/sched.h>
#include <trapeze/spinlock.h>
#include <trapeze/types.h>
#include <trapeze/vfs.h>
#include <uapi/fcntl.h>
#include <uapi/stat.h>

#define NAME_MAX 255     // bytes in one path component
#define PATH_MAX 4096    // bytes in a path, including the NUL
#define SYMLOOP_MAX 40   // symlinks followed in one lookup before ELOOP
#define FILES_MAX 1024   // descriptors per table (RLIMIT_NOFILE)
#define IOV_MAX 1024     // iovecs in one readv/writev
#define MAX_RW_COUNT 0x7ffff000L // Linux caps one read/write at this many bytes

struct inode;
struct dentry;
struct file;
struct super_block;
struct dir_context;
struct iov_iter;
struct poll_table;
struct page;

// A point in time, seconds and nanoseconds since the Unix epoch.
struct fs_time {
	int64_t sec;
	int64_t nsec;
};

// The wall clock as an fs_time. Context: any.
struct fs_time fs_time_now(void);


// --- I/O vectors -----------------------------------------------------------------------
// struct iovec is Linux ABI (readv/writev). An iov_iter walks either user iovecs or one
// kernel buffer, so every read/write method serves read(2), readv(2) and kernel_read().
struct iovec {
	void __user *iov_base;
	size_t iov_len;
};

struct iov_iter {
	const struct iovec *iov; // the remaining segments (kernel copy of the user's array)
	unsigned long nr_segs;
	size_t seg_off;  // bytes already used of iov[0]
	size_t count;    // bytes left in all segments
	bool kernel;     // iov_base pointers are kernel addresses
	struct iovec one; // storage for single-segment iterators
};

void iov_iter_init(struct iov_iter *it, const struct iovec *iov, unsigned long nr, size_t count);
void iov_iter_user(struct iov_iter *it, void __user *buf, size_t n);
void iov_iter_kernel(struct iov_iter *it, void *buf, size_t n);
// Copy n bytes from src into the iterator's buffers (a read) / from them into dst (a write)
// and advance. Returns the bytes moved (less than n only when the iterator is exhausted)
// or -EFAULT; after -EFAULT the iterator has advanced over whatever was copied.
long iov_iter_copy_to(struct iov_iter *it, const void *src, size_t n);
long iov_iter_copy_from(struct iov_iter *it, void *dst, size_t n);
long iov_iter_zero(struct iov_iter *it, size_t n);

// --- operation tables ------------------------------------------------------------------

struct super_operations {
	// The last reference to the inode is gone: free the file system's data for it (and,
	// when i_nlink is 0, the file itself). The VFS frees the struct inode afterwards.
	void (*inode_evict)(struct inode *inode);
};

struct inode_operations {
	// Directory operations. Called with dir->i_mutex held; d is a new, unlinked dentry in
	// dir (d->d_inode NULL) that the method instantiates; the VFS links it on success.
	// lookup is NULL for file systems whose dentries are the directory (ramfs).
	int (*lookup)(struct inode *dir, struct dentry *d);
	int (*create)(struct inode *dir, struct dentry *d, mode_t mode);
	int (*mkdir)(struct inode *dir, struct dentry *d, mode_t mode);
	int (*mknod)(struct inode *dir, struct dentry *d, mode_t mode, dev_t rdev);
	int (*symlink)(struct inode *dir, struct dentry *d, const char *target);
	int (*link)(struct dentry *old, struct inode *dir, struct dentry *d);
	// Remove d's name from dir (the VFS has checked type and emptiness rules it can).
	int (*unlink)(struct inode *dir, struct dentry *d);
	int (*rmdir)(struct inode *dir, struct dentry *d);
	// Move od in odir to the name nd in ndir; nd->d_inode is an existing victim or NULL.
	// Called under rename_mutex and both directory locks; the VFS moves the dentry.
	int (*rename)(struct inode *odir, struct dentry *od, struct inode *ndir, struct dentry *nd);
	// Symlinks: copy the target (not NUL-terminated) into buf; return its full length.
	long (*readlink)(struct dentry *d, char *buf, size_t len);
	// Regular files: set the size, freeing or zero-filling data. Called with i_mutex held.
	int (*truncate)(struct inode *inode, uint64_t size);
	// Regular files whose data sits in whole pages (ramfs), for file mappings
	// (mm/filemap.c): the page holding the bytes from idx * PAGE_SIZE, allocated zeroed
	// if the file has a hole there, with a reference for the caller (page_put). NULL when
	// out of memory. Called from page faults with idx inside i_size, WITHOUT i_mutex (the
	// faulting task may hold another file's, or this one's): it may take only
	// i_pages_lock and must not sleep. A file system
	// without it cannot be mapped MAP_SHARED (-ENODEV); MAP_PRIVATE reads its pages.
	struct page *(*get_page)(struct inode *inode, uint64_t idx);
};

// Operations on the names of one file system (super_block.s_d_op), for file systems whose
// dentries are a cache of something that can change behind the VFS's back (procfs).
struct dentry_operations {
	// Path lookup found d, a cached child, and is about to use it: is it still good?
	// Returns 1 (valid), 0 (stale: the VFS invalidates d and its subtree and asks the
	// directory's lookup again, which may say -ENOENT) or -errno. Called with or without
	// the parent's i_mutex; must not take it. Never called for a mount point.
	// Context: process context; may sleep.
	int (*d_revalidate)(struct dentry *d);
};

struct file_operations {
	// Called by open after the struct file is set up; may replace f->f_op (char devices).
	int (*open)(struct inode *inode, struct file *f);
	// The last reference to f is gone.
	void (*release)(struct inode *inode, struct file *f);
	// Move bytes between the file at *pos and the iterator; return the count or -errno.
	// Seekable files are called under f_pos_lock (or with a private pos for pread).
	ssize_t (*read)(struct file *f, struct iov_iter *to, off_t *pos);
	ssize_t (*write)(struct file *f, struct iov_iter *from, off_t *pos);
	// NULL means the file cannot seek (-ESPIPE). Called under f_pos_lock.
	off_t (*lseek)(struct file *f, off_t off, int whence);
	long (*ioctl)(struct file *f, unsigned int cmd, unsigned long arg);
	// Directories: emit entries from ctx->pos on until emit() refuses one.
	int (*readdir)(struct file *f, struct dir_context *ctx);
	// The POLL* events ready now; calls poll_wait() for each wait queue whose wake-up
	// may change the answer. Must not sleep. NULL: always readable and writable.
	unsigned int (*poll)(struct file *f, struct poll_table *pt);
};

// poll(2) events (Linux ABI, include/uapi/asm-generic/poll.h).
struct pollfd {
	int fd;
	short events;
	short revents;
};

// No deadline, for poll_wait_fds.
#define POLL_FOREVER UINT64_MAX

// Wait until one of fds is ready, a signal arrives, or time_ns() reaches deadline (0: one
// pass only; POLL_FOREVER: none). Returns the ready count (revents filled in), 0 at the
// deadline, or -EINTR when a signal ended the wait. fs/poll.c; select is built on it.
long poll_wait_fds(struct pollfd *fds, unsigned int nfds, uint64_t deadline);

#define POLLIN 0x0001
#define POLLPRI 0x0002
#define POLLOUT 0x0004
#define POLLERR 0x0008
#define POLLHUP 0x0010
#define POLLNVAL 0x0020
#define POLLRDNORM 0x0040
#define POLLWRNORM 0x0100

// The wait queues one poll pass registered on (fs/poll.c). NULL entries: not waiting.
struct poll_table {
	struct poll_wait_entry *entries;
	int n, max;
};

// Register the polling task on wq (a no-op when pt is NULL or full).
void poll_wait(struct file *f, struct wait_queue *wq, struct poll_table *pt);

// readdir's consumer. emit() returns false when it has no room for the entry; next is
// the position of the entry after this one (what d_off reports).
struct dir_context {
	bool (*emit)(struct dir_context *ctx, const char *name, size_t len, ino_t ino,
		     unsigned int type, off_t next);
	off_t pos;
};

// --- superblocks -----------------------------------------------------------------------

#define SB_DCACHE_STORE (1u << 0) // dentries are the directory contents: never dropped

struct fs_type {
	const char *name;
	unsigned long magic;      // statfs's f_type (Linux's *_MAGIC number)
	// Whether statfs reports all of RAM as this file system's size (memory file systems
	// whose files may grow into any free page); otherwise it reports 0 blocks, as Linux
	// does for proc and pipefs.
	bool statfs_ram;
	// Build a new superblock with its root dentry. Returns it or ERR_PTR.
	struct super_block *(*mount)(const struct fs_type *type, const void *data);
};

struct super_block {
	const struct fs_type *s_type;         // constant
	const struct super_operations *s_op;  // constant
	dev_t s_dev;                          // constant; anonymous 0:n for memory file systems
	unsigned int s_flags;                 // constant (SB_*)
	uint64_t s_maxbytes;                  // constant: largest file size
	struct dentry *s_root;                // constant once mounted
	struct dentry *s_mountpoint;          // under dcache_lock; NULL for "/" and internal
	uint64_t s_next_ino;                  // atomic: inode numbers for memory file systems
	const struct dentry_operations *s_d_op; // constant: for every dentry, or NULL
	void *s_fs_info;                      // the file system's own
};

// A superblock with an anonymous device number and no root yet. NULL when out of memory.
struct super_block *super_alloc(const struct fs_type *type, const struct super_operations *ops);
// Mount a new instance of type over the directory mountpoint (which must be a directory
// with nothing mounted on it). Returns 0 or -errno.
int vfs_mount(const struct fs_type *type, struct dentry *mountpoint, const void *data);

// --- inodes --------------------------------------------------------------------------

struct inode {
	long i_count;                        // atomic; the last inode_put evicts
	struct super_block *i_sb;            // constant
	ino_t i_ino;                         // constant
	const struct inode_operations *i_op; // constant after creation
	const struct file_operations *i_fop; // constant after creation
	dev_t i_rdev;                        // constant: device number of a device node
	struct mutex i_mutex;
	// under i_mutex (single aligned words may be read without it, e.g. by stat):
	mode_t i_mode;
	uint32_t i_nlink; // changed only through inode_nlink_*(): atomic, as the names of
			  // one inode live in directories with different locks
	uid_t i_uid;
	gid_t i_gid;
	uint64_t i_size;
	// Atomic, changed only through the functions below: > 0 counts the opens for writing
	// (and truncates in progress), < 0 the executions denying writes (each struct mm whose
	// exe_file this is, and each exec under way). Linux's i_writecount: ETXTBSY.
	long i_writecount;
	struct fs_time i_atime, i_mtime, i_ctime;
	// File data of memory file systems: i_pages[i] is the direct-map address of the page
	// holding bytes [i * PAGE_SIZE, (i + 1) * PAGE_SIZE), or NULL for a hole; file
	// mappings map these very pages. The array and the two counts below are under
	// i_pages_lock (a leaf spinlock), not i_mutex: a page fault on a file mapping takes
	// only this lock, so a read() that holds one file's i_mutex while its user copy faults
	// on another file's mapping can never wait for that file's i_mutex (no ABBA deadlock).
	// A page stays allocated while i_mutex is held (only truncate, under i_mutex, frees).
	struct spinlock i_pages_lock;
	void **i_pages;
	size_t i_nr_slots;   // length of the i_pages array
	size_t i_nr_pages;   // pages allocated (for st_blocks)
	char *i_link;        // symlink target, NUL-terminated; constant after creation
	void *i_private;     // the file system's or driver's own
};

// A new inode with one reference, the next inode number of sb and all times now.
// NULL when out of memory.
struct inode *inode_alloc(struct super_block *sb, mode_t mode);
struct inode *inode_get(struct inode *inode);
void inode_put(struct inode *inode);
// Set mtime and ctime (data changed) or just ctime (metadata changed) to now.
void inode_touch_mtime(struct inode *inode);
void inode_touch_ctime(struct inode *inode);

// Write access and execution exclude each other (ETXTBSY), as on Linux: a running program
// maps its file's own pages (mm/filemap.c), so a write would change the code it runs.
// inode_writer_get: one more writer, -ETXTBSY while the file is being executed.
// inode_write_deny: one more execution, -ETXTBSY while the file is open for writing.
// Each success is paired with inode_writer_put / inode_write_allow. Context: any.
int inode_writer_get(struct inode *inode);
void inode_writer_put(struct inode *inode);
int inode_write_deny(struct inode *inode);
void inode_write_allow(struct inode *inode);

static inline void inode_nlink_inc(struct inode *inode)
{
	__atomic_add_fetch(&inode->i_nlink, 1, __ATOMIC_RELAXED);
}

static inline void inode_nlink_dec(struct inode *inode)
{
	__atomic_sub_fetch(&inode->i_nlink, 1, __ATOMIC_RELAXED);
}

static inline void inode_nlink_set(struct inode *inode, uint32_t n)
{
	__atomic_store_n(&inode->i_nlink, n, __ATOMIC_RELAXED);
}

// --- dentries ------------------------------------------------------------------------

#define DENTRY_LINKED (1u << 0)   // in its parent's d_children, reachable by lookup
#define DENTRY_DNAME_INLINE 40

extern struct spinlock dcache_lock;

struct dentry {
	long d_count;              // under dcache_lock
	unsigned int d_flags;      // under dcache_lock
	struct dentry *d_parent;   // under dcache_lock; a root's is itself. Holds a reference.
	struct list_head d_child;  // under dcache_lock: in d_parent->d_children
	struct list_head d_children; // under dcache_lock: linked children, in d_cookie order
	struct super_block *d_sb;  // constant
	struct inode *d_inode;     // set once when instantiated, then constant; holds a ref
	struct super_block *d_mounted; // under dcache_lock: file system mounted here, or NULL
	uint64_t d_cookie;         // under dcache_lock: readdir position within the parent
	uint64_t d_next_cookie;    // under dcache_lock: next cookie for a new child
	const char *d_name;        // under dcache_lock (rename changes it); NUL-terminated
	size_t d_namelen;
	char d_iname[DENTRY_DNAME_INLINE]; // storage for short names
};

// A new unlinked dentry named name under parent (NULL parent: a root, its own parent).
// One reference for the caller. NULL when out of memory.
struct dentry *dentry_alloc(struct dentry *parent, struct super_block *sb, const char *name,
			    size_t len);
struct dentry *dentry_get(struct dentry *d);
void dentry_put(struct dentry *d);
// Attach inode to d, taking over the caller's reference to it.
void dentry_instantiate(struct dentry *d, struct inode *inode);
// The linked child of dir with this name, with a reference, or NULL.
struct dentry *dentry_find_child(struct dentry *dir, const char *name, size_t len);
// Link d into its parent's children (it becomes visible to lookup and readdir).
void dentry_link(struct dentry *d);
// Link d, just instantiated by a lookup method, unless its parent has been invalidated
// (unlinked) meanwhile: then d stays unlinked, serves the caller, and is freed with its
// last reference, so nothing is ever cached under a directory that is gone.
void dentry_link_cached(struct dentry *d);
// Unlink d and everything linked below it (a stale cached entry: d_revalidate). Holders of
// references keep their dentries, nameless to lookup; the rest are freed. A mount point
// is left linked. Context: process context; takes dcache_lock only.
void dentry_invalidate(struct dentry *d);
// Unlink d from its parent: lookups no longer find it; it is freed with its last ref.
void dentry_unlink(struct dentry *d);
// Rename: d takes target's parent and name and is linked again; target (unlinked, or never
// linked) is left nameless. Never fails, so it can follow a file system's commit.
void dentry_move(struct dentry *d, struct dentry *target);
bool dentry_has_children(struct dentry *d);

extern struct dentry *vfs_root; // the root of the whole tree; constant after vfs_init

// --- path lookup (fs/namei.c) --------------------------------------------------------

#define LOOKUP_FOLLOW (1u << 0)    // follow a symlink in the last component
#define LOOKUP_DIRECTORY (1u << 1) // the result must be a directory
#define LOOKUP_EMPTY (1u << 2)     // "" names the starting directory (AT_EMPTY_PATH)

enum last_type { LAST_NORM, LAST_ROOT, LAST_DOT, LAST_DOTDOT };

// The parent directory of a path and its last component, for create/remove/rename.
struct path_parent {
	struct dentry *dir;        // a reference
	enum last_type type;
	bool trailing_slash;       // the path ended in '/'
	size_t len;
	char last[NAME_MAX + 1];
};

// Resolve path relative to dirfd (AT_FDCWD or a directory descriptor). *out gets a
// reference. Returns 0, -ENOENT, -ENOTDIR, -ENAMETOOLONG, -ELOOP, -EBADF, -ENOMEM.
// Context: process context; may sleep.
int path_lookupat(int dirfd, const char *path, unsigned int flags, struct dentry **out);
int path_lookup_parent(int dirfd, const char *path, struct path_parent *pp);
void path_parent_release(struct path_parent *pp);
// The existing child of a locked directory (dir->d_inode->i_mutex held), crossing no
// mount; NULL when there is none. Returns ERR_PTR on errors other than absence. A cached
// child is revalidated (dentry_operations.d_revalidate) before it is returned.
struct dentry *lookup_child_locked(struct dentry *dir, const char *name, size_t len);
// Copy a path from user space into a new PATH_MAX buffer (kfree it). ERR_PTR on error.
char *path_from_user(const char __user *upath);
// The dentry at the top of any mounts stacked on d (for walking down into d).
struct dentry *dentry_follow_mounts(struct dentry *d);

// --- open files ------------------------------------------------------------------------

#define FMODE_READ (1u << 0)
#define FMODE_WRITE (1u << 1)
#define FMODE_LSEEK (1u << 2)  // has a position; reads and writes serialise on f_pos_lock
#define FMODE_PATH (1u << 3)   // O_PATH: a name only, no I/O
#define FMODE_WRITER (1u << 4) // holds inode_writer_get on its inode: file_put drops it

struct file {
	long f_count;                         // atomic; the last file_put releases
	struct dentry *f_dentry;              // constant; holds a reference
	struct inode *f_inode;                // constant (f_dentry->d_inode)
	const struct file_operations *f_op;   // constant after open
	unsigned int f_mode;                  // constant (FMODE_*)
	struct spinlock f_lock;
	unsigned int f_flags;                 // under f_lock: O_* status flags (F_GETFL)
	struct mutex f_pos_lock;
	off_t f_pos;                          // under f_pos_lock
	void *private_data;                   // the driver's own
};

// Open an existing dentry with O_* flags (no creation, truncation or lookup). Opening a
// regular file for writing takes write access (-ETXTBSY while it is being executed).
// Returns the file with one reference, or ERR_PTR.
struct file *file_open_dentry(struct dentry *d, int flags);
struct file *file_get(struct file *f);
// A new struct file for dentry d (a reference is taken) with O_* flags and fops; one
// reference for the caller. NULL when out of memory. Does not call fops->open.
struct file *file_alloc(struct dentry *d, int flags, const struct file_operations *fops);
// fd_install honouring O_CLOEXEC in flags.
int fd_install_flags(struct file *f, int flags);
// The file behind descriptor fd of the current task, with a reference, or NULL.
struct file *fd_get_file(int fd);
// open(2) in full: lookup or create, O_TRUNC, O_DIRECTORY..., returning the new file.
struct file *do_filp_open(int dirfd, const char *path, int flags, mode_t mode);
// Truncate a regular file to size under its i_mutex (EISDIR, EINVAL, EFBIG as truncate(2);
// ETXTBSY while it is being executed, since a truncate is a write).
int vfs_truncate(struct inode *inode, int64_t size);
// The generic lseek for files with a size: SEEK_SET/CUR/END.
off_t generic_file_lseek(struct file *f, off_t off, int whence);
// lseek for files with no size to seek from (directories, procfs's generated files): only
// SEEK_SET and SEEK_CUR, to any position >= 0 (else -EINVAL). Called under f_pos_lock.
off_t generic_nosize_lseek(struct file *f, off_t off, int whence);
// Reads and writes through an iterator, as read(2) and write(2) do after fd lookup.
ssize_t vfs_read(struct file *f, struct iov_iter *to, off_t *pos);
ssize_t vfs_write(struct file *f, struct iov_iter *from, off_t *pos);
// readdir for SB_DCACHE_STORE directories: ".", "..", then the children in cookie order.
int dcache_readdir(struct file *f, struct dir_context *ctx);
// For every readdir: emit "." (position 0) and ".." (position 1: the parent's inode, or
// across a mount the mount point's parent's) from ctx->pos on, advancing it past each.
// False when the reader has no room for one. Context: process context; takes dcache_lock.
bool dir_emit_dots(struct file *f, struct dir_context *ctx);
extern const struct file_operations dcache_dir_fops;

// --- descriptor tables and per-task fs context ------------------------------------------

struct files {
	struct spinlock lock;
	long count;                        // atomic: tasks sharing the table
	// under lock:
	struct file *fd[FILES_MAX];
	uint64_t cloexec[FILES_MAX / 64];
};

struct fs_context {
	struct spinlock lock;
	long count;            // atomic: tasks sharing it
	// under lock:
	struct dentry *root;   // a reference
	struct dentry *cwd;    // a reference
	mode_t umask;
};

// References to the current task's root and cwd (the global root before tasks have a
// context). Put them with dentry_put.
struct dentry *fs_context_root(void);
struct dentry *fs_context_cwd(void);
mode_t fs_context_umask(void);

// --- character devices (fs/devfs/devfs.c) ------------------------------------------------

// Register fops for the character device rdev and create /dev/name (mode includes the
// permission bits; S_IFCHR is implied). Returns 0 or -errno. Context: boot.
int chrdev_register(dev_t rdev, const char *name, mode_t perm, const struct file_operations *fops);
// The operations of character device rdev, or NULL.
const struct file_operations *chrdev_fops(dev_t rdev);
// Mount devfs on dir. Context: boot.
int devfs_mount(struct dentry *dir);

// --- name-space operations (fs/dirops.c), shared by the system calls and initramfs ----------
// Each takes the parent directory dentry and the new or old name; each locks the directory
// itself. *out, when not NULL, gets a reference to the new dentry.

// Create a node: S_IFREG, S_IFDIR, S_IFCHR, S_IFBLK or S_IFIFO in mode (umask applied by
// the caller). -EEXIST if the name exists.
int vfs_mknod(struct dentry *dir, const char *name, size_t len, mode_t mode, dev_t rdev,
	      struct dentry **out);
// The same with dir->d_inode->i_mutex already held.
int vfs_mknod_locked(struct dentry *dir, const char *name, size_t len, mode_t mode, dev_t rdev,
		     struct dentry **out);
int vfs_symlink(struct dentry *dir, const char *name, size_t len, const char *target,
		struct dentry **out);
int vfs_link(struct dentry *old, struct dentry *dir, const char *name, size_t len);
// Remove a non-directory (rmdir false) or an empty directory (rmdir true).
int vfs_remove(struct dentry *dir, const char *name, size_t len, bool rmdir, bool must_be_dir);

// System calls other parts of the VFS call directly.
long sys_close(int fd);
// fcntl's F_GETPIPE_SZ and F_SETPIPE_SZ on f: the pipe's capacity, or -EBADF when f is no
// pipe (fs/pipe.c).
long pipe_fcntl(struct file *f, unsigned int cmd, unsigned long arg);

// --- file systems --------------------------------------------------------------------------

extern const struct fs_type ramfs_type;

// Drivers' boot hooks, called from vfs_init once /dev exists.
void mem_devices_init(void); // drivers/mem.c
