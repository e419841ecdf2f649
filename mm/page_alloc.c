// The physical page allocator: a binary buddy allocator (Knuth, TAOCP 2.5) over page frames.
//
// A zone manages the frames [base_pfn, base_pfn + npages). Free memory is a set of blocks
// of 2^order frames, each aligned to its size relative to base_pfn; the first frame of a
// free block (its head) carries PG_BUDDY and the order and sits on free_lists[order].
// The block of order k at relative frame r has its buddy at r ^ 2^k: when both are free
// they merge into one block of order k + 1 at r & ~2^k. Allocation takes the smallest
// free block that is large enough and splits off halves until it has the order asked for.
//
// An allocated block's head carries PG_HEAD, the order and a reference count of 1; its
// other frames carry no flags. Frames that are not RAM, or that the kernel owns for good
// (the first MiB, the kernel image, mem_map), carry PG_RESERVED and never enter a zone.
//
// The kernel has one zone, global_zone, for all of RAM (base_pfn 0); the unit tests build
// private zones out of blocks they allocate from it.
//
// Lock: zone->lock, taken with interrupts off, guards the free lists, nr_free and the
// flags/order of every frame in the zone that is free. An allocated block belongs to its
// owner; only its reference count changes concurrently (atomically).
#include <trapeze/boot.h>
#include <trapeze/page_alloc.h>
#include <trapeze/panic.h>
#include <trapeze/printk.h>
#include <trapeze/string.h>

#include "internal.h"
#include "page_alloc_boot.h"

// Below 1 MiB live the BIOS data area, the EBDA and option ROMs; never hand it out.
#define LOW_MEM_END 0x100000UL

struct page *mem_map;
unsigned long max_pfn; // one past the highest frame of usable RAM; mem_map has max_pfn entries
struct zone global_zone;

static bool global_zone_ready;
static unsigned long usable_pages;       // usable RAM frames found at boot, counted once
static const struct boot_info *boot_bi; // the boot modules, for page_alloc_release_range

// --- the buddy allocator, on any zone --------------------------------------------------

static bool zone_contains(const struct zone *z, unsigned long pfn, unsigned int order)
{
	return pfn >= z->base_pfn && pfn - z->base_pfn + (1UL << order) <= z->npages;
}

// Forget whatever the frame was used for; it is about to become (part of) a free block.
static void page_reset(struct page *p)
{
	list_init(&p->list);
	p->flags = 0;
	p->order = 0;
	p->refcount = 0;
	p->slab = NULL;
	p->freelist = NULL;
	p->inuse = 0;
}

static void buddy_push_locked(struct zone *z, struct page *head, unsigned int order)
{
	head->flags = PG_BUDDY;
	head->order = order;
	list_add(&head->list, &z->free_lists[order]);
}

static void buddy_unlink_locked(struct page *head)
{
	list_del(&head->list);
	head->flags &= ~PG_BUDDY;
}

// Put the free block at pfn of 2^order frames on the free lists, merging it with its buddy
// for as long as the buddy is a free block of the same order inside the zone.
static void buddy_merge_locked(struct zone *z, unsigned long pfn, unsigned int order)
{
	assert_held(&z->lock);
	while (order < MAX_ORDER - 1) {
		unsigned long rel = pfn - z->base_pfn;
		unsigned long buddy_pfn = z->base_pfn + (rel ^ (1UL << order));
		struct page *buddy;

		if (!zone_contains(z, buddy_pfn, order))
			break;
		buddy = pfn_to_page(buddy_pfn);
		if (!(buddy->flags & PG_BUDDY) || buddy->order != order)
			break;
		buddy_unlink_locked(buddy);
		pfn = z->base_pfn + (rel & ~(1UL << order));
		order++;
	}
	buddy_push_locked(z, pfn_to_page(pfn), order);
}

void zone_init(struct zone *z, unsigned long base_pfn, unsigned long npages)
{
	spin_init(&z->lock, "zone");
	z->base_pfn = base_pfn;
	z->npages = npages;
	z->nr_free = 0;
	for (int i = 0; i < MAX_ORDER; i++)
		list_init(&z->free_lists[i]);
}

// The largest order of a block that starts at relative frame rel and fits in n frames.
static unsigned int block_order_fit(unsigned long rel, unsigned long n)
{
	unsigned int order = 0;

	while (order + 1 < MAX_ORDER && IS_ALIGNED(rel, 2UL << order) && (2UL << order) <= n)
		order++;
	return order;
}

