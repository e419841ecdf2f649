// Unit tests of the VMA set (mm/vma.c): insertion and lookup, splitting by a munmap-like
// detach, merging, gap search, and a thousand areas in scrambled order with the AVL
// invariants checked throughout. The sets here are private and hold anonymous areas only,
// so no mm, page table or file is involved.
#include <trapeze/ktest.h>
#include <trapeze/list.h>
#include <trapeze/vm.h>

#define PG(n) ((uintptr_t)(n) * PAGE_SIZE)
#define RW (VM_READ | VM_WRITE)

// Insert an anonymous [PG(start), PG(end)) with flags; NULL (and a failure) when out of
// memory.
static struct vma *add(struct ktest_ctx *t, struct vma_set *set, unsigned long start,
		       unsigned long end, unsigned int flags)
{
	struct vma *v = vma_alloc(PG(start), PG(end), flags);

	KT_EXPECT(t, v != NULL);
	if (v)
		vma_insert(set, v);
	return v;
}

static void set_destroy(struct vma_set *set)
{
	struct vma *v;

	while ((v = vma_first(set))) {
		vma_remove(set, v);
		vma_free(v);
	}
}

static void list_destroy(struct list_head *list)
{
	struct vma *v, *tmp;

	list_for_each_entry_safe(v, tmp, list, link) {
		list_del(&v->link);
		vma_free(v);
	}
}

static bool covers(const struct vma *v, unsigned long start, unsigned long end)
{
	return v && v->start == PG(start) && v->end == PG(end);
}

KTEST(vma_insert_find, "vma: insert out of order, then find, lookup and walk in order")
{
	struct vma_set set;
	struct vma *a, *b, *c;

	vma_set_init(&set);
	c = add(t, &set, 300, 310, RW);
	a = add(t, &set, 100, 110, RW);
	b = add(t, &set, 200, 220, VM_READ);
	KT_EXPECT(t, vma_set_validate(&set) == 0);
	KT_EXPECT(t, set.count == 3);
	KT_EXPECT(t, vma_first(&set) == a && vma_last(&set) == c);
	KT_EXPECT(t, vma_next(&set, a) == b && vma_next(&set, b) == c && !vma_next(&set, c));
	KT_EXPECT(t, vma_prev(&set, c) == b && !vma_prev(&set, a));
	KT_EXPECT(t, vma_lookup(&set, PG(100)) == a);
	KT_EXPECT(t, vma_lookup(&set, PG(110) - 1) == a);
	KT_EXPECT(t, vma_lookup(&set, PG(110)) == NULL);
	KT_EXPECT(t, vma_lookup(&set, PG(50)) == NULL);
	KT_EXPECT(t, vma_find(&set, PG(50)) == a);
	KT_EXPECT(t, vma_find(&set, PG(110)) == b); // in a gap: the next area up
	KT_EXPECT(t, vma_find(&set, PG(219)) == b);
	KT_EXPECT(t, vma_find(&set, PG(310)) == NULL);
	KT_EXPECT(t, vma_range_free(&set, PG(110), PG(200)));
	KT_EXPECT(t, !vma_range_free(&set, PG(110), PG(201)));
	set_destroy(&set);
	KT_EXPECT(t, set.count == 0 && set.root == NULL);
}

KTEST(vma_detach_splits_middle, "vma: unmapping the middle of an area splits it in two")
{
	struct vma_set set;
	LIST_HEAD(gone);
	struct vma *v;

	vma_set_init(&set);
	add(t, &set, 100, 200, RW);
	KT_EXPECT(t, vma_detach_range(&set, PG(140), PG(150), &gone) == 0);
	KT_EXPECT(t, vma_set_validate(&set) == 0);
	KT_EXPECT(t, set.count == 2);
	KT_EXPECT(t, covers(vma_first(&set), 100, 140));
	KT_EXPECT(t, covers(vma_last(&set), 150, 200));
	KT_EXPECT(t, !list_empty(&gone));
	v = list_first_entry(&gone, struct vma, link);
	KT_EXPECT(t, covers(v, 140, 150) && v->link.next == &gone);
	KT_EXPECT(t, vma_lookup(&set, PG(145)) == NULL);
	list_destroy(&gone);

	// A range spanning a hole and parts of two areas takes exactly those parts.
	KT_EXPECT(t, vma_detach_range(&set, PG(130), PG(160), &gone) == 0);
	KT_EXPECT(t, vma_set_validate(&set) == 0);
	KT_EXPECT(t, covers(vma_first(&set), 100, 130) && covers(vma_last(&set), 160, 200));
	v = list_first_entry(&gone, struct vma, link);
	KT_EXPECT(t, covers(v, 130, 140));
	v = list_entry(v->link.next, struct vma, link);
	KT_EXPECT(t, covers(v, 150, 160));
	list_destroy(&gone);

	// Nothing mapped in the range: nothing detached.
	KT_EXPECT(t, vma_detach_range(&set, PG(130), PG(160), &gone) == 0);
	KT_EXPECT(t, list_empty(&gone) && set.count == 2);
	set_destroy(&set);
}

