// Task creation, kernel stacks and process ids.
//
// Kernel stacks live in their own virtual area (KSTACK_AREA_BASE), one slot per task:
// KSTACK_SIZE bytes of mapped stack with an unmapped guard page below, so an overflow
// faults at once (and the double-fault handler, on its own stack, reports it) instead of
// silently corrupting whatever lies below.
//
// Lock: tasklist_lock protects task_list, pids, the parent/children links and process
// groups. Lock order: tasklist_lock before rq_lock and before any task's sig_lock.
#include <trapeze/err.h>
#include <trapeze/kmalloc.h>
#include <trapeze/mutex.h>
#include <trapeze/page_alloc.h>
#include <trapeze/panic.h>
#include <trapeze/sched.h>
#include <trapeze/signal.h>
#include <trapeze/string.h>
#include <trapeze/task.h>
#include <asm/arch.h>
#include <asm/irq.h>
#include <asm/paging.h>
#include <asm/pt_regs.h>
#include <asm/segment.h>
#include <asm/x86.h>

#define KSTACK_SLOT_SIZE (KSTACK_SIZE + PAGE_SIZE) // the stack and its guard page
#define KSTACK_PAGES (KSTACK_SIZE / PAGE_SIZE)
#define KSTACK_SLOTS 4096
#define PID_MAX 32768
#define TASK_LIMIT 1024 // fork fails with EAGAIN beyond this many tasks

DEFINE_SPINLOCK(tasklist_lock);
LIST_HEAD(task_list);
struct task *init_task;

static DEFINE_SPINLOCK(kstack_lock);
static uint8_t kstack_slot_used[KSTACK_SLOTS]; // under kstack_lock
// Held while mapping a stack: the page table for an empty 2 MiB stretch of the area is made
// on first use, and two tasks making it at once (the page allocation between the check and
// the store is a preemption point) would each install their own, the later one unmapping
// the earlier one's stack.
static DEFINE_MUTEX(kstack_map_mutex);
static int nr_tasks;                           // under tasklist_lock
static pid_t last_pid;                         // under tasklist_lock

// Map a kernel stack into a free slot; returns its top (16-byte aligned), or 0.
uintptr_t kstack_alloc(void)
{
	uint64_t flags = spin_lock_irqsave(&kstack_lock);
	int slot = -1;
	uintptr_t base;

	for (int i = 0; i < KSTACK_SLOTS; i++) {
		if (!kstack_slot_used[i]) {
			kstack_slot_used[i] = 1;
			slot = i;
			break;
		}
	}
	spin_unlock_irqrestore(&kstack_lock, flags);
	if (slot < 0)
		return 0;
	base = KSTACK_AREA_BASE + (uintptr_t)slot * KSTACK_SLOT_SIZE + PAGE_SIZE;
	mutex_lock(&kstack_map_mutex);
	for (int i = 0; i < (int)KSTACK_PAGES; i++) {
		struct page *p = page_alloc(0, 0);

		if (!p || pgtable_map(kernel_pml4, base + i * PAGE_SIZE, page_to_phys(p),
				      PTE_W | PTE_NX)) {
			if (p)
				page_free(p, 0);
			while (i-- > 0)
				page_put(phys_to_page(pgtable_unmap(kernel_pml4, base + i * PAGE_SIZE) &
						      PTE_ADDR_MASK));
			mutex_unlock(&kstack_map_mutex);
			flags = spin_lock_irqsave(&kstack_lock);
			kstack_slot_used[slot] = 0;
			spin_unlock_irqrestore(&kstack_lock, flags);
			return 0;
		}
	}
	mutex_unlock(&kstack_map_mutex);
	return base + KSTACK_SIZE;
}

static void kstack_free(uintptr_t top)
{
	uintptr_t base = top - KSTACK_SIZE;
	int slot = (int)((base - PAGE_SIZE - KSTACK_AREA_BASE) / KSTACK_SLOT_SIZE);
	uint64_t flags;

	for (int i = 0; i < (int)KSTACK_PAGES; i++)
		page_put(phys_to_page(pgtable_unmap(kernel_pml4, base + i * PAGE_SIZE) &
				      PTE_ADDR_MASK));
	flags = spin_lock_irqsave(&kstack_lock);
	kstack_slot_used[slot] = 0;
	spin_unlock_irqrestore(&kstack_lock, flags);
}

static pid_t pid_alloc_locked(void)
{
	for (int tries = 0; tries < PID_MAX; tries++) {
		last_pid = last_pid >= PID_MAX - 1 ? 2 : last_pid + 1;
		if (!task_find(last_pid))
			return last_pid;
	}
	return -1;
}

