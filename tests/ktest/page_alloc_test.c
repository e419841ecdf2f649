// Unit tests of the buddy allocator (mm/page_alloc.c). Most run on a private zone built
// over a 64-page block taken from the global allocator, so that exact counts and free-list
// shapes can be checked without other users of memory getting in the way.
#include <trapeze/ktest.h>
#include <trapeze/page_alloc.h>
#include <trapeze/spinlock.h>
#include <trapeze/string.h>

#include "../../mm/internal.h"

#define TZ_ORDER 6
#define TZ_PAGES (1UL << TZ_ORDER)

// Take a TZ_PAGES block from the global allocator and make z an empty zone over
// [off, off + n) of it. Returns the block, or NULL (and a failed expectation).
static struct page *tz_setup(struct ktest_ctx *t, struct zone *z, unsigned long off,
			     unsigned long n)
{
	struct page *blk = page_alloc(TZ_ORDER, 0);

	KT_EXPECT(t, blk != NULL);
	if (blk)
		zone_init(z, page_to_pfn(blk) + off, n);
	return blk;
}

// Whatever state a test left its private zone in, make the block one allocated
// TZ_ORDER block again and give it back. The private zone must not be used afterwards.
static void tz_teardown(struct page *blk)
{
	for (unsigned long i = 0; i < TZ_PAGES; i++) {
		struct page *p = blk + i;

		list_init(&p->list);
		p->flags = 0;
		p->order = 0;
		p->refcount = 0;
	}
	blk->flags = PG_HEAD;
	blk->order = TZ_ORDER;
	blk->refcount = 1;
	page_free(blk, TZ_ORDER);
}

static unsigned long free_blocks(struct zone *z, unsigned int order)
{
	struct list_head *pos;
	unsigned long n = 0;
	uint64_t irq = spin_lock_irqsave(&z->lock);

	list_for_each(pos, &z->free_lists[order])
		n++;
	spin_unlock_irqrestore(&z->lock, irq);
	return n;
}

// True if z's free memory is exactly one block of the given order at relative frame rel.
static bool zone_is_one_block(struct zone *z, unsigned int order, unsigned long rel)
{
	struct page *head;

	for (unsigned int o = 0; o < MAX_ORDER; o++)
		if (free_blocks(z, o) != (o == order ? 1UL : 0UL))
			return false;
	head = list_first_entry(&z->free_lists[order], struct page, list);
	return page_to_pfn(head) == z->base_pfn + rel && (head->flags & PG_BUDDY) &&
	       head->order == order && z->nr_free == (1UL << order);
}

static unsigned long rel_of(struct zone *z, struct page *p)
{
	return page_to_pfn(p) - z->base_pfn;
}

KTEST(buddy_alloc_every_order, "buddy: a 64-page zone hands out an aligned block of each order")
{
	struct zone z;
	struct page *blk = tz_setup(t, &z, 0, TZ_PAGES);

	if (!blk)
		return;
	zone_free_range(&z, z.base_pfn, TZ_PAGES);
	KT_EXPECT(t, zone_is_one_block(&z, TZ_ORDER, 0));
	for (unsigned int order = 0; order <= TZ_ORDER; order++) {
		struct page *p = zone_alloc(&z, order);

		KT_EXPECT(t, p != NULL);
		if (!p)
			continue;
		KT_EXPECT(t, IS_ALIGNED(rel_of(&z, p), 1UL << order));
		KT_EXPECT(t, p->flags == PG_HEAD && p->order == order && p->refcount == 1);
		KT_EXPECT(t, z.nr_free == TZ_PAGES - (1UL << order));
		zone_free(&z, p, order);
		KT_EXPECT(t, zone_is_one_block(&z, TZ_ORDER, 0));
	}
	KT_EXPECT(t, zone_alloc(&z, TZ_ORDER + 1) == NULL);
	KT_EXPECT(t, zone_alloc(&z, MAX_ORDER) == NULL);
	KT_EXPECT(t, z.nr_free == TZ_PAGES);
	tz_teardown(blk);
}

