// The virtual file system: the interface the rest of the kernel uses to reach files.
// (The full VFS — inodes, dentries, superblocks, file operations — is described in
// fs/README and docs/vfs.md; this header holds what other subsystems call.)
#pragma once

#include <trapeze/types.h>

struct file;
struct inode;

// Open path (relative paths start at the current task's cwd) for the kernel's own use.
// flags are Linux O_* flags. Returns the file or ERR_PTR(-errno).
// Context: process context; may sleep.
struct file *file_open(const char *path, int flags, mode_t mode);
// Read up to n bytes at offset off into a kernel buffer; returns bytes read or -errno.
ssize_t kernel_read(struct file *f, void *buf, size_t n, off_t off);
// Drop a reference to an open file; the last one closes it.
void file_put(struct file *f);
// The inode's mode (S_IFREG | 0755 ...) and size, for exec's permission and bounds checks.
mode_t file_mode(const struct file *f);
uint64_t file_size(const struct file *f);

// Per-task descriptor tables and filesystem context (cwd/root/umask).
struct files *files_alloc(void);
struct files *files_dup(struct files *old); // for fork; NULL when out of memory
struct files *files_get(struct files *files); // share (CLONE_FILES): one more reference
void files_put(struct files *files);        // drop a reference; the last closes everything
void files_close_on_exec(struct files *files);
struct fs_context *fs_context_alloc(void);  // root and cwd at "/"
struct fs_context *fs_context_dup(struct fs_context *old);
struct fs_context *fs_context_get(struct fs_context *fs); // share (CLONE_FS)
void fs_context_put(struct fs_context *fs);

// Install f as the lowest free descriptor of the current task; returns it or -EMFILE.
int fd_install(struct file *f);

// Boot: mount the root ramfs, devfs on /dev, and unpack a cpio (newc) archive into the root.
void vfs_init(void);
int initramfs_unpack(const void *archive, size_t len);
