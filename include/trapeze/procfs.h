// procfs: /proc, the kernel's view of itself as files, in the formats Linux's proc(5)
// documents so that unmodified tools (busybox ps, top, free) can read it.
// See docs/procfs.md for the layout, the locking and what is not there yet.
//
// The first section is what the rest of the kernel uses (vfs_init mounts procfs_type on
// /proc). The rest is shared by the files of fs/procfs/ only:
//	inode.c    the superblock, inodes and the three kinds of directory (/proc, /proc/<pid>,
//	           /proc/<pid>/fd), lookup, readdir, forgetting exited tasks
//	file.c     generated files (contents built into a buffer on open), symlinks, paths
//	task.c     safe snapshots of another task: its fields, mm, descriptor table, cwd
//	system.c   the files about the whole machine: meminfo, stat, uptime, mounts...
//	cpuinfo.c  /proc/cpuinfo from CPUID
//	pid.c      the files of one task: stat, status, statm, cmdline, maps, exe...
#pragma once

#include <trapeze/fs.h>
#include <trapeze/types.h>

struct mm;

// The "proc" file system type. Mount it with vfs_mount(&procfs_type, dir, NULL).
extern const struct fs_type procfs_type;

// --- inside procfs ----------------------------------------------------------------------

#define PROC_USER_HZ 100         // clock ticks in stat, uptime-based fields (Linux USER_HZ)
#define PROC_NS_PER_TICK (1000000000ULL / PROC_USER_HZ)
#define PROC_BUF_MAX (2UL << 20) // largest generated file (an exec argument area fits)

// The contents of a generated file, built in one pass. A generator writes with
// proc_printf/proc_putmem; when the text does not fit, the buffer records the overflow
// and the caller runs the generator again with twice the room, as Linux's seq_file does.
struct proc_buf {
	char *data;
	size_t len, cap;
	bool overflow;
};

void proc_printf(struct proc_buf *pb, const char *fmt, ...) __printf(2, 3);
void proc_putmem(struct proc_buf *pb, const void *src, size_t n);
// Add n bytes to the length and return where they go, or NULL when they do not fit
// (overflow is set; the length still counts them, so the next round has room). A caller
// that then fills fewer takes the difference off len.
char *proc_reserve(struct proc_buf *pb, size_t n);

// A generator fills pb for the task pid (0 for files about the whole machine). Returns 0
// or -errno (-ENOENT: the task is gone). Context: process context; may sleep.
typedef int (*proc_show_fn)(struct proc_buf *pb, pid_t pid);
// A symlink's target for the task pid, written into buf[0..size). Returns the full length
// (which may exceed size; the caller truncates) or -errno.
typedef long (*proc_link_fn)(pid_t pid, char *buf, size_t size);

// One name in a fixed directory (/proc or /proc/<pid>).
struct proc_entry {
	const char *name;
	mode_t mode;          // S_IFREG | perm, S_IFLNK | 0777 or S_IFDIR | perm
	proc_show_fn show;    // regular files
	proc_link_fn link;    // symlinks
	bool write_eio;       // writes fail with -EIO (Linux's answer for /proc's own files)
};

// What kind of node an inode is; stored in its proc_inode.
enum proc_kind {
	PROC_ROOT,    // /proc
	PROC_PID_DIR, // /proc/<pid>
	PROC_FD_DIR,  // /proc/<pid>/fd
	PROC_ENTRY,   // a file or symlink from an entry table
	PROC_FD_LINK, // /proc/<pid>/fd/<n>
};

// inode->i_private of every procfs inode. Constant after creation.
struct proc_inode {
	enum proc_kind kind;
	const struct proc_entry *entry; // PROC_ENTRY
	pid_t pid;                      // the task of /proc/<pid>/...; 0 under /proc itself
	int fd;                         // PROC_FD_LINK
};

static inline struct proc_inode *proc_i(const struct inode *inode)
{
	return inode->i_private;
}

// file.c: operations of generated files and symlinks, shared by inode.c.
extern const struct file_operations proc_file_fops;
extern const struct inode_operations proc_file_iops;
extern const struct inode_operations proc_link_iops;
// Write into buf[0..size) the path of d as seen from the global root, Linux style:
// "/a/b", "pipe:[12]" for an anonymous file, " (deleted)" after an unlinked one. Returns
// the full length, or -ENAMETOOLONG. Context: any; takes dcache_lock.
long proc_dentry_path(struct dentry *d, char *buf, size_t size);

