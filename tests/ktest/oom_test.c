// Unit tests of the memory-pressure policy (mm/oom.c): which task the OOM killer chooses,
// the reserve that user page faults may not take, and the overcommit limit. The victim
// choice runs on private lists of fake tasks, never on the real task list.
#include <trapeze/kmalloc.h>
#include <trapeze/ktest.h>
#include <trapeze/list.h>
#include <trapeze/page_alloc.h>
#include <trapeze/task.h>
#include <trapeze/vm.h>
#include <uapi/signal.h>

#define NFAKE 6

struct fake {
	struct task task;
	struct mm mm;
};

// A fake task with an address space of rss pages (no address space if rss < 0).
static struct task *fake_add(struct fake *f, struct list_head *list, long rss)
{
	f->task.mm = rss < 0 ? NULL : &f->mm;
	f->mm.rss = rss < 0 ? 0 : (unsigned long)rss;
	list_add_tail(&f->task.all_link, list);
	return &f->task;
}

KTEST(oom_picks_largest_rss, "oom: the victim is the largest live process, never init first")
{
	struct fake *f = kzalloc(NFAKE * sizeof(*f));
	struct task *init, *small, *big, *zombie, *dying, *kthread;
	LIST_HEAD(tasks);

	KT_EXPECT(t, f != NULL);
	if (!f)
		return;
	init = fake_add(&f[0], &tasks, 1000);
	small = fake_add(&f[1], &tasks, 10);
	big = fake_add(&f[2], &tasks, 50);
	zombie = fake_add(&f[3], &tasks, 5000);
	zombie->state = TASK_ZOMBIE;
	dying = fake_add(&f[4], &tasks, 4000);
	dying->fatal_signal = SIGKILL;
	kthread = fake_add(&f[5], &tasks, -1);
	KT_EXPECT(t, oom_select(&tasks, init) == big);
	big->fatal_signal = SIGKILL; // killed: the next choice is the next largest
	KT_EXPECT(t, oom_select(&tasks, init) == small);
	small->state = TASK_ZOMBIE;
	// Only init is left with memory: it is chosen rather than nothing.
	KT_EXPECT(t, oom_select(&tasks, init) == init);
	init->fatal_signal = SIGKILL;
	KT_EXPECT(t, oom_select(&tasks, init) == NULL);
	(void)kthread;
	kfree(f);
}

// Blocks taken to use up memory. Their contents are never touched: the first touch of
// guest RAM is slow under QEMU, and nothing needs to be stored in them.
#define HELD_MAX 512

struct held {
	struct page *block[HELD_MAX];
	unsigned int order[HELD_MAX];
	int n;
};

// Allocate blocks, large ones first, until exactly target pages are free (or h is full).
static void memory_take_until(struct held *h, unsigned long target)
{
	for (int order = MAX_ORDER - 1; order >= 0; order--) {
		while (h->n < HELD_MAX && mm_free_pages() >= target + (1UL << order)) {
			struct page *p = page_alloc((unsigned int)order, 0);

			if (!p)
				break;
			h->block[h->n] = p;
			h->order[h->n++] = (unsigned int)order;
		}
	}
}

static void memory_give_back(struct held *h)
{
	while (h->n > 0) {
		h->n--;
		page_free(h->block[h->n], h->order[h->n]);
	}
}

KTEST(oom_reserve_kept_from_user_pages, "oom: user pages stop at the reserve; the kernel does not")
{
	unsigned long before, reserve = oom_reserve_pages();
	struct page *user_last, *user_none, *kernel;
	struct held *h = kzalloc(sizeof(*h));

	KT_EXPECT(t, h != NULL);
	if (!h)
		return;
	KT_EXPECT(t, reserve >= 64 && reserve < mm_total_pages() / 16);
	before = mm_free_pages();
	memory_take_until(h, reserve + 1);
	KT_EXPECT(t, mm_free_pages() == reserve + 1);
	user_last = vm_page_alloc(0);
	user_none = vm_page_alloc(0);
	kernel = page_alloc(0, 0);
	KT_EXPECT(t, user_last != NULL);
	KT_EXPECT(t, user_none == NULL);
	KT_EXPECT(t, kernel != NULL);
	if (user_last)
		page_put(user_last);
	if (user_none)
		page_put(user_none);
	if (kernel)
		page_put(kernel);
	memory_give_back(h);
	KT_EXPECT(t, mm_free_pages() == before);
	kfree(h);
}

KTEST(oom_overcommit_limit, "oom: one commitment larger than RAM is refused")
{
	KT_EXPECT(t, vm_enough_memory(1) == 0);
	KT_EXPECT(t, vm_enough_memory(mm_total_pages()) == 0);
	KT_EXPECT(t, vm_enough_memory(mm_total_pages() + 1) == -ENOMEM);
}