// Context: any; the frames must not be free in any zone (a free block head panics).
void zone_free_range(struct zone *z, unsigned long pfn, unsigned long n)
{
	uint64_t irq;

	if (!n)
		return;
	if (pfn < z->base_pfn || n > z->npages || pfn - z->base_pfn > z->npages - n)
		panic("zone_free_range: frames %#lx+%#lx outside the zone %#lx+%#lx", pfn, n,
		      z->base_pfn, z->npages);
	irq = spin_lock_irqsave(&z->lock);
	while (n) {
		unsigned int order = block_order_fit(pfn - z->base_pfn, n);
		unsigned long size = 1UL << order;

		for (unsigned long i = 0; i < size; i++) {
			struct page *p = pfn_to_page(pfn + i);

			if (p->flags & (PG_BUDDY | PG_SLAB))
				panic("zone_free_range: frame %#lx is free already or a slab page "
				      "(flags %#x)", pfn + i, p->flags);
			page_reset(p);
		}
		buddy_merge_locked(z, pfn, order);
		z->nr_free += size;
		pfn += size;
		n -= size;
	}
	spin_unlock_irqrestore(&z->lock, irq);
}

// Take a free block of at least 2^order frames and split it down to exactly 2^order,
// returning the halves split off to the free lists.
static struct page *buddy_take_locked(struct zone *z, unsigned int order)
{
	unsigned int o = order;
	struct page *head;

	assert_held(&z->lock);
	while (o < MAX_ORDER && list_empty(&z->free_lists[o]))
		o++;
	if (o == MAX_ORDER)
		return NULL;
	head = list_first_entry(&z->free_lists[o], struct page, list);
	if (!(head->flags & PG_BUDDY) || head->order != o)
		panic("zone: free list %u holds frame %#lx with flags %#x order %u", o,
		      page_to_pfn(head), head->flags, head->order);
	buddy_unlink_locked(head);
	while (o > order) {
		o--;
		buddy_push_locked(z, head + (1UL << o), o);
	}
	return head;
}

// Context: any; never sleeps. Returns NULL when no block of that order is free.
struct page *zone_alloc(struct zone *z, unsigned int order)
{
	struct page *head;
	uint64_t irq;

	if (order >= MAX_ORDER)
		return NULL;
	irq = spin_lock_irqsave(&z->lock);
	head = buddy_take_locked(z, order);
	if (head) {
		head->flags = PG_HEAD;
		head->order = order;
		head->refcount = 1;
		z->nr_free -= 1UL << order;
	}
	spin_unlock_irqrestore(&z->lock, irq);
	return head;
}

// A block handed back must be exactly what zone_alloc gave out; anything else is a kernel
// bug (double free, wrong order, a slab or reserved frame) and stops the machine.
// Called under the zone lock, so two racing frees of one block cannot both pass.
static void zone_free_check(const struct page *page, unsigned int order)
{
	unsigned long pfn = page_to_pfn(page);

	if (page->flags & PG_BUDDY)
		panic("page_free: double free of frame %#lx (order %u)", pfn, order);
	if (!(page->flags & PG_HEAD))
		panic("page_free: frame %#lx is not the head of an allocated block (flags %#x)",
		      pfn, page->flags);
	if (page->order != order)
		panic("page_free: frame %#lx freed with order %u, allocated with order %u", pfn,
		      order, page->order);
	if (page->flags & (PG_SLAB | PG_KMALLOC | PG_RESERVED))
		panic("page_free: frame %#lx still belongs to kmalloc or is reserved (flags %#x)",
		      pfn, page->flags);
}

// Context: any; never sleeps.
void zone_free(struct zone *z, struct page *page, unsigned int order)
{
	unsigned long pfn = page_to_pfn(page);
	uint64_t irq;

	if (order >= MAX_ORDER || !zone_contains(z, pfn, order))
		panic("zone_free: block %#lx order %u is outside the zone %#lx+%#lx", pfn, order,
		      z->base_pfn, z->npages);
	irq = spin_lock_irqsave(&z->lock);
	zone_free_check(page, order);
	page->flags = 0;
	page->refcount = 0;
	buddy_merge_locked(z, pfn, order);
	z->nr_free += 1UL << order;
	spin_unlock_irqrestore(&z->lock, irq);
}

// --- the global zone ---------------------------------------------------------------------

// Context: any; never sleeps.
struct page *page_alloc(unsigned int order, unsigned int flags)
{
	struct page *page;

	if (unlikely(!global_zone_ready))
		panic("page_alloc called before page_alloc_init");
	assert(!(flags & ~PAF_ZERO));
	page = zone_alloc(&global_zone, order);
	if (page && (flags & PAF_ZERO))
		memset(page_to_virt(page), 0, PAGE_SIZE << order);
	return page;
}

