// The scheduler: one run queue, round-robin with a time slice, and an idle task.
//
// The running task is never on the run queue; a runnable task waiting for the CPU is
// (task->on_rq). The timer interrupt (sched_tick) counts down the running task's slice
// and sets need_resched; the switch itself happens on the way out of the interrupt —
// on the return to user mode, or, for kernel code, when preempt_count is zero
// (preempt_schedule_irq) — or when a task blocks and calls schedule() itself.
//
// Lock: rq_lock (irqsave) protects the run queue, the sleeper list and task->state
// transitions to and from running. It is held across switch_to and released by the task
// that resumes (in schedule() or, for a new task, in schedule_tail()).
#include <trapeze/panic.h>
#include <trapeze/printk.h>
#include <trapeze/sched.h>
#include <trapeze/signal.h>
#include <trapeze/task.h>
#include <trapeze/vm.h>
#include <asm/arch.h>
#include <asm/cpu.h>
#include <asm/irq.h>
#include <asm/msr.h>
#include <asm/paging.h>
#include <asm/x86.h>

#define TIME_SLICE_TICKS 2 // 20 ms at HZ=100

static DEFINE_SPINLOCK(rq_lock);
static LIST_HEAD(run_queue);     // runnable tasks, under rq_lock
static LIST_HEAD(sleepers);      // tasks in schedule_timeout, under rq_lock
static struct task *idle_task;

static void enqueue_locked(struct task *t)
{
	assert_held(&rq_lock);
	if (!t->on_rq && t != idle_task) {
		list_add_tail(&t->run_link, &run_queue);
		t->on_rq = true;
	}
}

void wake_up_task(struct task *t)
{
	uint64_t flags = spin_lock_irqsave(&rq_lock);

	if (t->state == TASK_INTERRUPTIBLE || t->state == TASK_UNINTERRUPTIBLE) {
		t->state = TASK_RUNNING;
		if (t != current)
			enqueue_locked(t);
		this_cpu()->need_resched = true;
	}
	spin_unlock_irqrestore(&rq_lock, flags);
}

void task_start(struct task *t)
{
	uint64_t flags = spin_lock_irqsave(&rq_lock);

	t->state = TASK_RUNNING;
	enqueue_locked(t);
	spin_unlock_irqrestore(&rq_lock, flags);
}

static struct task *pick_next_locked(void)
{
	struct task *next;

	if (list_empty(&run_queue))
		return idle_task;
	next = list_first_entry(&run_queue, struct task, run_link);
	list_del(&next->run_link);
	next->on_rq = false;
	return next;
}

// Everything that follows a task onto the CPU: its kernel stack for the next entry from
// user mode, its address space, TLS bases and FPU registers.
static void context_switch(struct task *prev, struct task *next)
{
	if (prev->fpu_state)
		fpu_save(prev->fpu_state);
	// Kernel threads borrow whatever address space is loaded: no CR3 write for them.
	if (next->mm)
		mm_activate(next->mm);
	cpu_set_kernel_stack(next->kstack_top);
	if (next->mm) {
		wrmsr(MSR_FS_BASE, next->fs_base);
		wrmsr(MSR_KERNEL_GS_BASE, next->gs_base);
	}
	if (next->fpu_state)
		fpu_restore(next->fpu_state);
	this_cpu()->running = next;
	switch_to(prev, next);
}

// Switch to the next runnable task. preempt says the switch is involuntary (the timer or a
// wake-up asked for it): the task may be half-way into going to sleep (its state already
// set, its wake-up condition not yet checked), so it stays runnable whatever its state,
// and it goes to sleep only when it calls schedule() itself.
static void __schedule(bool preempt)
{
	struct task *prev = current, *next;
	uint64_t flags;

	if (prev->preempt_count != 0 || in_interrupt())
		panic("schedule() in atomic context (preempt_count %d, irq nesting %d)",
		      prev->preempt_count, this_cpu()->irq_nesting);
	flags = spin_lock_irqsave(&rq_lock);
	this_cpu()->need_resched = false;
	if (preempt || prev->state == TASK_RUNNING)
		enqueue_locked(prev);
	next = pick_next_locked();
	next->slice_ticks = TIME_SLICE_TICKS;
	if (next != prev)
		context_switch(prev, next);
	// Now running as prev again (possibly much later), or as a task resuming here.
	spin_unlock_irqrestore(&rq_lock, flags);
}

void schedule(void)
{
	__schedule(false);
}

void schedule_final(void)
{
	struct task *t = current;

	// Interrupts off first: with preemption about to be allowed again, nothing may switch
	// the dying task out involuntarily (which would put it back on the run queue).
	local_irq_disable();
	assert(t->state == TASK_ZOMBIE || t->state == TASK_DEAD);
	assert(t->preempt_count == 1);
	t->preempt_count = 0;
	__schedule(false);
	panic("exited task %d ran again", t->pid);
}

// The first thing a new task runs (task_entry in switch.S): release the run-queue lock
// that schedule() held across the switch, and let interrupts in.
void schedule_tail(struct task *prev)
{
	spin_unlock_irqrestore(&rq_lock, X86_EFLAGS_IF);
}

void cond_resched(void)
{
	if (this_cpu()->need_resched && current->preempt_count == 0 && !in_interrupt() &&
	    irqs_enabled())
		__schedule(true);
}