KTEST(buddy_exhaustion, "buddy: taking every page empties the zone; the next allocation fails")
{
	struct zone z;
	struct page *pages[TZ_PAGES];
	bool seen[TZ_PAGES] = { false };
	struct page *blk = tz_setup(t, &z, 0, TZ_PAGES);

	if (!blk)
		return;
	zone_free_range(&z, z.base_pfn, TZ_PAGES);
	for (unsigned long i = 0; i < TZ_PAGES; i++) {
		pages[i] = zone_alloc(&z, 0);
		KT_EXPECT(t, pages[i] != NULL);
		if (!pages[i] || rel_of(&z, pages[i]) >= TZ_PAGES)
			goto out;
		KT_EXPECT(t, !seen[rel_of(&z, pages[i])]);
		seen[rel_of(&z, pages[i])] = true;
	}
	KT_EXPECT(t, z.nr_free == 0);
	KT_EXPECT(t, zone_alloc(&z, 0) == NULL);
	for (unsigned int o = 0; o < MAX_ORDER; o++)
		KT_EXPECT(t, free_blocks(&z, o) == 0);
	// Free in a scrambled order (37 is coprime to 64, so this visits every page once).
	for (unsigned long i = 0; i < TZ_PAGES; i++)
		zone_free(&z, pages[(i * 37) % TZ_PAGES], 0);
	KT_EXPECT(t, zone_is_one_block(&z, TZ_ORDER, 0));
out:
	tz_teardown(blk);
}

KTEST(buddy_mixed_orders_coalesce, "buddy: blocks of mixed orders, freed in any order, coalesce")
{
	static const unsigned int orders[] = { 1, 0, 3, 0, 2, 4, 0, 1, 2 };
	struct page *p[ARRAY_SIZE(orders)];
	unsigned long used = 0;
	struct zone z;
	struct page *blk = tz_setup(t, &z, 0, TZ_PAGES);

	if (!blk)
		return;
	zone_free_range(&z, z.base_pfn, TZ_PAGES);
	for (size_t i = 0; i < ARRAY_SIZE(orders); i++) {
		p[i] = zone_alloc(&z, orders[i]);
		KT_EXPECT(t, p[i] != NULL);
		if (!p[i])
			goto out;
		used += 1UL << orders[i];
		KT_EXPECT(t, IS_ALIGNED(rel_of(&z, p[i]), 1UL << orders[i]));
	}
	KT_EXPECT(t, z.nr_free == TZ_PAGES - used);
	for (size_t i = 0; i < ARRAY_SIZE(orders); i += 2)
		zone_free(&z, p[i], orders[i]);
	for (size_t i = 1; i < ARRAY_SIZE(orders); i += 2)
		zone_free(&z, p[i], orders[i]);
	KT_EXPECT(t, zone_is_one_block(&z, TZ_ORDER, 0));
out:
	tz_teardown(blk);
}

// Allocate the rest of the zone as single pages; the page at relative frame i goes to
// pages[i].
static bool take_all_pages(struct ktest_ctx *t, struct zone *z, struct page **pages)
{
	struct page *p;

	while ((p = zone_alloc(z, 0)))
		pages[rel_of(z, p)] = p;
	KT_EXPECT(t, z->nr_free == 0);
	return z->nr_free == 0;
}

