// procfs generated files and symlinks.
//
// A generated file's contents are built when it is opened, into a buffer private to that
// open file, so a reader sees one consistent snapshot however small its reads are and
// wherever it seeks. A read at position 0 after the first read builds the contents again:
// programs that keep /proc/stat open and rewind it (procps top) see fresh numbers, as with
// Linux's seq_file. Nothing in procfs can be written: /proc's own files answer a write with
// -EIO and the per-task files with -EINVAL, which is what Linux gives root.
//
// Generators write into a struct proc_buf without knowing how much room there is. The
// length keeps counting past the end of the buffer; afterwards a buffer that overflowed is
// replaced by one large enough for what the generator tried to write, and the generator
// runs again.
//
// Lock: proc_file->lock (a mutex) covers an open file's buffer; reads, preads and lseeks
// of one open file are serialised on it. Generators take tasklist_lock, mm locks and
// dcache_lock themselves.

#include <trapeze/err.h>
#include <trapeze/format.h>
#include <trapeze/kmalloc.h>
#include <trapeze/page_alloc.h>
#include <trapeze/procfs.h>
#include <trapeze/string.h>

// --- the generator's buffer --------------------------------------------------------------

void proc_printf(struct proc_buf *pb, const char *fmt, ...)
{
	size_t room = pb->len < pb->cap ? pb->cap - pb->len : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? pb->data + pb->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	// vsnprintf needs room for its NUL too: a text that fills the buffer exactly is
	// treated as an overflow, which only costs one more round.
	if ((size_t)n >= room)
		pb->overflow = true;
	pb->len += (size_t)n;
}

char *proc_reserve(struct proc_buf *pb, size_t n)
{
	char *at = NULL;

	if (pb->len + n <= pb->cap)
		at = pb->data + pb->len;
	else
		pb->overflow = true;
	pb->len += n;
	return at;
}

void proc_putmem(struct proc_buf *pb, const void *src, size_t n)
{
	char *at = proc_reserve(pb, n);

	if (at)
		memcpy(at, src, n);
}

// Run the show function of pi into a new buffer in *pb. Returns 0 or -errno.
static int proc_generate(const struct proc_inode *pi, struct proc_buf *pb)
{
	size_t cap = PAGE_SIZE;
	int err;

	for (;;) {
		*pb = (struct proc_buf){ .data = kmalloc(cap), .cap = cap };
		if (!pb->data)
			return -ENOMEM;
		err = pi->entry->show(pb, pi->pid);
		if (!err && !pb->overflow)
			return 0;
		kfree(pb->data);
		pb->data = NULL;
		if (err)
			return err;
		if (cap >= PROC_BUF_MAX)
			return -ENOMEM;
		// What the generator wanted, plus slack for a text that grows meanwhile.
		cap = MIN(ALIGN_UP(pb->len + pb->len / 8 + 64, PAGE_SIZE), PROC_BUF_MAX);
	}
}

// --- generated files -----------------------------------------------------------------------

struct proc_file {
	struct mutex lock;
	struct proc_buf buf; // under lock
	bool read_once;      // under lock: a read has happened; a read at 0 regenerates
};

// Context: process context; the VFS holds no lock.
static int proc_file_open(struct inode *inode, struct file *f)
{
	struct proc_file *pf = kzalloc(sizeof(*pf));
	int err;

	if (!pf)
		return -ENOMEM;
	mutex_init(&pf->lock, "proc_file");
	err = proc_generate(proc_i(inode), &pf->buf);
	if (err) {
		kfree(pf);
		return err;
	}
	f->private_data = pf;
	return 0;
}

static void proc_file_release(struct inode *inode, struct file *f)
{
	struct proc_file *pf = f->private_data;

	kfree(pf->buf.data);
	kfree(pf);
}

// Build the contents again for a reader that starts over at position 0. A task that has
// gone meanwhile reads as -ESRCH, as on Linux.
static int proc_file_regenerate(struct proc_file *pf, struct inode *inode)
{
	struct proc_buf fresh;
	int err = proc_generate(proc_i(inode), &fresh);

	if (err)
		return err == -ENOENT ? -ESRCH : err;
	kfree(pf->buf.data);
	pf->buf = fresh;
	return 0;
}