void preempt_schedule_irq(void)
{
	if (!this_cpu()->need_resched || current->preempt_count != 0)
		return;
	// __schedule() runs with interrupts enabled between switches, as for any caller.
	local_irq_enable();
	__schedule(true);
	local_irq_disable();
}

static void wake_sleepers_locked(uint64_t now)
{
	struct task *t, *tmp;

	list_for_each_entry_safe(t, tmp, &sleepers, timer_link) {
		if (t->wake_at_ns > now)
			continue;
		list_del(&t->timer_link);
		t->wake_at_ns = 0;
		if (t->state == TASK_INTERRUPTIBLE || t->state == TASK_UNINTERRUPTIBLE) {
			t->state = TASK_RUNNING;
			if (t != current)
				enqueue_locked(t);
		}
	}
}

// Context: interrupt (timer).
void sched_tick(void)
{
	struct task *t = current;
	uint64_t flags = spin_lock_irqsave(&rq_lock);

	wake_sleepers_locked(time_ns());
	if (t == idle_task ? !list_empty(&run_queue) : --t->slice_ticks <= 0)
		this_cpu()->need_resched = true;
	spin_unlock_irqrestore(&rq_lock, flags);
	signal_timer_tick(t);
}

bool schedule_timeout(uint64_t deadline_ns)
{
	struct task *t = current;
	uint64_t flags = spin_lock_irqsave(&rq_lock);

	if (time_ns() >= deadline_ns) {
		t->state = TASK_RUNNING;
		spin_unlock_irqrestore(&rq_lock, flags);
		return true;
	}
	t->wake_at_ns = deadline_ns;
	list_add_tail(&t->timer_link, &sleepers);
	spin_unlock_irqrestore(&rq_lock, flags);
	schedule();
	flags = spin_lock_irqsave(&rq_lock);
	if (t->wake_at_ns) { // woken before the deadline
		list_del(&t->timer_link);
		t->wake_at_ns = 0;
	}
	spin_unlock_irqrestore(&rq_lock, flags);
	return time_ns() >= deadline_ns;
}

void set_current_state(enum task_state state)
{
	// The store must be visible before the caller re-checks its wake-up condition: a
	// waker that misses the new state has already made the condition true.
	WRITE_ONCE(current->state, state);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

uint64_t sched_deadline_ns(uint64_t ns)
{
	uint64_t now = time_ns();

	return ns > UINT64_MAX - now ? UINT64_MAX : now + ns;
}

int sleep_ns(uint64_t ns, uint64_t *left_ns)
{
	uint64_t deadline = sched_deadline_ns(ns), now;

	might_sleep();
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		now = time_ns();
		if (now >= deadline || signal_pending_current())
			break;
		schedule_timeout(deadline);
	}
	set_current_state(TASK_RUNNING);
	if (now >= deadline)
		return 0;
	if (left_ns)
		*left_ns = deadline - now;
	return -ERESTARTSYS;
}

void wait_queue_init(struct wait_queue *wq)
{
	spin_init(&wq->lock, "wait_queue");
	list_init(&wq->waiters);
}

void prepare_to_wait(struct wait_queue *wq, struct wait_entry *e)
{
	uint64_t flags = spin_lock_irqsave(&wq->lock);

	e->task = current;
	if (list_empty(&e->link))
		list_add_tail(&e->link, &wq->waiters);
	set_current_state(TASK_INTERRUPTIBLE);
	spin_unlock_irqrestore(&wq->lock, flags);
}

void finish_wait(struct wait_queue *wq, struct wait_entry *e)
{
	uint64_t flags = spin_lock_irqsave(&wq->lock);

	current->state = TASK_RUNNING;
	list_del(&e->link);
	spin_unlock_irqrestore(&wq->lock, flags);
}

void wake_up(struct wait_queue *wq)
{
	struct wait_entry *e;
	uint64_t flags = spin_lock_irqsave(&wq->lock);

	list_for_each_entry(e, &wq->waiters, link)
		wake_up_task(e->task);
	spin_unlock_irqrestore(&wq->lock, flags);
}

void might_sleep_check(const char *file, int line)
{
	static int reports;

	if (current->preempt_count == 0 && !in_interrupt())
		return;
	if (reports++ < 5) {
		pr_err("BUG: sleeping function called from invalid context at %s:%d\n", file,
		       line);
		pr_err("preempt_count %d, irq nesting %d, task %d (%s)\n", current->preempt_count,
		       this_cpu()->irq_nesting, current->pid, current->comm);
		dump_backtrace((uint64_t)__builtin_frame_address(0),
			       (uint64_t)__builtin_return_address(0));
	}
}

// The idle task: runs when nothing else can, halting until the next interrupt.
// "sti; hlt" is atomic (the STI shadow), so a wake-up cannot slip in between.
__noreturn void idle_loop(void)
{
	for (;;) {
		local_irq_disable();
		if (!list_empty(&run_queue) || this_cpu()->need_resched) {
			local_irq_enable();
			schedule();
			continue;
		}
		__asm__ volatile("sti; hlt" ::: "memory");
	}
}

void sched_init(struct task *boot_task)
{
	idle_task = boot_task;
	idle_task->state = TASK_RUNNING;
	cpu_set_kernel_stack(boot_task->kstack_top);
}