KTEST(buddy_no_false_merge, "buddy: neighbours that are not buddies or differ in order stay apart")
{
	struct page *pages[TZ_PAGES], *pair;
	struct zone z;
	struct page *blk = tz_setup(t, &z, 0, TZ_PAGES);

	if (!blk)
		return;
	zone_free_range(&z, z.base_pfn, TZ_PAGES);
	pair = zone_alloc(&z, 1);
	KT_EXPECT(t, pair != NULL && rel_of(&z, pair) == 0);
	if (!pair || !take_all_pages(t, &z, pages))
		goto out;
	// The order-1 block at 0 has its buddy at 2, which is free but only of order 0
	// (its own buddy, 3, is still allocated).
	zone_free(&z, pages[2], 0);
	zone_free(&z, pair, 1);
	KT_EXPECT(t, free_blocks(&z, 0) == 1 && free_blocks(&z, 1) == 1 && free_blocks(&z, 2) == 0);
	// 5 and 6 touch but are not buddies (5 pairs with 4, 6 with 7).
	zone_free(&z, pages[5], 0);
	zone_free(&z, pages[6], 0);
	KT_EXPECT(t, free_blocks(&z, 0) == 3 && free_blocks(&z, 1) == 1);
	zone_free(&z, pages[3], 0); // 2+3, then with 0..1: order 2 at 0
	KT_EXPECT(t, free_blocks(&z, 0) == 2 && free_blocks(&z, 1) == 0 && free_blocks(&z, 2) == 1);
	zone_free(&z, pages[4], 0); // 4+5; its order-1 buddy 6 is only order 0
	KT_EXPECT(t, free_blocks(&z, 0) == 1 && free_blocks(&z, 1) == 1 && free_blocks(&z, 2) == 1);
	zone_free(&z, pages[7], 0); // 6+7, then 4..7, then 0..7
	KT_EXPECT(t, zone_is_one_block(&z, 3, 0));
	for (unsigned long i = 8; i < TZ_PAGES; i++)
		zone_free(&z, pages[i], 0);
	KT_EXPECT(t, zone_is_one_block(&z, TZ_ORDER, 0));
out:
	tz_teardown(blk);
}

KTEST(buddy_unaligned_free_range, "buddy: an unaligned range is cut into maximal aligned blocks")
{
	struct zone z;
	struct page *blk = tz_setup(t, &z, 0, TZ_PAGES);

	if (!blk)
		return;
	// Frames 3..31: 3 (order 0), 4..7 (2), 8..15 (3), 16..31 (4).
	zone_free_range(&z, z.base_pfn + 3, 29);
	KT_EXPECT(t, z.nr_free == 29);
	KT_EXPECT(t, free_blocks(&z, 0) == 1 && free_blocks(&z, 1) == 0);
	KT_EXPECT(t, free_blocks(&z, 2) == 1 && free_blocks(&z, 3) == 1);
	KT_EXPECT(t, free_blocks(&z, 4) == 1 && free_blocks(&z, 5) == 0);
	// Frames 0..2 complete 0..31 into one order-5 block.
	zone_free_range(&z, z.base_pfn, 3);
	KT_EXPECT(t, zone_is_one_block(&z, 5, 0));
	zone_free_range(&z, z.base_pfn + 32, 32);
	KT_EXPECT(t, zone_is_one_block(&z, TZ_ORDER, 0));
	tz_teardown(blk);
}

KTEST(buddy_zone_base_unaligned, "buddy: buddies pair relative to the zone base, not past its end")
{
	struct zone z;
	struct page *p;
	// A 40-frame zone starting 3 frames into the block: 0..31 (order 5), 32..39 (order 3).
	struct page *blk = tz_setup(t, &z, 3, 40);

	if (!blk)
		return;
	zone_free_range(&z, z.base_pfn, 40);
	KT_EXPECT(t, z.nr_free == 40);
	KT_EXPECT(t, free_blocks(&z, 5) == 1 && free_blocks(&z, 3) == 1);
	KT_EXPECT(t, free_blocks(&z, 4) == 0 && free_blocks(&z, 6) == 0);
	p = zone_alloc(&z, 5);
	KT_EXPECT(t, p != NULL && rel_of(&z, p) == 0);
	KT_EXPECT(t, zone_alloc(&z, 5) == NULL); // 32..39 is too small
	if (p)
		zone_free(&z, p, 5);
	// The order-3 block at 32 has its would-be buddy at 40..47, outside the zone.
	p = zone_alloc(&z, 3);
	KT_EXPECT(t, p != NULL && rel_of(&z, p) == 32);
	if (p)
		zone_free(&z, p, 3);
	KT_EXPECT(t, free_blocks(&z, 5) == 1 && free_blocks(&z, 3) == 1 && z.nr_free == 40);
	tz_teardown(blk);
}

