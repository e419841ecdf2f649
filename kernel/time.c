// Time system calls: clocks from the calibrated TSC (monotonic) and the RTC read at boot
// (realtime), sleeping, and yielding the CPU.
#include <trapeze/sched.h>
#include <trapeze/task.h>
#include <asm/cpu.h>
#include <trapeze/uaccess.h>
#include <asm/apic.h>
#include <asm/irq.h>

#define NSEC_PER_SEC 1000000000ULL

static long restart_sleep(void);

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID 3
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7
#define TIMER_ABSTIME 1

struct linux_timespec {
	int64_t tv_sec;
	int64_t tv_nsec;
};

struct linux_timeval {
	int64_t tv_sec;
	int64_t tv_usec;
};

static int clock_read(int clock, uint64_t *ns)
{
	switch (clock) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
		*ns = time_realtime_ns();
		return 0;
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
		*ns = time_ns();
		return 0;
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID:
		// CPU time is accounted in ticks; approximate the running task's share by its
		// age until per-task accounting is finer.
		*ns = (current->utime_ticks + current->stime_ticks) * (NSEC_PER_SEC / HZ);
		return 0;
	default:
		return -EINVAL;
	}
}

static struct linux_timespec ns_to_timespec(uint64_t ns)
{
	return (struct linux_timespec){ (int64_t)(ns / NSEC_PER_SEC), (int64_t)(ns % NSEC_PER_SEC) };
}

long sys_clock_gettime(int clock, struct linux_timespec __user *tp)
{
	uint64_t ns;
	struct linux_timespec ts;
	int err = clock_read(clock, &ns);

	if (err)
		return err;
	ts = ns_to_timespec(ns);
	return copy_to_user(tp, &ts, sizeof(ts));
}

long sys_clock_getres(int clock, struct linux_timespec __user *tp)
{
	uint64_t ns;
	struct linux_timespec res = { 0, 1 };
	int err = clock_read(clock, &ns);

	if (err)
		return err;
	if (clock == CLOCK_PROCESS_CPUTIME_ID || clock == CLOCK_THREAD_CPUTIME_ID)
		res.tv_nsec = NSEC_PER_SEC / HZ;
	if (tp && copy_to_user(tp, &res, sizeof(res)))
		return -EFAULT;
	return 0;
}

long sys_gettimeofday(struct linux_timeval __user *tv, void __user *tz)
{
	uint64_t ns = time_realtime_ns();
	struct linux_timeval v = { (int64_t)(ns / NSEC_PER_SEC), (int64_t)(ns % NSEC_PER_SEC / 1000) };

	if (tv && copy_to_user(tv, &v, sizeof(v)))
		return -EFAULT;
	if (tz && clear_user(tz, 8))
		return -EFAULT;
	return 0;
}

long sys_time(int64_t __user *t)
{
	int64_t now = (int64_t)(time_realtime_ns() / NSEC_PER_SEC);

	if (t && put_user(now, t))
		return -EFAULT;
	return now;
}

static int timespec_from_user(const struct linux_timespec __user *u, uint64_t *ns)
{
	struct linux_timespec ts;

	if (copy_from_user(&ts, u, sizeof(ts)))
		return -EFAULT;
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= (int64_t)NSEC_PER_SEC)
		return -EINVAL;
	// Past about 292 years the nanoseconds would not fit: clamp, as Linux does (KTIME_MAX),
	// rather than wrap around into a short sleep.
	if (ts.tv_sec >= (INT64_MAX - ts.tv_nsec) / (int64_t)NSEC_PER_SEC)
		*ns = INT64_MAX;
	else
		*ns = (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
	return 0;
}

// Sleep until the monotonic deadline. Interrupted by a signal, it reports the time left
// in *rem and returns -ERESTART_RESTARTBLOCK: if a handler runs, the caller sees EINTR;
// if not (a stop and continue, an ignored signal), the sleep resumes through
// restart_syscall for the time that is left, as on Linux.
static long sleep_until(uint64_t deadline, struct linux_timespec __user *rem)
{
	uint64_t now = time_ns();
	struct linux_timespec r;

	if (now >= deadline || sleep_ns(deadline - now, NULL) == 0)
		return 0;
	now = time_ns();
	r = ns_to_timespec(deadline > now ? deadline - now : 0);
	if (rem && copy_to_user(rem, &r, sizeof(r)))
		return -EFAULT;
	current->restart.deadline_ns = deadline;
	current->restart.args[0] = (uint64_t)rem;
	current->restart.fn = restart_sleep;
	return -ERESTART_RESTARTBLOCK;
}

static long restart_sleep(void)
{
	return sleep_until(current->restart.deadline_ns,
			   (struct linux_timespec __user *)current->restart.args[0]);
}

static long sleep_relative(uint64_t ns, struct linux_timespec __user *rem)
{
	return sleep_until(sched_deadline_ns(ns), rem);
}

// restart_syscall(2): continue the system call that the signal code turned into it.
long sys_restart_syscall(void)
{
	long (*fn)(void) = current->restart.fn;

	current->restart.fn = NULL;
	return fn ? fn() : -EINTR;
}

long sys_nanosleep(const struct linux_timespec __user *req, struct linux_timespec __user *rem)
{
	uint64_t ns;
	int err = timespec_from_user(req, &ns);

	if (err)
		return err;
	return sleep_relative(ns, rem);
}

long sys_clock_nanosleep(int clock, int flags, const struct linux_timespec __user *req,
			 struct linux_timespec __user *rem)
{
	uint64_t ns, now;
	int err;

	if (clock == CLOCK_THREAD_CPUTIME_ID)
		return -EINVAL;
	err = clock_read(clock, &now);
	if (err)
		return err;
	err = timespec_from_user(req, &ns);
	if (err)
		return err;
	if (flags & TIMER_ABSTIME) {
		if (ns <= now)
			return 0;
		// An absolute sleep has no remainder to report, and the same call restarted
		// sleeps exactly the rest: EINTR only if a handler ran (a stop and SIGCONT, or
		// a signal with no handler, restart it), as on Linux.
		return sleep_ns(ns - now, NULL) ? -ERESTARTNOHAND : 0;
	}
	return sleep_relative(ns, rem);
}

long sys_sched_yield(void)
{
	// The caller stays runnable and goes to the back of the run queue.
	schedule();
	return 0;
}
