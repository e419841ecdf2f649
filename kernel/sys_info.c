// Identity and system information calls: pids, credentials (everything runs as root),
// uname, sysinfo, getrandom, prctl, reboot. Resource limits live in kernel/rlimit.c.
#include <trapeze/mm.h>
#include <trapeze/page_alloc.h>
#include <trapeze/random.h>
#include <trapeze/sched.h>
#include <trapeze/string.h>
#include <trapeze/task.h>
#include <trapeze/uaccess.h>
#include <asm/arch.h>
#include <asm/cpu.h>
#include <asm/irq.h>

long sys_getpid(void)
{
	return current->tgid;
}

long sys_gettid(void)
{
	return current->pid;
}

long sys_getppid(void)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	struct task *p = current->group_leader->parent;
	pid_t ppid = p ? p->tgid : 0;

	// Under the lock: the parent may exit (and be freed) meanwhile, reparenting us.
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return ppid;
}

// Credentials: one user, root. Changing to root is allowed, anything else is EPERM.
long sys_getuid(void) { return 0; }
long sys_geteuid(void) { return 0; }
long sys_getgid(void) { return 0; }
long sys_getegid(void) { return 0; }

long sys_setuid(uid_t uid)
{
	return uid == 0 ? 0 : -EPERM;
}

long sys_setgid(gid_t gid)
{
	return gid == 0 ? 0 : -EPERM;
}

static long put_three_zero_ids(unsigned int __user *a, unsigned int __user *b,
			       unsigned int __user *c)
{
	if (put_user(0u, a) || put_user(0u, b) || put_user(0u, c))
		return -EFAULT;
	return 0;
}

long sys_getresuid(unsigned int __user *r, unsigned int __user *e, unsigned int __user *s)
{
	return put_three_zero_ids(r, e, s);
}

long sys_getresgid(unsigned int __user *r, unsigned int __user *e, unsigned int __user *s)
{
	return put_three_zero_ids(r, e, s);
}

long sys_getgroups(int size, gid_t __user *list)
{
	if (size < 0)
		return -EINVAL;
	return 0; // no supplementary groups
}

struct linux_utsname {
	char sysname[65], nodename[65], release[65], version[65], machine[65], domainname[65];
};

long sys_uname(struct linux_utsname __user *buf)
{
	struct linux_utsname u;

	memset(&u, 0, sizeof(u));
	strlcpy(u.sysname, "Trapeze", sizeof(u.sysname));
	strlcpy(u.nodename, "trapeze", sizeof(u.nodename));
	// Programs (glibc among them) compare the release with minimum kernel versions.
	strlcpy(u.release, "6.1.0-trapeze", sizeof(u.release));
	strlcpy(u.version, "#1 " __DATE__, sizeof(u.version));
	strlcpy(u.machine, "x86_64", sizeof(u.machine));
	strlcpy(u.domainname, "(none)", sizeof(u.domainname));
	return copy_to_user(buf, &u, sizeof(u));
}

struct linux_sysinfo {
	int64_t uptime;
	uint64_t loads[3];
	uint64_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
	uint16_t procs, pad;
	uint32_t pad2;
	uint64_t totalhigh, freehigh;
	uint32_t mem_unit;
	char reserved[4];
};
_Static_assert(sizeof(struct linux_sysinfo) == 112, "struct sysinfo is 112 bytes");

long sys_sysinfo(struct linux_sysinfo __user *info)
{
	struct linux_sysinfo si;

	memset(&si, 0, sizeof(si));
	si.uptime = (int64_t)(time_ns() / 1000000000ULL);
	si.totalram = mm_total_pages() * PAGE_SIZE;
	si.freeram = mm_free_pages() * PAGE_SIZE;
	si.procs = (uint16_t)task_count();
	si.mem_unit = 1;
	return copy_to_user(info, &si, sizeof(si));
}

#define GRND_NONBLOCK 0x1
#define GRND_RANDOM 0x2
#define GRND_INSECURE 0x4
#define GETRANDOM_CHUNK 256

long sys_getrandom(void __user *buf, size_t len, unsigned int flags)
{
	uint8_t chunk[GETRANDOM_CHUNK];
	size_t done = 0;

	if (flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
		return -EINVAL;
	if ((flags & GRND_INSECURE) && (flags & GRND_RANDOM))
		return -EINVAL;
	if (len > INT32_MAX)
		len = INT32_MAX;
	while (done < len) {
		size_t n = MIN(len - done, sizeof(chunk));

		// A large request stops for a signal with what it has, as on Linux, so that
		// even a 2 GiB one can be killed.
		if (done && signal_pending_current())
			break;
		get_random_bytes(chunk, n);
		if (copy_to_user((uint8_t __user *)buf + done, chunk, n))
			return done ? (long)done : -EFAULT;
		done += n;
		cond_resched();
	}
	return (long)done;
}

#define PR_SET_PDEATHSIG 1
#define PR_GET_PDEATHSIG 2
#define PR_SET_NAME 15
#define PR_GET_NAME 16

long sys_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4,
	       unsigned long a5)
{
	char name[TASK_COMM_LEN];
	long n;

	switch (option) {
	case PR_SET_NAME:
		n = strncpy_from_user(name, (const char __user *)a2, sizeof(name));
		if (n == -EFAULT)
			return -EFAULT;
		name[sizeof(name) - 1] = '\0';
		strlcpy(current->comm, name, sizeof(current->comm));
		return 0;
	case PR_GET_NAME:
		return copy_to_user((char __user *)a2, current->comm, sizeof(current->comm));
	default:
		return -EINVAL;
	}
}

#define LINUX_REBOOT_MAGIC1 0xfee1dead
#define LINUX_REBOOT_MAGIC2 672274793
#define LINUX_REBOOT_CMD_RESTART 0x01234567
#define LINUX_REBOOT_CMD_HALT 0xcdef0123
#define LINUX_REBOOT_CMD_POWER_OFF 0x4321fedc

// Only power-off/halt/restart are supported; all end the machine (QEMU exits).
long sys_reboot(int magic1, int magic2, unsigned int cmd, void __user *arg)
{
	if ((unsigned int)magic1 != LINUX_REBOOT_MAGIC1 || magic2 != LINUX_REBOOT_MAGIC2)
		return -EINVAL;
	switch (cmd) {
	case LINUX_REBOOT_CMD_POWER_OFF:
	case LINUX_REBOOT_CMD_HALT:
	case LINUX_REBOOT_CMD_RESTART:
		machine_power_off(0);
	default:
		return -EINVAL;
	}
}