KTEST(buddy_zones_stay_apart, "buddy: free blocks never merge across the edge of a zone")
{
	struct zone a, b;
	// Two zones side by side in one block: a = frames 0..39, b = frames 40..47. The
	// order-3 block at a's frame 32 has its buddy at frame 40: b's free order-3 block.
	struct page *blk = tz_setup(t, &a, 0, 40);

	if (!blk)
		return;
	zone_init(&b, a.base_pfn + 40, 8);
	zone_free_range(&b, b.base_pfn, 8);
	zone_free_range(&a, a.base_pfn, 40);
	KT_EXPECT(t, a.nr_free == 40 && free_blocks(&a, 5) == 1 && free_blocks(&a, 3) == 1);
	KT_EXPECT(t, free_blocks(&a, 4) == 0);
	KT_EXPECT(t, zone_is_one_block(&b, 3, 0));
	tz_teardown(blk);
}

KTEST(page_refcount, "page: page_get/page_put count references; the last put frees the page")
{
	struct page *p = page_alloc(0, 0);

	KT_EXPECT(t, p != NULL);
	if (!p)
		return;
	KT_EXPECT(t, p->refcount == 1 && (p->flags & PG_HEAD));
	page_get(p);
	page_get(p);
	KT_EXPECT(t, p->refcount == 3);
	page_put(p);
	page_put(p);
	KT_EXPECT(t, p->refcount == 1 && (p->flags & PG_HEAD));
	page_put(p);
	KT_EXPECT(t, p->refcount == 0 && !(p->flags & PG_HEAD));
}

KTEST(page_refcount_private_zone, "page: a private zone's blocks start with one reference")
{
	struct zone z;
	struct page *p;
	struct page *blk = tz_setup(t, &z, 0, TZ_PAGES);

	if (!blk)
		return;
	zone_free_range(&z, z.base_pfn, TZ_PAGES);
	p = zone_alloc(&z, 2);
	KT_EXPECT(t, p != NULL && p->refcount == 1);
	for (int i = 1; p && i < 4; i++)
		KT_EXPECT(t, p[i].flags == 0 && p[i].refcount == 0); // tail frames carry nothing
	if (p)
		zone_free(&z, p, 2);
	KT_EXPECT(t, zone_is_one_block(&z, TZ_ORDER, 0));
	tz_teardown(blk);
}

static bool block_is_zero(const struct page *p, unsigned int order)
{
	const uint64_t *w = page_to_virt(p);

	for (size_t i = 0; i < (PAGE_SIZE << order) / sizeof(*w); i++)
		if (w[i])
			return false;
	return true;
}

KTEST(page_alloc_global_orders, "page_alloc: every order comes back aligned; PAF_ZERO zeroes it")
{
	unsigned long before = mm_free_pages();

	for (unsigned int order = 0; order < MAX_ORDER; order++) {
		struct page *p = page_alloc(order, PAF_ZERO);

		KT_EXPECT(t, p != NULL);
		if (!p)
			continue;
		KT_EXPECT(t, IS_ALIGNED(page_to_pfn(p), 1UL << order));
		KT_EXPECT(t, p->flags == PG_HEAD && p->order == order && p->refcount == 1);
		KT_EXPECT(t, block_is_zero(p, order));
		memset(page_to_virt(p), 0xa5, PAGE_SIZE << order); // dirty it for the next round
		page_free(p, order);
	}
	KT_EXPECT(t, page_alloc(MAX_ORDER, 0) == NULL);
	KT_EXPECT(t, mm_free_pages() == before);
	KT_EXPECT(t, mm_free_pages() <= mm_total_pages());
}

