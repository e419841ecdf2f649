// Unit tests for the scheduler and wait queues (kernel/sched.c), with kernel threads:
// wake-ups are delivered and never lost, runnable tasks share the CPU, kernel code is
// preempted by the timer, and timed sleeps last long enough.
#include <trapeze/ktest.h>
#include <trapeze/sched.h>
#include <trapeze/task.h>
#include <asm/irq.h>

#define MS 1000000ULL

struct wq_test {
	struct wait_queue wq;
	volatile bool cond;
	volatile bool woke;
};

static void waiter_main(void *arg)
{
	struct wq_test *w = arg;

	if (wait_event_interruptible(w->wq, w->cond) == 0)
		w->woke = true;
}

KTEST(sched_wait_queue_wakes, "sched: wake_up wakes a task sleeping on a wait queue")
{
	struct wq_test w = { .cond = false, .woke = false };
	struct task *th;

	wait_queue_init(&w.wq);
	th = kthread_create("waiter", waiter_main, &w);
	KT_EXPECT(t, th != NULL);
	if (!th)
		return;
	sleep_ns(20 * MS, NULL); // let it go to sleep
	KT_EXPECT(t, !w.woke && th->state == TASK_INTERRUPTIBLE);
	w.cond = true;
	wake_up(&w.wq);
	kthread_join(th);
	KT_EXPECT(t, w.woke);
}

KTEST(sched_no_lost_wakeup, "sched: a condition already true never sleeps (no lost wake-up)")
{
	struct wq_test w = { .cond = true, .woke = false };
	struct task *th;

	wait_queue_init(&w.wq);
	th = kthread_create("waiter", waiter_main, &w);
	KT_EXPECT(t, th != NULL);
	if (!th)
		return;
	kthread_join(th); // would hang if the waiter slept without a wake-up
	KT_EXPECT(t, w.woke);
}

struct spin_test {
	volatile bool stop;
	volatile unsigned long count;
};

// Spins in kernel mode without ever yielding: only timer preemption lets others run.
static void spinner_main(void *arg)
{
	struct spin_test *s = arg;

	while (!s->stop)
		s->count++;
}

KTEST(sched_kernel_preemption, "sched: kernel code that never yields is preempted")
{
	struct spin_test a = { false, 0 }, b = { false, 0 };
	struct task *ta = kthread_create("spin-a", spinner_main, &a);
	struct task *tb = kthread_create("spin-b", spinner_main, &b);

	KT_EXPECT(t, ta && tb);
	// This task only gets the CPU back if the spinners are preempted in kernel mode.
	sleep_ns(100 * MS, NULL);
	a.stop = b.stop = true;
	if (ta)
		kthread_join(ta);
	if (tb)
		kthread_join(tb);
	KT_EXPECT(t, a.count > 0 && b.count > 0);
	// Round robin shares the CPU: neither spinner gets more than 4 times the other.
	KT_EXPECT(t, a.count < 4 * b.count && b.count < 4 * a.count);
}

KTEST(sched_sleep_duration, "sched: sleep_ns sleeps at least as long as asked")
{
	uint64_t start = time_ns();

	KT_EXPECT(t, sleep_ns(30 * MS, NULL) == 0);
	KT_EXPECT(t, time_ns() - start >= 30 * MS);
	KT_EXPECT(t, time_ns() - start < 1000 * MS);
}

KTEST(sched_task_limit_recovers, "sched: tasks come back after being freed")
{
	int before = task_count();
	struct spin_test s = { true, 0 };
	struct task *th = kthread_create("short", spinner_main, &s);

	KT_EXPECT(t, th != NULL);
	KT_EXPECT(t, task_count() == before + 1);
	if (th)
		kthread_join(th);
	KT_EXPECT(t, task_count() == before);
}