struct task *task_find(pid_t pid)
{
	struct task *t;

	assert_held(&tasklist_lock);
	list_for_each_entry(t, &task_list, all_link)
		if (t->pid == pid && t->state != TASK_DEAD)
			return t;
	return NULL;
}

int task_count(void)
{
	return nr_tasks;
}

// The context frame switch_to pops the first time it switches to t (see switch.S):
// rflags, r15, r14, r13, r12 (= arg), rbx (= fn), rbp, return address (= task_entry).
static void task_build_first_frame(struct task *t, void (*fn)(void *), void *arg)
{
	uint64_t *sp = (uint64_t *)((uintptr_t)task_pt_regs(t));

	*--sp = (uint64_t)task_entry;
	*--sp = 0;             // rbp
	*--sp = (uint64_t)fn;  // rbx
	*--sp = (uint64_t)arg; // r12
	*--sp = 0;             // r13
	*--sp = 0;             // r14
	*--sp = 0;             // r15
	*--sp = X86_EFLAGS_FIXED; // rflags: interrupts stay off until schedule_tail
	t->kstack_rsp = (uint64_t)sp;
}

struct task *task_create(const char *name, void (*fn)(void *), void *arg)
{
	struct task *t = kzalloc(sizeof(*t));
	uint64_t flags;
	int err = -ENOMEM;

	if (!t)
		return ERR_PTR(-ENOMEM);
	t->kstack_top = kstack_alloc();
	if (!t->kstack_top)
		goto free_task;
	t->kstack_base = t->kstack_top - KSTACK_SIZE;
	t->fpu_state = kmalloc(FPU_STATE_SIZE);
	if (!t->fpu_state)
		goto free_kstack;
	fpu_init_state(t->fpu_state);
	strlcpy(t->comm, name, sizeof(t->comm));
	memset(task_pt_regs(t), 0, sizeof(struct pt_regs));
	task_build_first_frame(t, fn, arg);
	// A new task holds the run-queue lock's preemption count until schedule_tail.
	t->preempt_count = 1;
	t->state = TASK_UNINTERRUPTIBLE;
	t->exit_signal = SIGCHLD;
	list_init(&t->children);
	list_init(&t->sibling_link);
	list_init(&t->run_link);
	list_init(&t->timer_link);
	spin_init(&t->sig_lock, "task.sig_lock");
	rlimit_init_default(t->rlim); // Linux's defaults; fork copies the parent's over them
	t->start_ns = time_ns();

	flags = spin_lock_irqsave(&tasklist_lock);
	if (nr_tasks >= TASK_LIMIT || (t->pid = pid_alloc_locked()) < 0) {
		spin_unlock_irqrestore(&tasklist_lock, flags);
		err = -EAGAIN;
		goto free_fpu;
	}
	t->tgid = t->pid;
	t->group_leader = t;
	nr_tasks++;
	list_add_tail(&t->all_link, &task_list);
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return t;

free_fpu:
	kfree(t->fpu_state);
free_kstack:
	kstack_free(t->kstack_top);
free_task:
	kfree(t);
	return ERR_PTR(err);
}

// Free what is left of a reaped task. Context: the reaper (never t itself).
void task_free(struct task *t)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);

	list_del(&t->all_link);
	nr_tasks--;
	spin_unlock_irqrestore(&tasklist_lock, flags);
	kstack_free(t->kstack_top);
	if (t->sighand)
		signal_handlers_put(t->sighand);
	kfree(t->fpu_state);
	kfree(t);
}

// Kernel threads: tasks that never enter user mode. The thread runs fn(arg) and then
// exits with status 0; having no parent, it stays a zombie until its creator frees it
// with task_free() (kthread_join waits for that moment).
struct kthread_start {
	void (*fn)(void *);
	void *arg;
};

static void kthread_main(void *p)
{
	struct kthread_start start = *(struct kthread_start *)p;

	kfree(p);
	start.fn(start.arg);
	do_exit(0);
}

struct task *kthread_create(const char *name, void (*fn)(void *), void *arg)
{
	struct kthread_start *start = kmalloc(sizeof(*start));
	struct task *t;

	if (!start)
		return NULL;
	start->fn = fn;
	start->arg = arg;
	t = task_create(name, kthread_main, start);
	if (IS_ERR(t)) {
		kfree(start);
		return NULL;
	}
	task_start(t);
	return t;
}

void kthread_join(struct task *t)
{
	while (READ_ONCE(t->state) != TASK_ZOMBIE)
		sleep_ns(1000000, NULL);
	task_free(t);
}
