// The VFS core: the sleeping mutex, inodes and dentries with their reference counts,
// superblocks and mounts, and vfs_init(), which builds the tree "/" (ramfs) and "/dev"
// (devfs) at boot.
//
// Dentries form one tree of names. A dentry holds a reference to its parent and to its
// inode; a linked dentry (DENTRY_LINKED, on its parent's d_children list) lives while it
// is linked even with no other reference, because for the memory file systems the tree is
// the only record of what a directory contains (SB_DCACHE_STORE). An unlinked dentry is
// freed with its last reference, and then drops its inode and its parent.
// Mounts live in the tree too: a dentry with d_mounted set is covered by that superblock's
// root, whose s_mountpoint points back.
// A file system whose dentries can go stale (procfs) has them revalidated by path lookup;
// dentry_invalidate() then drops a stale one with its whole subtree.
// Write access and execution of a file exclude each other through inode->i_writecount.
// Lock: dcache_lock (a leaf spinlock) covers every dentry's links, names and counts.

#include <asm/apic.h>
#include <trapeze/err.h>
#include <trapeze/fs.h>
#include <trapeze/kmalloc.h>
#include <trapeze/panic.h>
#include <trapeze/printk.h>
#include <trapeze/procfs.h>
#include <trapeze/string.h>
#include <trapeze/tty.h>

DEFINE_SPINLOCK(dcache_lock);
struct dentry *vfs_root;

struct fs_time fs_time_now(void)
{
	uint64_t ns = time_realtime_ns();

	return (struct fs_time){ .sec = (int64_t)(ns / 1000000000ULL),
				 .nsec = (int64_t)(ns % 1000000000ULL) };
}

// --- inodes --------------------------------------------------------------------------------

struct inode *inode_alloc(struct super_block *sb, mode_t mode)
{
	struct inode *inode = kzalloc(sizeof(*inode));

	if (!inode)
		return NULL;
	inode->i_count = 1;
	inode->i_sb = sb;
	inode->i_ino = __atomic_add_fetch(&sb->s_next_ino, 1, __ATOMIC_RELAXED);
	inode->i_mode = mode;
	inode->i_nlink = 1;
	mutex_init(&inode->i_mutex, "inode");
	spin_init(&inode->i_pages_lock, "inode.i_pages_lock");
	inode->i_atime = inode->i_mtime = inode->i_ctime = fs_time_now();
	return inode;
}

struct inode *inode_get(struct inode *inode)
{
	__atomic_add_fetch(&inode->i_count, 1, __ATOMIC_RELAXED);
	return inode;
}