KTEST(vma_split_keeps_both_halves, "vma: split at an address gives two touching areas")
{
	struct vma_set set;
	struct vma *lo, *hi;

	vma_set_init(&set);
	lo = add(t, &set, 10, 20, RW | VM_EXEC);
	hi = vma_split(&set, lo, PG(13));
	KT_EXPECT(t, hi != NULL);
	KT_EXPECT(t, covers(lo, 10, 13) && covers(hi, 13, 20));
	KT_EXPECT(t, hi && hi->flags == (RW | VM_EXEC));
	KT_EXPECT(t, vma_next(&set, lo) == hi);
	KT_EXPECT(t, vma_set_validate(&set) == 0);
	// And merging them again restores the single area.
	KT_EXPECT(t, vma_merge(&set, hi) == lo);
	KT_EXPECT(t, covers(lo, 10, 20) && set.count == 1);
	KT_EXPECT(t, vma_set_validate(&set) == 0);
	set_destroy(&set);
}

KTEST(vma_merge_adjacent, "vma: adjacent compatible areas merge, others do not")
{
	struct vma_set set;
	struct vma *a, *b, *c, *m;

	vma_set_init(&set);
	a = add(t, &set, 10, 20, RW);
	c = add(t, &set, 30, 40, RW);
	b = add(t, &set, 20, 30, RW);
	m = vma_merge(&set, b); // merges with both neighbours
	KT_EXPECT(t, m == a && covers(a, 10, 40) && set.count == 1);
	KT_EXPECT(t, vma_set_validate(&set) == 0);

	add(t, &set, 40, 50, VM_READ);    // different rights
	b = add(t, &set, 51, 60, RW);     // not touching
	c = add(t, &set, 60, 70, RW | VM_GROWSDOWN); // different flags
	KT_EXPECT(t, vma_merge(&set, vma_lookup(&set, PG(40))) != a);
	KT_EXPECT(t, vma_merge(&set, b) == b && covers(b, 51, 60));
	KT_EXPECT(t, vma_merge(&set, c) == c && set.count == 4);
	KT_EXPECT(t, vma_set_validate(&set) == 0);
	set_destroy(&set);
}

KTEST(vma_gap_search, "vma: top-down gap search honours bounds and stack guard gaps")
{
	struct vma_set set;
	unsigned long guard = STACK_GUARD_GAP / PAGE_SIZE;

	vma_set_init(&set);
	add(t, &set, 100, 200, RW);
	add(t, &set, 210, 300, RW);
	// The highest fit below the limit; then the 10-page hole; then below everything.
	KT_EXPECT(t, vma_find_gap(&set, PG(4), PG(50), PG(400)) == PG(396));
	KT_EXPECT(t, vma_find_gap(&set, PG(4), PG(50), PG(300)) == PG(206));
	KT_EXPECT(t, vma_find_gap(&set, PG(11), PG(50), PG(300)) == PG(89));
	KT_EXPECT(t, vma_find_gap(&set, PG(51), PG(50), PG(300)) == 0);
	KT_EXPECT(t, vma_find_gap(&set, PG(50), PG(50), PG(300)) == PG(50));
	// The high bound inside an area.
	KT_EXPECT(t, vma_find_gap(&set, PG(4), PG(50), PG(250)) == PG(206));
	// Below a growing stack the guard gap stays free.
	add(t, &set, 1000, 1010, RW | VM_GROWSDOWN);
	KT_EXPECT(t, vma_find_gap(&set, PG(1), PG(50), PG(2000)) == PG(1999));
	KT_EXPECT(t, vma_find_gap(&set, PG(1), PG(50), PG(1005)) == PG(1000 - guard - 1));
	KT_EXPECT(t, !vma_range_free(&set, PG(1000 - guard), PG(1000 - guard + 1)));
	KT_EXPECT(t, vma_range_free(&set, PG(990 - guard), PG(1000 - guard)));
	set_destroy(&set);
}

// An odd step modulo a power of two visits every residue once: a scrambled order.
#define MANY 1024
#define SCRAMBLE(i) (((i) * 617 + 89) % MANY)

KTEST(vma_many_areas, "vma: a thousand areas in scrambled order stay balanced and findable")
{
	struct vma_set set;
	bool ok = true;
	int limit;

	vma_set_init(&set);
	for (unsigned long i = 0; i < MANY; i++) {
		unsigned long slot = SCRAMBLE(i);

		if (!add(t, &set, 16 + slot * 3, 16 + slot * 3 + 2, RW))
			break;
	}
	KT_EXPECT(t, set.count == MANY);
	KT_EXPECT(t, vma_set_validate(&set) == 0);
	// AVL height bound: 1.44 log2(n + 2); log2(1026) < 11.
	limit = 16;
	KT_EXPECT(t, set.root && set.root->height <= limit);
	for (unsigned long slot = 0; slot < MANY; slot++) {
		uintptr_t base = PG(16 + slot * 3);
		struct vma *v = vma_lookup(&set, base + PAGE_SIZE);

		ok &= v && v->start == base && vma_lookup(&set, base + PG(2)) == NULL;
		ok &= vma_find(&set, base + PG(2)) == (slot + 1 < MANY ? vma_next(&set, v) : NULL);
	}
	KT_EXPECT(t, ok);
	// Remove every other area (in scrambled order), checking as we go.
	for (unsigned long i = 0; i < MANY; i += 2) {
		struct vma *v = vma_lookup(&set, PG(16 + SCRAMBLE(i) * 3));

		KT_EXPECT(t, v != NULL);
		if (v) {
			vma_remove(&set, v);
			vma_free(v);
		}
		if (i % 64 == 0)
			ok &= vma_set_validate(&set) == 0;
	}
	KT_EXPECT(t, ok && set.count == MANY / 2);
	KT_EXPECT(t, vma_set_validate(&set) == 0);
	set_destroy(&set);
}
