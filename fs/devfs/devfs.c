// devfs: /dev. It is a ramfs instance (so users may add directories, links and files, as
// with Linux's devtmpfs) in which drivers create their device nodes at boot through
// chrdev_register(). A node only carries a device number; opening any character device
// node, in devfs or elsewhere, finds the driver's file operations in the chrdev table by
// that number, as Linux does.
// Lock: chrdev_lock (leaf spinlock) for the table; entries are never removed.

#include <trapeze/err.h>
#include <trapeze/fs.h>
#include <trapeze/printk.h>
#include <trapeze/string.h>

#define CHRDEV_MAX 32

struct chrdev {
	dev_t rdev;
	const struct file_operations *fops;
};

static DEFINE_SPINLOCK(chrdev_lock);
static struct chrdev chrdevs[CHRDEV_MAX]; // under chrdev_lock
static int nr_chrdevs;                    // under chrdev_lock
static struct dentry *devfs_root;         // constant after devfs_mount

// A ramfs superblock under devfs's own name.
static struct super_block *devfs_fill(const struct fs_type *type, const void *data)
{
	return ramfs_type.mount(type, data);
}

static const struct fs_type devfs_type = {
	.name = "devtmpfs",
	.magic = 0x01021994, // TMPFS_MAGIC, which Linux's devtmpfs reports
	.mount = devfs_fill,
};

// Context: boot, before any other task runs.
int devfs_mount(struct dentry *dir)
{
	int err = vfs_mount(&devfs_type, dir, NULL);

	if (!err)
		devfs_root = dir->d_mounted->s_root;
	return err;
}

const struct file_operations *chrdev_fops(dev_t rdev)
{
	const struct file_operations *fops = NULL;

	spin_lock(&chrdev_lock);
	for (int i = 0; i < nr_chrdevs; i++) {
		if (chrdevs[i].rdev == rdev) {
			fops = chrdevs[i].fops;
			break;
		}
	}
	spin_unlock(&chrdev_lock);
	return fops;
}

static int chrdev_add(dev_t rdev, const struct file_operations *fops)
{
	int err = 0;

	spin_lock(&chrdev_lock);
	for (int i = 0; i < nr_chrdevs; i++) {
		if (chrdevs[i].rdev == rdev)
			err = -EBUSY;
	}
	if (!err && nr_chrdevs == CHRDEV_MAX)
		err = -ENOSPC;
	if (!err)
		chrdevs[nr_chrdevs++] = (struct chrdev){ rdev, fops };
	spin_unlock(&chrdev_lock);
	return err;
}

// Context: boot, after devfs_mount.
int chrdev_register(dev_t rdev, const char *name, mode_t perm, const struct file_operations *fops)
{
	int err = chrdev_add(rdev, fops);

	if (err)
		return err;
	if (!devfs_root)
		return -ENODEV;
	err = vfs_mknod(devfs_root, name, strlen(name), S_IFCHR | (perm & S_IALLUGO), rdev, NULL);
	if (err)
		pr_err("devfs: cannot create /dev/%s: %d\n", name, err);
	return err;
}
