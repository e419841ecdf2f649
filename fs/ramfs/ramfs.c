// ramfs: a file system that lives entirely in memory. Directories are nothing but the
// dentry tree (SB_DCACHE_STORE): lookup never asks ramfs, readdir walks the children.
// File data lives in whole pages in inode->i_pages, a growable array indexed by page
// number, with NULL for holes; a later page cache and mmap of files map these very pages.
// Symlink targets are a kmalloc'ed string in i_link.
// Lock: file data and i_size under the inode's i_mutex (the VFS takes it for truncate;
// read and write take it here); directory operations run under the parent's i_mutex.

#include <trapeze/err.h>
#include <trapeze/fs.h>
#include <trapeze/kmalloc.h>
#include <trapeze/page_alloc.h>
#include <trapeze/string.h>

#define RAMFS_MAX_FILE_SIZE (1ULL << 30) // 1 GiB keeps the page array at most 2 MiB

static const struct inode_operations ramfs_dir_iops;
static const struct inode_operations ramfs_file_iops;
static const struct inode_operations ramfs_symlink_iops;
static const struct file_operations ramfs_file_fops;

// --- file data -------------------------------------------------------------------------------

// Make room in i_pages for page index idx. Returns 0 or -ENOMEM. Caller holds
// i_pages_lock.
static int ramfs_grow_slots(struct inode *inode, size_t idx)
{
	size_t n = MAX(inode->i_nr_slots, 4UL);
	void **slots;

	if (idx < inode->i_nr_slots)
		return 0;
	while (n <= idx)
		n *= 2;
	slots = kzalloc(n * sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	if (inode->i_pages)
		memcpy(slots, inode->i_pages, inode->i_nr_slots * sizeof(*slots));
	kfree(inode->i_pages);
	inode->i_pages = slots;
	inode->i_nr_slots = n;
	return 0;
}

// The page holding offset idx * PAGE_SIZE, allocated (zeroed) if needed. NULL: no memory.
// Caller holds i_pages_lock (allocation never sleeps).
static void *ramfs_page_locked(struct inode *inode, size_t idx)
{
	assert_held(&inode->i_pages_lock);
	if (ramfs_grow_slots(inode, idx))
		return NULL;
	if (!inode->i_pages[idx]) {
		inode->i_pages[idx] = page_alloc_virt();
		if (!inode->i_pages[idx])
			return NULL;
		inode->i_nr_pages++;
	}
	return inode->i_pages[idx];
}

static void *ramfs_page(struct inode *inode, size_t idx)
{
	uint64_t flags = spin_lock_irqsave(&inode->i_pages_lock);
	void *va = ramfs_page_locked(inode, idx);

	spin_unlock_irqrestore(&inode->i_pages_lock, flags);
	return va;
}

// The page at idx if the file has one (NULL for a hole), without allocating.
static void *ramfs_page_lookup(struct inode *inode, size_t idx)
{
	uint64_t flags = spin_lock_irqsave(&inode->i_pages_lock);
	void *va = idx < inode->i_nr_slots ? inode->i_pages[idx] : NULL;

	spin_unlock_irqrestore(&inode->i_pages_lock, flags);
	return va;
}

// Drop the file's reference to every page from index first on. A page that a process
// still maps (mm/filemap.c) lives on, detached from the file, until it is unmapped.
static void ramfs_free_pages_from(struct inode *inode, size_t first)
{
	uint64_t flags = spin_lock_irqsave(&inode->i_pages_lock);

	for (size_t i = first; i < inode->i_nr_slots; i++) {
		if (inode->i_pages[i]) {
			page_put(virt_to_page(inode->i_pages[i]));
			inode->i_pages[i] = NULL;
			inode->i_nr_pages--;
		}
	}
	spin_unlock_irqrestore(&inode->i_pages_lock, flags);
}

// File mappings map the file's own pages: one more reference for the mapper. Takes only
// i_pages_lock (see fs.h): page faults never wait for i_mutex.
static struct page *ramfs_get_page(struct inode *inode, uint64_t idx)
{
	uint64_t flags = spin_lock_irqsave(&inode->i_pages_lock);
	void *va = ramfs_page_locked(inode, idx);

	if (va)
		page_get(virt_to_page(va));
	spin_unlock_irqrestore(&inode->i_pages_lock, flags);
	return va ? virt_to_page(va) : NULL;
}

// Zero the last page of the file from the end of file on. A shared mapping covers that page
// whole, so bytes past the end may hold what a program stored there; they must read as
// zeroes once the file grows over them, as on Linux. Called with i_mutex held.
static void ramfs_zero_tail(struct inode *inode)
{
	size_t idx = inode->i_size / PAGE_SIZE, off = inode->i_size % PAGE_SIZE;
	char *page = off ? ramfs_page_lookup(inode, idx) : NULL;

	if (page)
		memset(page + off, 0, PAGE_SIZE - off);
}

// Called with i_mutex held. Shrinking frees whole pages past the new end and zeroes the
// tail of the last one; growing zeroes the old last page's tail. Either way the bytes
// between the two ends read as zeroes.
static int ramfs_truncate(struct inode *inode, uint64_t size)
{
	bool shrink = size < inode->i_size;

	if (shrink)
		ramfs_free_pages_from(inode, DIV_ROUND_UP(size, PAGE_SIZE));
	else
		ramfs_zero_tail(inode);
	inode->i_size = size;
	if (shrink)
		ramfs_zero_tail(inode);
	return 0;
}

static ssize_t ramfs_read(struct file *f, struct iov_iter *to, off_t *pos)
{
	struct inode *inode = f->f_inode;
	size_t done = 0;
	long n = 0;

	mutex_lock(&inode->i_mutex);
	while (to->count && (uint64_t)*pos < inode->i_size) {
		size_t idx = *pos / PAGE_SIZE, off = *pos % PAGE_SIZE;
		size_t c = MIN(PAGE_SIZE - off, inode->i_size - *pos);
		void *page = ramfs_page_lookup(inode, idx);

		n = page ? iov_iter_copy_to(to, (char *)page + off, c) : iov_iter_zero(to, c);
		if (n <= 0)
			break;
		*pos += n;
		done += n;
		if ((size_t)n < c)
			break;
	}
	mutex_unlock(&inode->i_mutex);
	return done ? (ssize_t)done : (n < 0 ? n : 0);
}

// Copy one chunk at *pos into the file. Returns the bytes taken or -errno.
static long ramfs_write_chunk(struct inode *inode, struct iov_iter *from, off_t pos)
{
	size_t idx = pos / PAGE_SIZE, off = pos % PAGE_SIZE;
	size_t c = MIN(PAGE_SIZE - off, from->count);
	char *page;

	if ((uint64_t)pos >= RAMFS_MAX_FILE_SIZE)
		return -EFBIG;
	c = MIN(c, RAMFS_MAX_FILE_SIZE - pos);
	page = ramfs_page(inode, idx);
	if (!page)
		return -ENOSPC;
	return iov_iter_copy_from(from, page + off, c);
}

static ssize_t ramfs_write(struct file *f, struct iov_iter *from, off_t *pos)
{
	struct inode *inode = f->f_inode;
	size_t done = 0;
	long n = 0;

	mutex_lock(&inode->i_mutex);
	if (READ_ONCE(f->f_flags) & O_APPEND)
		*pos = inode->i_size;
	if ((uint64_t)*pos > inode->i_size)
		ramfs_zero_tail(inode); // the gap up to pos reads as zeroes
	while (from->count) {
		n = ramfs_write_chunk(inode, from, *pos);
		if (n <= 0)
			break;
		*pos += n;
		done += n;
		if ((uint64_t)*pos > inode->i_size)
			inode->i_size = *pos;
	}
	if (done)
		inode_touch_mtime(inode);
	mutex_unlock(&inode->i_mutex);
	return done ? (ssize_t)done : n;
}

static const struct file_operations ramfs_file_fops = {
	.read = ramfs_read,
	.write = ramfs_write,
	.lseek = generic_file_lseek,
};

// --- inodes and directories ---------------------------------------------------------------------

static void ramfs_evict(struct inode *inode)
{
	if (inode->i_pages) {
		ramfs_free_pages_from(inode, 0);
		kfree(inode->i_pages);
	}
	kfree(inode->i_link);
}

static const struct super_operations ramfs_sops = {
	.inode_evict = ramfs_evict,
};

static struct inode *ramfs_inode_new(struct super_block *sb, mode_t mode, dev_t rdev)
{
	struct inode *inode = inode_alloc(sb, mode);

	if (!inode)
		return NULL;
	inode->i_rdev = rdev;
	switch (mode & S_IFMT) {
	case S_IFDIR:
		inode->i_op = &ramfs_dir_iops;
		inode->i_fop = &dcache_dir_fops;
		inode_nlink_set(inode, 2);
		break;
	case S_IFREG:
		inode->i_op = &ramfs_file_iops;
		inode->i_fop = &ramfs_file_fops;
		break;
	case S_IFLNK:
		inode->i_op = &ramfs_symlink_iops;
		break;
	}
	return inode;
}

static int ramfs_mknod(struct inode *dir, struct dentry *d, mode_t mode, dev_t rdev)
{
	struct inode *inode = ramfs_inode_new(dir->i_sb, mode, rdev);

	if (!inode)
		return -ENOSPC;
	if (S_ISDIR(mode))
		inode_nlink_inc(dir); // the new directory's ".."
	dentry_instantiate(d, inode);
	return 0;
}

static int ramfs_create(struct inode *dir, struct dentry *d, mode_t mode)
{
	return ramfs_mknod(dir, d, mode, 0);
}

static int ramfs_symlink(struct inode *dir, struct dentry *d, const char *target)
{
	size_t len = strnlen(target, PATH_MAX);
	struct inode *inode;

	if (len >= PATH_MAX)
		return -ENAMETOOLONG;
	inode = ramfs_inode_new(dir->i_sb, S_IFLNK | 0777, 0);
	if (!inode)
		return -ENOSPC;
	inode->i_link = kmalloc(len + 1);
	if (!inode->i_link) {
		inode_put(inode);
		return -ENOSPC;
	}
	memcpy(inode->i_link, target, len + 1);
	inode->i_size = len;
	dentry_instantiate(d, inode);
	return 0;
}

static int ramfs_link(struct dentry *old, struct inode *dir, struct dentry *d)
{
	struct inode *inode = old->d_inode;

	inode_nlink_inc(inode);
	inode_touch_ctime(inode);
	dentry_instantiate(d, inode_get(inode));
	return 0;
}

static int ramfs_unlink(struct inode *dir, struct dentry *d)
{
	inode_nlink_dec(d->d_inode);
	inode_touch_ctime(d->d_inode);
	return 0;
}

static int ramfs_rmdir(struct inode *dir, struct dentry *d)
{
	if (dentry_has_children(d))
		return -ENOTEMPTY;
	inode_nlink_set(d->d_inode, 0);
	inode_nlink_dec(dir);
	return 0;
}

static int ramfs_rename(struct inode *odir, struct dentry *od, struct inode *ndir,
			struct dentry *nd)
{
	struct inode *victim = nd->d_inode;
	bool is_dir = S_ISDIR(od->d_inode->i_mode);

	if (victim) {
		if (S_ISDIR(victim->i_mode)) {
			if (dentry_has_children(nd))
				return -ENOTEMPTY;
			inode_nlink_set(victim, 0);
			inode_nlink_dec(ndir);
		} else {
			inode_nlink_dec(victim);
		}
		inode_touch_ctime(victim);
	}
	if (is_dir && odir != ndir) {
		inode_nlink_dec(odir);
		inode_nlink_inc(ndir);
	}
	return 0;
}

static long ramfs_readlink(struct dentry *d, char *buf, size_t len)
{
	size_t n = d->d_inode->i_size;

	memcpy(buf, d->d_inode->i_link, MIN(n, len));
	return n;
}

static const struct inode_operations ramfs_dir_iops = {
	.create = ramfs_create,
	.mkdir = ramfs_create,
	.mknod = ramfs_mknod,
	.symlink = ramfs_symlink,
	.link = ramfs_link,
	.unlink = ramfs_unlink,
	.rmdir = ramfs_rmdir,
	.rename = ramfs_rename,
};

static const struct inode_operations ramfs_file_iops = {
	.truncate = ramfs_truncate,
	.get_page = ramfs_get_page,
};

static const struct inode_operations ramfs_symlink_iops = {
	.readlink = ramfs_readlink,
};

// A fresh ramfs: an empty root directory (mode 0755).
static struct super_block *ramfs_mount(const struct fs_type *type, const void *data)
{
	struct super_block *sb = super_alloc(type, &ramfs_sops);
	struct inode *root;

	if (!sb)
		return ERR_PTR(-ENOMEM);
	sb->s_flags = SB_DCACHE_STORE;
	sb->s_maxbytes = RAMFS_MAX_FILE_SIZE;
	root = ramfs_inode_new(sb, S_IFDIR | 0755, 0);
	sb->s_root = root ? dentry_alloc(NULL, sb, "/", 1) : NULL;
	if (!sb->s_root) {
		inode_put(root);
		kfree(sb);
		return ERR_PTR(-ENOMEM);
	}
	dentry_instantiate(sb->s_root, root);
	return sb;
}

const struct fs_type ramfs_type = {
	.name = "ramfs",
	.magic = 0x858458f6, // RAMFS_MAGIC
	.statfs_ram = true,
	.mount = ramfs_mount,
};
