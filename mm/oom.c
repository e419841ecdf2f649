// Memory pressure: the reserve kept for the kernel, the OOM killer, and the overcommit
// check. docs/vm.md states the policy; in short:
//
//  - User page faults may not take the last oom_reserve_pages() free pages. Page tables,
//    kmalloc and the paths that free memory (exit) can still allocate when user memory
//    has run out, so running out never wedges the kernel itself.
//  - A page fault that finds no memory calls oom_kill_or_wait() with no lock held. If no
//    victim is dying already, it picks the process with the largest resident set (rss)
//    among those that are alive and not already dying, never init while anything else
//    qualifies, and sends SIGKILL to every task using that address space. The faulting
//    task then naps (10 ms) and retries its fault; if it is the victim, its fault fails
//    and it dies. Memory returns when the victim's last task drops the address space in
//    exit (mm_put), before its parent reaps it. A fault still failing after
//    OOM_MAX_ATTEMPTS naps (about 5 s) gives up: its task dies rather than hang.
//  - A victim that still holds its memory after OOM_VICTIM_TIMEOUT_NS (stuck in an
//    uninterruptible sleep, say) is given up on and the next victim is chosen.
//  - mmap, brk and mremap refuse one request larger than all of RAM (vm_enough_memory):
//    Linux's heuristic overcommit on a machine without swap. Anything smaller is allowed;
//    memory is committed page by page, on touch.
//
// Lock: tasklist_lock (irqsave) covers the victim bookkeeping and the task-list walk.
// Reading another task's t->mm and t->mm->rss under it relies on one CPU: exit clears
// t->mm before dropping it and cannot run while we hold the lock with interrupts off.
// SMP will need exit to clear t->mm under tasklist_lock.
#include <trapeze/page_alloc.h>
#include <trapeze/printk.h>
#include <trapeze/sched.h>
#include <trapeze/signal.h>
#include <trapeze/string.h>
#include <trapeze/task.h>
#include <trapeze/vm.h>
#include <asm/cpu.h>
#include <asm/irq.h>

#define OOM_RESERVE_MIN_PAGES 64UL
#define OOM_RESERVE_DIVISOR 256UL // 1/256 of RAM: 2 MiB of 512 MiB
#define OOM_NAP_NS (10 * 1000000ULL)
#define OOM_VICTIM_TIMEOUT_NS (2 * 1000000000ULL)
// Naps one fault may take before it gives up and its task dies: a safety valve against
// a fault that keeps failing while the killer finds nothing to free (about 5 s).
#define OOM_MAX_ATTEMPTS 500

// The last victim, under tasklist_lock: while it still holds its memory and its time is
// not up, nobody else is killed.
static pid_t oom_victim_pid;
static uint64_t oom_victim_deadline_ns;

unsigned long oom_reserve_pages(void)
{
	return MAX(OOM_RESERVE_MIN_PAGES, mm_total_pages() / OOM_RESERVE_DIVISOR);
}

struct page *vm_page_alloc(unsigned int flags)
{
	if (mm_free_pages() <= oom_reserve_pages())
		return NULL;
	return page_alloc(0, flags);
}

int vm_enough_memory(unsigned long pages)
{
	return pages > mm_total_pages() ? -ENOMEM : 0;
}

static bool oom_eligible(const struct task *t)
{
	return t->mm && t->state != TASK_ZOMBIE && t->state != TASK_DEAD &&
	       !READ_ONCE(t->fatal_signal);
}

struct task *oom_select(struct list_head *list, const struct task *init)
{
	struct task *t, *best = NULL, *init_found = NULL;

	list_for_each_entry(t, list, all_link) {
		if (!oom_eligible(t))
			continue;
		if (t == init) {
			init_found = t;
			continue;
		}
		if (!best || READ_ONCE(t->mm->rss) > READ_ONCE(best->mm->rss))
			best = t;
	}
	return best ? best : init_found;
}

// Whether the last victim is still on its way out, holding memory (tasklist_lock held).
static bool oom_victim_dying_locked(uint64_t now)
{
	struct task *t;

	if (!oom_victim_pid)
		return false;
	t = task_find(oom_victim_pid);
	if (t && t->mm && t->state != TASK_ZOMBIE && now < oom_victim_deadline_ns)
		return true;
	oom_victim_pid = 0;
	return false;
}

// Send SIGKILL to every task using mm (tasklist_lock held).
static void oom_kill_mm_locked(struct mm *mm)
{
	struct task *t;

	list_for_each_entry(t, &task_list, all_link)
		if (t->mm == mm)
			signal_send(t, SIGKILL);
}

struct oom_report {
	pid_t pid;
	char comm[TASK_COMM_LEN];
	unsigned long rss;
	unsigned long free; // pages free when the victim was chosen
};

// Choose and kill a victim unless one is dying already. Returns true if the current
// task must die (it is the victim, or there is nobody else to kill).
static bool oom_kill(struct oom_report *r)
{
	uint64_t now = time_ns(), irq;
	struct task *victim;
	bool self = false;

	irq = spin_lock_irqsave(&tasklist_lock);
	if (!oom_victim_dying_locked(now)) {
		victim = oom_select(&task_list, init_task);
		self = !victim || victim->mm == current->mm;
		if (victim) {
			r->pid = victim->pid;
			strlcpy(r->comm, victim->comm, sizeof(r->comm));
			r->rss = READ_ONCE(victim->mm->rss);
			r->free = mm_free_pages();
			oom_kill_mm_locked(victim->mm);
			oom_victim_pid = victim->pid;
			oom_victim_deadline_ns = now + OOM_VICTIM_TIMEOUT_NS;
		}
	}
	spin_unlock_irqrestore(&tasklist_lock, irq);
	return self;
}

int oom_kill_or_wait(unsigned int attempt)
{
	struct oom_report r = { 0 };
	bool self = false;

	might_sleep();
	if (READ_ONCE(current->fatal_signal) || attempt >= OOM_MAX_ATTEMPTS)
		return -ENOMEM;
	if (mm_free_pages() > oom_reserve_pages()) {
		// Someone freed memory since the fault failed: try again, at once the first
		// time. A fault that still fails with memory free (a larger block it needs,
		// say) waits instead of spinning, and kills nobody.
		if (attempt == 0)
			return 0;
	} else {
		self = oom_kill(&r);
	}
	if (r.pid)
		pr_warn("oom: out of memory (%lu KiB free): killed pid %d (%s), rss %lu KiB\n",
			r.free << (PAGE_SHIFT - 10), r.pid, r.comm,
			r.rss << (PAGE_SHIFT - 10));
	if (self)
		return -ENOMEM;
	// Give the victim the CPU to die on; a signal for us must not cut the nap short
	// into a busy loop of retried faults.
	set_current_state(TASK_UNINTERRUPTIBLE);
	schedule_timeout(time_ns() + OOM_NAP_NS);
	return 0;
}