KTEST(page_alloc_virt_zeroed, "page_alloc_virt: one zeroed, page-aligned page in the direct map")
{
	unsigned long before = mm_free_pages();
	uint8_t *va = page_alloc_virt();
	bool zero = true;

	KT_EXPECT(t, va != NULL);
	if (!va)
		return;
	KT_EXPECT(t, IS_ALIGNED((uintptr_t)va, PAGE_SIZE));
	KT_EXPECT(t, (uintptr_t)va >= DIRECT_MAP_BASE);
	KT_EXPECT(t, mm_free_pages() == before - 1);
	for (size_t i = 0; i < PAGE_SIZE; i++)
		zero &= va[i] == 0;
	KT_EXPECT(t, zero);
	KT_EXPECT(t, virt_to_page(va)->flags == PG_HEAD);
	page_free_virt(va);
	KT_EXPECT(t, mm_free_pages() == before);
}

// Mark the frames of a block at relative frame rel in seen; false if one was marked already.
static bool mark_block(bool *seen, unsigned long rel, unsigned int order)
{
	bool fresh = true;

	for (unsigned long i = rel; i < rel + (1UL << order); i++) {
		fresh &= !seen[i];
		seen[i] = true;
	}
	return fresh;
}

// Every listed free block is a PG_BUDDY head of its list's order, aligned relative to the
// zone base, inside the zone, disjoint from the others and not mergeable with its buddy;
// together they hold nr_free frames. Marks the free frames in seen (z->npages entries).
static bool zone_consistent(struct zone *z, bool *seen)
{
	unsigned long frames = 0;
	struct page *p;

	for (unsigned int o = 0; o < MAX_ORDER; o++) {
		list_for_each_entry(p, &z->free_lists[o], list) {
			unsigned long rel = rel_of(z, p), buddy = rel ^ (1UL << o);
			struct page *b;

			if (!(p->flags & PG_BUDDY) || p->order != o || !IS_ALIGNED(rel, 1UL << o))
				return false;
			if (rel + (1UL << o) > z->npages || !mark_block(seen, rel, o))
				return false;
			frames += 1UL << o;
			if (o + 1 == MAX_ORDER || buddy + (1UL << o) > z->npages)
				continue;
			b = pfn_to_page(z->base_pfn + buddy);
			if ((b->flags & PG_BUDDY) && b->order == o)
				return false; // two free buddies left unmerged
		}
	}
	return frames == z->nr_free;
}

KTEST(buddy_random_consistent, "buddy: random allocations and frees keep the free lists sound")
{
	struct page *held[TZ_PAGES];
	unsigned int orders[TZ_PAGES];
	unsigned long n = 0, nfree = TZ_PAGES - 3;
	uint32_t seed = 7;
	struct zone z;
	// An odd base and an odd size, so relative and absolute alignment differ.
	struct page *blk = tz_setup(t, &z, 1, nfree);

	if (!blk)
		return;
	zone_free_range(&z, z.base_pfn, nfree);
	for (int step = 0; step < 4000; step++) {
		seed = seed * 1103515245u + 12345u;
		if (n < TZ_PAGES && (seed >> 16) % 2) {
			held[n] = zone_alloc(&z, (seed >> 20) % 4);
			if (held[n])
				orders[n++] = (seed >> 20) % 4;
		} else if (n) {
			unsigned long i = (seed >> 8) % n;

			zone_free(&z, held[i], orders[i]);
			held[i] = held[--n];
			orders[i] = orders[n];
		}
		if (step % 64 == 0) {
			bool seen[TZ_PAGES] = { false }, ok = zone_consistent(&z, seen);

			for (unsigned long i = 0; i < n; i++)
				ok &= mark_block(seen, rel_of(&z, held[i]), orders[i]);
			KT_EXPECT(t, ok);
		}
	}
	while (n--)
		zone_free(&z, held[n], orders[n]);
	KT_EXPECT(t, z.nr_free == nfree && free_blocks(&z, 5) == 1 && free_blocks(&z, 4) == 1);
	tz_teardown(blk);
}
