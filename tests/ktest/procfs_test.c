// Unit tests for procfs (fs/procfs/): the growable generator buffer, paths of dentries,
// files read through the VFS as a kernel thread sees them, and the directory of a kernel
// thread that has gone. The user-space side (formats, other processes, busybox) is
// tests/user/procfs.c.
#include <trapeze/err.h>
#include <trapeze/format.h>
#include <trapeze/kmalloc.h>
#include <trapeze/ktest.h>
#include <trapeze/mm.h>
#include <trapeze/procfs.h>
#include <trapeze/sched.h>
#include <trapeze/string.h>
#include <trapeze/task.h>
#include <trapeze/vfs.h>
#include <asm/cpu.h>

#define MS 1000000ULL

static bool kt_contains(const char *s, const char *word)
{
	size_t n = strlen(word);

	for (; *s; s++) {
		if (strncmp(s, word, n) == 0)
			return true;
	}
	return false;
}

// Read path from offset 0 into buf (NUL-terminated). Returns the length or -errno.
static long kt_read(const char *path, char *buf, size_t size)
{
	struct file *f = file_open(path, O_RDONLY, 0);
	long n;

	if (IS_ERR(f))
		return PTR_ERR(f);
	n = kernel_read(f, buf, size - 1, 0);
	file_put(f);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

KTEST(procfs_buf_overflow, "procfs: a full buffer keeps counting so the retry fits")
{
	char data[8];
	struct proc_buf pb = { .data = data, .cap = sizeof(data) };

	proc_printf(&pb, "%s", "abc");
	KT_EXPECT(t, !pb.overflow && pb.len == 3 && memcmp(data, "abc", 3) == 0);
	proc_printf(&pb, "%s", "hello world");
	KT_EXPECT(t, pb.overflow && pb.len == 14);
	KT_EXPECT(t, proc_reserve(&pb, 4) == NULL && pb.len == 18);
	pb = (struct proc_buf){ .data = data, .cap = sizeof(data) };
	proc_putmem(&pb, "12345678", 8);
	KT_EXPECT(t, !pb.overflow && pb.len == 8 && memcmp(data, "12345678", 8) == 0);
}

KTEST(procfs_dentry_path, "procfs: dentry paths cross mounts and start at /")
{
	char buf[64];
	struct dentry *d;
	long n = proc_dentry_path(vfs_root, buf, sizeof(buf));

	KT_EXPECT(t, n == 1 && buf[0] == '/');
	KT_EXPECT(t, path_lookupat(AT_FDCWD, "/dev/null", 0, &d) == 0);
	n = proc_dentry_path(d, buf, sizeof(buf));
	KT_EXPECT(t, n == 9 && memcmp(buf, "/dev/null", 9) == 0);
	KT_EXPECT(t, proc_dentry_path(d, buf, 4) == -ENAMETOOLONG);
	dentry_put(d);
	KT_EXPECT(t, path_lookupat(AT_FDCWD, "/proc/meminfo", 0, &d) == 0);
	n = proc_dentry_path(d, buf, sizeof(buf));
	KT_EXPECT(t, n == 13 && memcmp(buf, "/proc/meminfo", 13) == 0);
	dentry_put(d);
}

KTEST(procfs_meminfo_total, "procfs: /proc/meminfo starts with MemTotal of all RAM")
{
	char *buf = kmalloc(PAGE_SIZE), want[64];

	KT_EXPECT(t, buf && kt_read("/proc/meminfo", buf, PAGE_SIZE) > 0);
	if (!buf)
		return;
	snprintf(want, sizeof(want), "MemTotal:       %8lu kB\n", mm_total_pages() * 4);
	KT_EXPECT(t, strncmp(buf, want, strlen(want)) == 0);
	kfree(buf);
}

KTEST(procfs_kthread_stat, "procfs: a kernel thread's stat, status, exe and cmdline")
{
	char path[64], buf[512], want[64];
	struct dentry *d;

	snprintf(path, sizeof(path), "/proc/%d/stat", current->pid);
	KT_EXPECT(t, kt_read(path, buf, sizeof(buf)) > 0);
	snprintf(want, sizeof(want), "%d (%s) R ", current->pid, current->comm);
	KT_EXPECT(t, strncmp(buf, want, strlen(want)) == 0);
	snprintf(path, sizeof(path), "/proc/%d/status", current->pid);
	KT_EXPECT(t, kt_read(path, buf, sizeof(buf)) > 0 && kt_contains(buf, "Kthread:\t1\n"));
	KT_EXPECT(t, !kt_contains(buf, "VmRSS")); // no address space, no Vm lines
	snprintf(path, sizeof(path), "/proc/%d/cmdline", current->pid);
	KT_EXPECT(t, kt_read(path, buf, sizeof(buf)) == 0);
	snprintf(path, sizeof(path), "/proc/%d/exe", current->pid);
	KT_EXPECT(t, path_lookupat(AT_FDCWD, path, 0, &d) == 0);
	if (d) {
		KT_EXPECT(t, d->d_inode->i_op->readlink(d, buf, sizeof(buf)) == -ENOENT);
		dentry_put(d);
	}
}

static void kt_nap(void *arg)
{
	sleep_ns(20 * MS, NULL);
}

KTEST(procfs_gone_task, "procfs: a task that has gone leaves no /proc/<pid>")
{
	struct task *th = kthread_create("procfs-nap", kt_nap, NULL);
	char path[64], buf[256];
	struct dentry *d = NULL;
	struct file *dir;
	pid_t pid;

	KT_EXPECT(t, th != NULL);
	if (!th)
		return;
	pid = th->pid;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	KT_EXPECT(t, kt_read(path, buf, sizeof(buf)) > 0); // looked up: dentries cached
	kthread_join(th);
	KT_EXPECT(t, kt_read(path, buf, sizeof(buf)) == -ENOENT);
	dir = file_open("/proc", O_RDONLY | O_DIRECTORY, 0); // forgets the gone tasks
	KT_EXPECT(t, !IS_ERR(dir));
	if (!IS_ERR(dir))
		file_put(dir);
	snprintf(path, sizeof(path), "/proc/%d", pid);
	KT_EXPECT(t, path_lookupat(AT_FDCWD, path, 0, &d) == -ENOENT);
	KT_EXPECT(t, path_lookupat(AT_FDCWD, "/proc/0", 0, &d) == -ENOENT);
	KT_EXPECT(t, path_lookupat(AT_FDCWD, "/proc/01", 0, &d) == -ENOENT);
}
