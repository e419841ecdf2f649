// Regression tests for bugs found in a review of the core kernel paths: entry with a user
// GS base, wake-ups lost to preemption, the task limit's error code and timed sleeps whose
// deadline would overflow.
#include <trapeze/err.h>
#include <trapeze/ktest.h>
#include <trapeze/sched.h>
#include <trapeze/task.h>
#include <asm/arch.h>
#include <asm/cpu.h>
#include <asm/irq.h>
#include <asm/msr.h>
#include <asm/x86.h>

#define MS 1000000ULL

// An NMI (or machine check) can arrive in the instructions where GS still holds the user's
// base: syscall_entry before its swapgs, the exits after theirs. The frame's CS says kernel
// there, so the entry code must ask the GS base itself. `int $2` takes the NMI gate and its
// IST stack just as a real NMI does; the user base here is an unmapped user address, so an
// entry that trusted CS would fault on its first per-CPU access.
KTEST(entry_nmi_with_user_gs, "entry: an NMI where GS still holds the user's base")
{
	uint64_t saved = rdmsr(MSR_KERNEL_GS_BASE), flags, before = nmi_count;

	flags = local_irq_save();
	wrmsr(MSR_KERNEL_GS_BASE, 0x1000);
	__asm__ volatile("swapgs\n\tint $2\n\tswapgs" ::: "memory");
	wrmsr(MSR_KERNEL_GS_BASE, saved);
	local_irq_restore(flags);
	KT_EXPECT(t, nmi_count == before + 1);
	KT_EXPECT(t, this_cpu() == &boot_cpu);
	KT_EXPECT(t, rdmsr(MSR_GS_BASE) == (uint64_t)&boot_cpu);
	KT_EXPECT(t, rdmsr(MSR_KERNEL_GS_BASE) == saved);
}

KTEST(entry_nmi_in_kernel, "entry: an NMI in kernel code with the kernel's GS base")
{
	uint64_t flags = local_irq_save(), before = nmi_count;

	__asm__ volatile("int $2" ::: "memory");
	local_irq_restore(flags);
	KT_EXPECT(t, nmi_count == before + 1);
	KT_EXPECT(t, rdmsr(MSR_GS_BASE) == (uint64_t)&boot_cpu);
}

struct half_asleep {
	struct wait_queue wq;
	volatile bool cond;
	volatile bool done;
};

// Goes to wait for a condition that is already true, with a reschedule pending: the
// unlock inside prepare_to_wait switches it out (involuntarily) before it checks cond.
static void half_asleep_main(void *arg)
{
	struct half_asleep *h = arg;

	this_cpu()->need_resched = true;
	if (wait_event_interruptible(h->wq, h->cond) == 0)
		h->done = true;
}

KTEST(sched_preempted_sleeper_runs, "sched: a task preempted while going to sleep stays runnable")
{
	struct half_asleep h = { .cond = true, .done = false };
	struct task *th;
	uint64_t start = time_ns();

	wait_queue_init(&h.wq);
	th = kthread_create("half-asleep", half_asleep_main, &h);
	KT_EXPECT(t, th != NULL);
	if (!th)
		return;
	while (!h.done && time_ns() - start < 200 * MS)
		sleep_ns(MS, NULL);
	KT_EXPECT(t, h.done);
	if (!h.done)
		wake_up_task(th); // the lost wake-up: rescue it so the test can end
	kthread_join(th);
}

static void noop_main(void *arg)
{
}

// Over the task limit task_create() says EAGAIN (fork's errno for it, as on Linux), not
// ENOMEM; memory was not the problem.
KTEST(task_limit_is_eagain, "task: creating past the task limit gives -EAGAIN")
{
	enum { MAX_TRIES = 4096 };
	static struct task *made[MAX_TRIES];
	struct task *last = NULL;
	int n = 0;

	while (n < MAX_TRIES) {
		last = task_create("limit", noop_main, NULL);
		if (IS_ERR(last))
			break;
		made[n++] = last;
	}
	KT_EXPECT(t, n < MAX_TRIES && IS_ERR(last));
	KT_EXPECT(t, PTR_ERR(last) == -EAGAIN);
	while (n > 0)
		task_free(made[--n]); // never started: nothing but the structure to free
	last = task_create("limit", noop_main, NULL);
	KT_EXPECT(t, !IS_ERR(last));
	if (!IS_ERR(last))
		task_free(last);
}

// A sleep far longer than the clock can count must not wrap around into "already over".
KTEST(sched_sleep_huge_deadline, "sched: schedule_timeout with a deadline that never comes")
{
	set_current_state(TASK_INTERRUPTIBLE);
	wake_up_task(current); // the sleep ends at once through the wake-up, not the deadline
	KT_EXPECT(t, !schedule_timeout(UINT64_MAX));
	KT_EXPECT(t, sched_deadline_ns(UINT64_MAX) == UINT64_MAX);
	KT_EXPECT(t, sched_deadline_ns(UINT64_MAX - 1) == UINT64_MAX);
	KT_EXPECT(t, sched_deadline_ns(0) <= time_ns());
}