static ssize_t proc_file_read(struct file *f, struct iov_iter *to, off_t *pos)
{
	struct proc_file *pf = f->private_data;
	ssize_t n = 0;
	int err = 0;

	mutex_lock(&pf->lock);
	if (*pos == 0 && pf->read_once)
		err = proc_file_regenerate(pf, f->f_inode);
	pf->read_once = true;
	if (!err && (uint64_t)*pos < pf->buf.len) {
		n = iov_iter_copy_to(to, pf->buf.data + *pos, pf->buf.len - (size_t)*pos);
		if (n > 0)
			*pos += n;
	}
	mutex_unlock(&pf->lock);
	return err ? err : n;
}

static ssize_t proc_file_write(struct file *f, struct iov_iter *from, off_t *pos)
{
	return proc_i(f->f_inode)->entry->write_eio ? -EIO : -EINVAL;
}

const struct file_operations proc_file_fops = {
	.open = proc_file_open,
	.release = proc_file_release,
	.read = proc_file_read,
	.write = proc_file_write,
	.lseek = generic_nosize_lseek, // as Linux's seq_file: no SEEK_END
};

// open(O_TRUNC) and truncate(2) are accepted and change nothing, as on Linux.
static int proc_file_truncate(struct inode *inode, uint64_t size)
{
	return 0;
}

const struct inode_operations proc_file_iops = {
	.truncate = proc_file_truncate,
};

// --- symlinks ----------------------------------------------------------------------------

static long proc_readlink(struct dentry *d, char *buf, size_t len)
{
	struct proc_inode *pi = proc_i(d->d_inode);

	if (pi->kind == PROC_FD_LINK)
		return proc_fd_link(pi->pid, pi->fd, buf, len);
	return pi->entry->link(pi->pid, buf, len);
}

const struct inode_operations proc_link_iops = {
	.readlink = proc_readlink,
};

// --- paths ----------------------------------------------------------------------------------

// Put s (n bytes) in front of *p, not below buf. False when there is no room.
static bool path_prepend(char **p, char *buf, const char *s, size_t n)
{
	if ((size_t)(*p - buf) < n)
		return false;
	*p -= n;
	memcpy(*p, s, n);
	return true;
}

// Build the path right-aligned in buf. Returns its start, or NULL when it does not fit.
// *deleted is set when a dentry on the way was unlinked.
static char *path_build_locked(struct dentry *d, char *buf, size_t size, bool *deleted)
{
	char *p = buf + size;
	bool named = false;

	assert_held(&dcache_lock);
	while (d != vfs_root) {
		struct super_block *sb = d->d_sb;

		if (d == sb->s_root && sb->s_mountpoint) {
			d = sb->s_mountpoint;
			continue;
		}
		if (d->d_parent == d) {
			// The root of a file system mounted nowhere: a pipe's "pipe:[ino]" is its
			// whole name, with no slash in front.
			return path_prepend(&p, buf, d->d_name, d->d_namelen) ? p : NULL;
		}
		if (!(d->d_flags & DENTRY_LINKED))
			*deleted = true;
		if (!path_prepend(&p, buf, d->d_name, d->d_namelen) ||
		    !path_prepend(&p, buf, "/", 1))
			return NULL;
		named = true;
		d = d->d_parent;
	}
	if (!named && !path_prepend(&p, buf, "/", 1))
		return NULL;
	return p;
}

long proc_dentry_path(struct dentry *d, char *buf, size_t size)
{
	static const char deleted_mark[] = " (deleted)";
	bool deleted = false;
	uint64_t flags;
	size_t len;
	char *p;

	flags = spin_lock_irqsave(&dcache_lock);
	p = path_build_locked(d, buf, size, &deleted);
	spin_unlock_irqrestore(&dcache_lock, flags);
	if (!p)
		return -ENAMETOOLONG;
	len = buf + size - p;
	memmove(buf, p, len);
	if (deleted) {
		if (len + sizeof(deleted_mark) - 1 > size)
			return -ENAMETOOLONG;
		memcpy(buf + len, deleted_mark, sizeof(deleted_mark) - 1);
		len += sizeof(deleted_mark) - 1;
	}
	return (long)len;
}