// Context: process context (eviction may free pages and, later, touch a disk).
void inode_put(struct inode *inode)
{
	if (!inode)
		return;
	if (__atomic_sub_fetch(&inode->i_count, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (inode->i_sb->s_op && inode->i_sb->s_op->inode_evict)
		inode->i_sb->s_op->inode_evict(inode);
	kfree(inode);
}

int inode_writer_get(struct inode *inode)
{
	long old = __atomic_load_n(&inode->i_writecount, __ATOMIC_RELAXED);

	do {
		if (old < 0)
			return -ETXTBSY;
	} while (!__atomic_compare_exchange_n(&inode->i_writecount, &old, old + 1, false,
					      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
	return 0;
}

void inode_writer_put(struct inode *inode)
{
	long left = __atomic_sub_fetch(&inode->i_writecount, 1, __ATOMIC_RELEASE);

	assert(left >= 0);
}

int inode_write_deny(struct inode *inode)
{
	long old = __atomic_load_n(&inode->i_writecount, __ATOMIC_RELAXED);

	do {
		if (old > 0)
			return -ETXTBSY;
	} while (!__atomic_compare_exchange_n(&inode->i_writecount, &old, old - 1, false,
					      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
	return 0;
}

void inode_write_allow(struct inode *inode)
{
	long left = __atomic_add_fetch(&inode->i_writecount, 1, __ATOMIC_RELEASE);

	assert(left <= 0);
}

void inode_touch_mtime(struct inode *inode)
{
	inode->i_mtime = inode->i_ctime = fs_time_now();
}

void inode_touch_ctime(struct inode *inode)
{
	inode->i_ctime = fs_time_now();
}

// --- dentries ------------------------------------------------------------------------------

struct dentry *dentry_alloc(struct dentry *parent, struct super_block *sb, const char *name,
			    size_t len)
{
	struct dentry *d = kzalloc(sizeof(*d));
	char *n = d ? d->d_iname : NULL;

	if (!d)
		return NULL;
	if (len >= DENTRY_DNAME_INLINE) {
		n = kmalloc(len + 1);
		if (!n) {
			kfree(d);
			return NULL;
		}
	}
	memcpy(n, name, len);
	n[len] = '\0';
	d->d_name = n;
	d->d_namelen = len;
	d->d_count = 1;
	d->d_sb = sb;
	list_init(&d->d_child);
	list_init(&d->d_children);
	d->d_next_cookie = 2; // 0 and 1 are "." and ".." in readdir
	d->d_parent = parent ? dentry_get(parent) : d;
	return d;
}

struct dentry *dentry_get(struct dentry *d)
{
	uint64_t flags = spin_lock_irqsave(&dcache_lock);

	d->d_count++;
	spin_unlock_irqrestore(&dcache_lock, flags);
	return d;
}

static void dentry_free_name(struct dentry *d)
{
	if (d->d_name != d->d_iname)
		kfree(d->d_name);
}

// Drop a reference; a dentry that is unreferenced and unlinked is freed, and that may
// free its parent in turn (a loop, not recursion, so deep trees cannot overflow the stack).
// Context: process context.
void dentry_put(struct dentry *d)
{
	while (d) {
		struct dentry *parent;
		uint64_t flags = spin_lock_irqsave(&dcache_lock);

		assert(d->d_count > 0);
		if (--d->d_count > 0 || (d->d_flags & DENTRY_LINKED)) {
			spin_unlock_irqrestore(&dcache_lock, flags);
			return;
		}
		parent = d->d_parent == d ? NULL : d->d_parent;
		spin_unlock_irqrestore(&dcache_lock, flags);
		inode_put(d->d_inode);
		dentry_free_name(d);
		kfree(d);
		d = parent;
	}
}

void dentry_instantiate(struct dentry *d, struct inode *inode)
{
	assert(!d->d_inode);
	d->d_inode = inode;
}

struct dentry *dentry_find_child(struct dentry *dir, const char *name, size_t len)
{
	struct dentry *c, *found = NULL;
	uint64_t flags = spin_lock_irqsave(&dcache_lock);

	list_for_each_entry(c, &dir->d_children, d_child) {
		if (c->d_namelen == len && memcmp(c->d_name, name, len) == 0) {
			c->d_count++;
			found = c;
			break;
		}
	}
	spin_unlock_irqrestore(&dcache_lock, flags);
	return found;
}

static void dentry_link_locked(struct dentry *d)
{
	struct dentry *parent = d->d_parent;

	assert_held(&dcache_lock);
	assert(!(d->d_flags & DENTRY_LINKED) && parent != d);
	d->d_cookie = parent->d_next_cookie++;
	list_add_tail(&d->d_child, &parent->d_children);
	d->d_flags |= DENTRY_LINKED;
}

void dentry_link(struct dentry *d)
{
	uint64_t flags = spin_lock_irqsave(&dcache_lock);

	dentry_link_locked(d);
	spin_unlock_irqrestore(&dcache_lock, flags);
}

// A directory whose own dentry has been unlinked (removed or invalidated) takes no new
// cached children: the invalidation below has already emptied, or is emptying, it.
void dentry_link_cached(struct dentry *d)
{
	uint64_t flags = spin_lock_irqsave(&dcache_lock);
	struct dentry *parent = d->d_parent;

	if ((parent->d_flags & DENTRY_LINKED) || parent->d_parent == parent)
		dentry_link_locked(d);
	spin_unlock_irqrestore(&dcache_lock, flags);
}

// Unlink d first, so that lookups stop linking children into it (dentry_link_cached), then
// repeatedly unlink the deepest first-child of what is left below it and drop it, which
// frees it unless someone holds it. Starting from d again each round picks up children a
// lookup in a subdirectory linked meanwhile. A loop, not recursion: trees may be deep.
void dentry_invalidate(struct dentry *d)
{
	for (;;) {
		uint64_t flags = spin_lock_irqsave(&dcache_lock);
		struct dentry *c = d;

		if (d->d_mounted) {
			spin_unlock_irqrestore(&dcache_lock, flags);
			return;
		}
		if (d->d_flags & DENTRY_LINKED) {
			list_del(&d->d_child);
			d->d_flags &= ~DENTRY_LINKED;
		}
		while (!list_empty(&c->d_children))
			c = list_first_entry(&c->d_children, struct dentry, d_child);
		if (c == d) {
			spin_unlock_irqrestore(&dcache_lock, flags);
			return;
		}
		list_del(&c->d_child);
		c->d_flags &= ~DENTRY_LINKED;
		c->d_count++;
		spin_unlock_irqrestore(&dcache_lock, flags);
		dentry_put(c);
	}
}

// The caller holds a reference to d, so the unlinked dentry is not freed here.
void dentry_unlink(struct dentry *d)
{
	uint64_t flags = spin_lock_irqsave(&dcache_lock);

	if (d->d_flags & DENTRY_LINKED) {
		list_del(&d->d_child);
		d->d_flags &= ~DENTRY_LINKED;
	}
	spin_unlock_irqrestore(&dcache_lock, flags);
}

void dentry_move(struct dentry *d, struct dentry *target)
{
	struct dentry *old_parent;
	const char *old_name = NULL;
	uint64_t flags;

	dentry_get(target->d_parent);
	flags = spin_lock_irqsave(&dcache_lock);
	assert(!(target->d_flags & DENTRY_LINKED));
	if (d->d_flags & DENTRY_LINKED) {
		list_del(&d->d_child);
		d->d_flags &= ~DENTRY_LINKED;
	}
	if (d->d_name != d->d_iname)
		old_name = d->d_name;
	if (target->d_name == target->d_iname) {
		memcpy(d->d_iname, target->d_iname, target->d_namelen + 1);
		d->d_name = d->d_iname;
	} else {
		d->d_name = target->d_name; // steal the long name
	}
	d->d_namelen = target->d_namelen;
	target->d_iname[0] = '\0';
	target->d_name = target->d_iname;
	target->d_namelen = 0;
	old_parent = d->d_parent;
	d->d_parent = target->d_parent;
	dentry_link_locked(d);
	spin_unlock_irqrestore(&dcache_lock, flags);
	kfree(old_name);
	dentry_put(old_parent);
}

bool dentry_has_children(struct dentry *d)
{
	uint64_t flags = spin_lock_irqsave(&dcache_lock);
	bool any = !list_empty(&d->d_children);

	spin_unlock_irqrestore(&dcache_lock, flags);
	return any;
}

// --- superblocks and mounts ------------------------------------------------------------------

// Anonymous device numbers 0:1, 0:2, ... for file systems without a block device.
static uint32_t anon_dev_next;

struct super_block *super_alloc(const struct fs_type *type, const struct super_operations *ops)
{
	struct super_block *sb = kzalloc(sizeof(*sb));

	if (!sb)
		return NULL;
	sb->s_type = type;
	sb->s_op = ops;
	sb->s_dev = MKDEV(0, __atomic_add_fetch(&anon_dev_next, 1, __ATOMIC_RELAXED));
	sb->s_maxbytes = INT64_MAX;
	return sb;
}

int vfs_mount(const struct fs_type *type, struct dentry *mountpoint, const void *data)
{
	struct super_block *sb;
	uint64_t flags;

	if (!mountpoint->d_inode || !S_ISDIR(mountpoint->d_inode->i_mode))
		return -ENOTDIR;
	sb = type->mount(type, data);
	if (IS_ERR(sb))
		return PTR_ERR(sb);
	flags = spin_lock_irqsave(&dcache_lock);
	if (mountpoint->d_mounted) {
		spin_unlock_irqrestore(&dcache_lock, flags);
		return -EBUSY; // the new superblock leaks; only boot mounts exist so far
	}
	mountpoint->d_count++; // the mount pins its mount point
	mountpoint->d_mounted = sb;
	sb->s_mountpoint = mountpoint;
	spin_unlock_irqrestore(&dcache_lock, flags);
	return 0;
}

// Boot: "/" is a ramfs; /dev is a devfs with the console and memory devices; /proc is procfs.
// Context: boot, in the first task, before any user process.
void vfs_init(void)
{
	struct super_block *sb = ramfs_type.mount(&ramfs_type, NULL);
	struct dentry *dev, *proc;
	int err;

	if (IS_ERR(sb))
		panic("vfs: cannot create the root ramfs: %ld", PTR_ERR(sb));
	vfs_root = sb->s_root;
	err = vfs_mknod(vfs_root, "dev", 3, S_IFDIR | 0755, 0, &dev);
	if (err)
		panic("vfs: cannot create /dev: %d", err);
	err = devfs_mount(dev);
	if (err)
		panic("vfs: cannot mount devfs on /dev: %d", err);
	dentry_put(dev);
	err = vfs_mknod(vfs_root, "proc", 4, S_IFDIR | 0555, 0, &proc);
	if (!err)
		err = vfs_mount(&procfs_type, proc, NULL);
	if (err)
		panic("vfs: cannot mount procfs on /proc: %d", err);
	dentry_put(proc);
	mem_devices_init();
	tty_init();
	pr_info("vfs: ramfs on /, devfs on /dev, procfs on /proc\n");
}