// The caller must hold the only reference; a shared page is dropped with page_put.
void page_free(struct page *page, unsigned int order)
{
	int refs = __atomic_load_n(&page->refcount, __ATOMIC_ACQUIRE);

	if (refs > 1)
		panic("page_free: frame %#lx still has %d references (use page_put)",
		      page_to_pfn(page), refs);
	zone_free(&global_zone, page, order);
}

void *page_alloc_virt(void)
{
	struct page *page = page_alloc(0, PAF_ZERO);

	return page ? page_to_virt(page) : NULL;
}

// NULL is ignored, like kfree.
void page_free_virt(void *va)
{
	if (!va)
		return;
	assert(IS_ALIGNED((uintptr_t)va, PAGE_SIZE));
	page_free(virt_to_page(va), 0);
}

// Context: any. The caller must already hold a reference.
void page_get(struct page *p)
{
	int old = __atomic_fetch_add(&p->refcount, 1, __ATOMIC_RELAXED);

	if (old <= 0)
		panic("page_get: frame %#lx has no references (refcount %d)", page_to_pfn(p),
		      old);
}

// Context: any. Dropping the last reference frees the whole block the page heads.
void page_put(struct page *p)
{
	int old = __atomic_fetch_sub(&p->refcount, 1, __ATOMIC_ACQ_REL);

	if (old <= 0)
		panic("page_put: frame %#lx has no references (refcount %d)", page_to_pfn(p),
		      old);
	if (old == 1)
		zone_free(&global_zone, p, p->order);
}

unsigned long mm_total_pages(void)
{
	return usable_pages;
}

unsigned long mm_free_pages(void)
{
	return READ_ONCE(global_zone.nr_free);
}

// --- boot: mem_map and the global zone from the boot loader's memory map -----------------

// The whole frames of a usable region, as [*start, *end). False if it holds none.
static bool region_frames(const struct mem_region *r, phys_addr_t *start, phys_addr_t *end)
{
	phys_addr_t last = r->base + r->len < r->base ? ~(phys_addr_t)0 : r->base + r->len;

	if (r->type != MEM_USABLE)
		return false;
	*start = ALIGN_UP(r->base, PAGE_SIZE);
	*end = ALIGN_DOWN(last, PAGE_SIZE);
	return *start < *end && *start >= r->base;
}

static int boot_nr_regions(const struct boot_info *bi)
{
	return MIN(MAX(bi->nr_regions, 0), BOOT_MAX_REGIONS);
}

static int boot_nr_modules(const struct boot_info *bi)
{
	return MIN(MAX(bi->nr_modules, 0), BOOT_MAX_MODULES);
}

// The end of the first range that must survive boot untouched (the first MiB, the kernel
// image, a boot module) that overlaps [start, end); 0 if none does.
static phys_addr_t boot_busy_end(const struct boot_info *bi, phys_addr_t start, phys_addr_t end)
{
	if (start < LOW_MEM_END)
		return LOW_MEM_END;
	if (start < bi->kernel_phys_end)
		return bi->kernel_phys_end;
	for (int i = 0; i < boot_nr_modules(bi); i++) {
		const struct boot_module *m = &bi->modules[i];

		if (start < m->end && m->start < end)
			return m->end;
	}
	return 0;
}

static unsigned long boot_max_pfn(const struct boot_info *bi)
{
	unsigned long top = 0;
	phys_addr_t start, end;

	for (int i = 0; i < boot_nr_regions(bi); i++)
		if (region_frames(&bi->regions[i], &start, &end))
			top = MAX(top, (unsigned long)(end >> PAGE_SHIFT));
	return top;
}

// First fit: the lowest page-aligned stretch of usable RAM of size bytes that nothing
// needed during boot occupies.
static phys_addr_t mem_map_place(const struct boot_info *bi, size_t size)
{
	phys_addr_t start, end, busy;

	for (int i = 0; i < boot_nr_regions(bi); i++) {
		if (!region_frames(&bi->regions[i], &start, &end))
			continue;
		while (start < end && size <= end - start) {
			busy = boot_busy_end(bi, start, start + size);
			if (!busy)
				return start;
			start = ALIGN_UP(busy, PAGE_SIZE);
		}
	}
	panic("page_alloc: no room in usable RAM for mem_map (%zu KiB)", size >> 10);
}

// Mark the frames touched by [start, end) that are still plain RAM as reserved, adding
// extra to their flags. Frames reserved before keep their flags.
static void mem_map_reserve(phys_addr_t start, phys_addr_t end, uint32_t extra)
{
	unsigned long last = MIN(ALIGN_UP(end, PAGE_SIZE) >> PAGE_SHIFT, max_pfn);

	for (unsigned long pfn = start >> PAGE_SHIFT; pfn < last; pfn++)
		if (mem_map[pfn].flags == 0)
			mem_map[pfn].flags = PG_RESERVED | extra;
}