// task.c: reading another task without holding it.
// A copy of one task's fields, taken at one moment under tasklist_lock.
struct proc_task {
	pid_t pid, tgid, ppid, pgid, sid;
	char comm[16];
	int state;                // enum task_state
	bool kthread;             // a kernel thread: no address space of its own
	int exit_code, exit_signal;
	uint64_t start_ns, utime_ticks, stime_ticks;
	uint64_t sig_pending, sig_blocked;
	uint64_t sig_ignored, sig_caught; // bit sig - 1: SIG_IGN / a handler
	int umask;                // -1 when the task has no fs context
	bool has_files;           // it has a descriptor table
	struct mm *mm;            // a reference (mm_put it), or NULL
};

// Snapshot task pid into *pt. Returns 0 or -ENOENT. Release with proc_task_release.
int proc_task_get(pid_t pid, struct proc_task *pt);
void proc_task_release(struct proc_task *pt);
// Whether task pid exists (a zombie does). Context: any.
bool proc_task_exists(pid_t pid);
// The task's descriptor table with a reference (files_put it), or NULL.
struct files *proc_task_files(pid_t pid);
// References to the task's cwd (root false) or root directory, or NULL.
struct dentry *proc_task_dir(pid_t pid, bool root);
// The file open as descriptor fd of the task, with a reference, or NULL.
struct file *proc_task_fd(pid_t pid, int fd);
// The state letter ps shows: R S D T Z X.
char proc_state_char(int state);

// What procfs reports about an address space, counted under the mm lock.
struct proc_mm {
	unsigned long total_vm, data_vm, stack_vm, exec_vm; // pages mapped
	unsigned long rss, rss_file, rss_anon, rss_shmem;    // pages present
	uintptr_t start_code, end_code, start_data, end_data;
	uintptr_t start_brk, brk, start_stack;
	uintptr_t arg_start, arg_end, env_start, env_end;
};

// Fill *pm from mm (takes the mm lock); the rss fields only when rss is true (that walks
// every page table).
void proc_mm_collect(struct mm *mm, struct proc_mm *pm, bool rss);
// Copy up to n bytes of mm's memory at addr into buf, through mm's page tables and the
// direct map (the loaded address space is never switched). Stops at the first page that
// is not present. Returns the bytes copied. Takes the mm lock. Context: process context.
size_t proc_mm_read(struct mm *mm, uintptr_t addr, void *buf, size_t n);

// The files of /proc (system.c, cpuinfo.c) and of /proc/<pid> (pid.c).
int proc_meminfo_show(struct proc_buf *pb, pid_t pid);
int proc_uptime_show(struct proc_buf *pb, pid_t pid);
int proc_loadavg_show(struct proc_buf *pb, pid_t pid);
int proc_stat_show(struct proc_buf *pb, pid_t pid);
int proc_version_show(struct proc_buf *pb, pid_t pid);
int proc_cmdline_show(struct proc_buf *pb, pid_t pid);
int proc_filesystems_show(struct proc_buf *pb, pid_t pid);
int proc_mounts_show(struct proc_buf *pb, pid_t pid);
int proc_cpuinfo_show(struct proc_buf *pb, pid_t pid);
long proc_self_link(pid_t pid, char *buf, size_t size);
long proc_mounts_link(pid_t pid, char *buf, size_t size);

int proc_pid_stat_show(struct proc_buf *pb, pid_t pid);
int proc_pid_statm_show(struct proc_buf *pb, pid_t pid);
int proc_pid_status_show(struct proc_buf *pb, pid_t pid);
int proc_pid_limits_show(struct proc_buf *pb, pid_t pid);
int proc_pid_cmdline_show(struct proc_buf *pb, pid_t pid);
int proc_pid_environ_show(struct proc_buf *pb, pid_t pid);
int proc_pid_comm_show(struct proc_buf *pb, pid_t pid);
int proc_pid_maps_show(struct proc_buf *pb, pid_t pid);
long proc_pid_exe_link(pid_t pid, char *buf, size_t size);
long proc_pid_cwd_link(pid_t pid, char *buf, size_t size);
long proc_pid_root_link(pid_t pid, char *buf, size_t size);
// The target of /proc/<pid>/fd/<fd>.
long proc_fd_link(pid_t pid, int fd, char *buf, size_t size);

