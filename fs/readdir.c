// Reading directories: getdents64 and the readdir of the memory file systems.
//
// A directory position is a cookie: 0 is ".", 1 is "..", and every child dentry gets the
// next cookie of its parent when it is linked (children stay in cookie order). Reading
// resumes at the first child whose cookie is at least the position, so entries removed or
// added between two getdents64 calls never make it skip or repeat a surviving entry, and
// d_off (the cookie after an entry) can be handed back to lseek.

#include <trapeze/err.h>
#include <trapeze/fs.h>
#include <trapeze/kmalloc.h>
#include <trapeze/string.h>
#include <trapeze/uaccess.h>

#define GETDENTS_BUF_MAX (32 * 1024) // bounce buffer; larger user buffers are filled partly

static unsigned int mode_to_dtype(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return DT_REG;
	case S_IFDIR:
		return DT_DIR;
	case S_IFLNK:
		return DT_LNK;
	case S_IFCHR:
		return DT_CHR;
	case S_IFBLK:
		return DT_BLK;
	case S_IFIFO:
		return DT_FIFO;
	case S_IFSOCK:
		return DT_SOCK;
	}
	return DT_UNKNOWN;
}

// The inode number ".." reports: the parent, or across a mount the mount point's parent.
static ino_t dotdot_ino(struct dentry *dir)
{
	uint64_t flags = spin_lock_irqsave(&dcache_lock);
	ino_t ino;

	while (dir == dir->d_sb->s_root && dir->d_sb->s_mountpoint)
		dir = dir->d_sb->s_mountpoint;
	ino = dir->d_parent->d_inode->i_ino;
	spin_unlock_irqrestore(&dcache_lock, flags);
	return ino;
}

bool dir_emit_dots(struct file *f, struct dir_context *ctx)
{
	if (ctx->pos == 0) {
		if (!ctx->emit(ctx, ".", 1, f->f_inode->i_ino, DT_DIR, 1))
			return false;
		ctx->pos = 1;
	}
	if (ctx->pos == 1) {
		if (!ctx->emit(ctx, "..", 2, dotdot_ino(f->f_dentry), DT_DIR, 2))
			return false;
		ctx->pos = 2;
	}
	return true;
}

// Context: process context. ctx->emit is called under dcache_lock and must not sleep.
int dcache_readdir(struct file *f, struct dir_context *ctx)
{
	struct dentry *dir = f->f_dentry, *c;
	uint64_t flags;

	if (!dir_emit_dots(f, ctx))
		return 0;
	flags = spin_lock_irqsave(&dcache_lock);
	list_for_each_entry(c, &dir->d_children, d_child) {
		if ((off_t)c->d_cookie < ctx->pos)
			continue;
		if (!ctx->emit(ctx, c->d_name, c->d_namelen, c->d_inode->i_ino,
			       mode_to_dtype(c->d_inode->i_mode), c->d_cookie + 1))
			break;
		ctx->pos = c->d_cookie + 1;
	}
	spin_unlock_irqrestore(&dcache_lock, flags);
	return 0;
}

const struct file_operations dcache_dir_fops = {
	.readdir = dcache_readdir,
	.lseek = generic_nosize_lseek, // seek only to positions readdir handed out, or 0
};

struct getdents_ctx {
	struct dir_context ctx;
	char *buf;
	size_t size, used;
	bool full; // an entry did not fit
};

static bool getdents_emit(struct dir_context *ctx, const char *name, size_t len, ino_t ino,
			  unsigned int type, off_t next)
{
	struct getdents_ctx *g = container_of(ctx, struct getdents_ctx, ctx);
	size_t reclen = ALIGN_UP(__builtin_offsetof(struct linux_dirent64, d_name) + len + 1, 8);
	struct linux_dirent64 *de;

	if (g->used + reclen > g->size) {
		g->full = true;
		return false;
	}
	de = (struct linux_dirent64 *)(g->buf + g->used);
	de->d_ino = ino;
	de->d_off = next;
	de->d_reclen = reclen;
	de->d_type = type;
	memcpy(de->d_name, name, len);
	memset(de->d_name + len, 0, reclen - __builtin_offsetof(struct linux_dirent64, d_name) - len);
	g->used += reclen;
	return true;
}

static long getdents_file(struct file *f, void __user *ubuf, size_t count)
{
	struct getdents_ctx g = { .ctx.emit = getdents_emit };
	long ret;

	g.size = MIN(count, (size_t)GETDENTS_BUF_MAX);
	g.buf = kmalloc(MAX(g.size, 1UL));
	if (!g.buf)
		return -ENOMEM;
	mutex_lock(&f->f_pos_lock);
	g.ctx.pos = f->f_pos;
	ret = f->f_op->readdir(f, &g.ctx);
	if (!ret && g.used == 0 && g.full)
		ret = -EINVAL; // the buffer cannot hold even one entry
	if (!ret && g.used && copy_to_user(ubuf, g.buf, g.used))
		ret = -EFAULT;
	if (!ret) {
		f->f_pos = g.ctx.pos;
		ret = g.used;
	}
	mutex_unlock(&f->f_pos_lock);
	kfree(g.buf);
	return ret;
}

long sys_getdents64(int fd, void __user *ubuf, unsigned int count)
{
	struct file *f = fd_get_file(fd);
	long ret;

	if (!f)
		return -EBADF;
	if (f->f_mode & FMODE_PATH)
		ret = -EBADF;
	else if (!f->f_op->readdir)
		ret = -ENOTDIR;
	else
		ret = getdents_file(f, ubuf, count);
	file_put(f);
	return ret;
}