// Every frame starts reserved; the whole frames of usable regions become plain RAM
// (overlapping regions are counted once); then what boot still needs is reserved again.
static void mem_map_fill(const struct boot_info *bi, phys_addr_t map_start, size_t map_size)
{
	phys_addr_t start, end;

	for (unsigned long pfn = 0; pfn < max_pfn; pfn++) {
		page_reset(&mem_map[pfn]);
		mem_map[pfn].flags = PG_RESERVED;
	}
	for (int i = 0; i < boot_nr_regions(bi); i++) {
		if (!region_frames(&bi->regions[i], &start, &end))
			continue;
		for (unsigned long pfn = start >> PAGE_SHIFT; pfn < end >> PAGE_SHIFT; pfn++) {
			if (mem_map[pfn].flags == PG_RESERVED) {
				mem_map[pfn].flags = 0;
				usable_pages++;
			}
		}
	}
	mem_map_reserve(0, LOW_MEM_END, 0);
	mem_map_reserve(0, bi->kernel_phys_end, 0);
	mem_map_reserve(map_start, map_start + map_size, 0);
	for (int i = 0; i < boot_nr_modules(bi); i++)
		mem_map_reserve(bi->modules[i].start, bi->modules[i].end, PG_BOOT_HELD);
}

// Free to z every maximal run of frames in [first, last) whose flags, masked with mask,
// equal want. Returns the number of frames freed.
static unsigned long zone_free_matching(struct zone *z, unsigned long first, unsigned long last,
					uint32_t mask, uint32_t want)
{
	unsigned long pfn = first, run, freed = 0;

	while (pfn < last) {
		if ((mem_map[pfn].flags & mask) != want) {
			pfn++;
			continue;
		}
		for (run = pfn; run < last && (mem_map[run].flags & mask) == want; run++)
			;
		zone_free_range(z, pfn, run - pfn);
		freed += run - pfn;
		pfn = run;
	}
	return freed;
}

// Context: boot, one CPU, paging on with all RAM in the direct map; before any page_alloc.
void page_alloc_init(const struct boot_info *bi)
{
	size_t map_size;
	phys_addr_t map_start;

	boot_bi = bi;
	max_pfn = boot_max_pfn(bi);
	if (!max_pfn)
		panic("page_alloc: the boot loader reported no usable RAM");
	map_size = ALIGN_UP(max_pfn * sizeof(struct page), PAGE_SIZE);
	map_start = mem_map_place(bi, map_size);
	mem_map = phys_to_virt(map_start);
	mem_map_fill(bi, map_start, map_size);

	zone_init(&global_zone, 0, max_pfn);
	spin_init(&global_zone.lock, "global_zone");
	zone_free_matching(&global_zone, 0, max_pfn, ~0u, 0);
	global_zone_ready = true;
	pr_info("page_alloc: %lu MiB usable RAM, %lu MiB free, mem_map %zu KiB at %#lx\n",
		usable_pages >> (20 - PAGE_SHIFT), mm_free_pages() >> (20 - PAGE_SHIFT),
		map_size >> 10, (unsigned long)map_start);
}

// True if the frame pfn holds part of a boot module that does not lie inside [start, end),
// i.e. one that is not being released along with the range.
static bool frame_shared_with_module(unsigned long pfn, phys_addr_t start, phys_addr_t end)
{
	phys_addr_t fs = (phys_addr_t)pfn << PAGE_SHIFT, fe = fs + PAGE_SIZE;

	for (int i = 0; i < boot_nr_modules(boot_bi); i++) {
		const struct boot_module *m = &boot_bi->modules[i];

		if (m->start < fe && fs < m->end && (m->start < start || m->end > end))
			return true;
	}
	return false;
}

void page_alloc_release_range(phys_addr_t start, phys_addr_t end)
{
	unsigned long first, last, freed;

	assert(global_zone_ready);
	if (end <= start)
		return;
	first = start >> PAGE_SHIFT;
	last = MIN(ALIGN_UP(end, PAGE_SIZE) >> PAGE_SHIFT, max_pfn);
	if (first < last && frame_shared_with_module(first, start, end))
		first++;
	if (first < last && frame_shared_with_module(last - 1, start, end))
		last--;
	if (first >= last)
		return;
	freed = zone_free_matching(&global_zone, first, last, PG_BOOT_HELD, PG_BOOT_HELD);
	pr_info("page_alloc: released %lu KiB at %#lx\n", freed << (PAGE_SHIFT - 10),
		(unsigned long)start);
}
