// Unit tests of the kernel heap (mm/kmalloc.c): size classes, alignment, ksize, reuse of
// freed objects, return of empty slab pages, large blocks, kzalloc, and that live objects
// never overlap.
#include <trapeze/kmalloc.h>
#include <trapeze/ktest.h>
#include <trapeze/page_alloc.h>
#include <trapeze/string.h>

#include "../../mm/internal.h"

// The size class kmalloc should pick for a request: the next power of two, at least 16.
static size_t class_of(size_t size)
{
	size_t c = 16;

	while (c < size)
		c <<= 1;
	return c;
}

KTEST(kmalloc_size_classes, "kmalloc: each size class gives objects aligned to the class size")
{
	static const size_t sizes[] = { 0,   1,   8,   15,  16,  17,   31,   32,   33,   63,
					64,  65,  100, 128, 129, 255,  256,  257,  511,  512,
					513, 777, 1024, 1025, 1500, 2047, 2048 };

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t want = class_of(sizes[i]);
		uint8_t *p = kmalloc(sizes[i]);

		KT_EXPECT(t, p != NULL);
		if (!p)
			continue;
		KT_EXPECT(t, ksize(p) == want);
		KT_EXPECT(t, IS_ALIGNED((uintptr_t)p, want));
		KT_EXPECT(t, virt_to_page(p)->flags & PG_SLAB);
		memset(p, 0x5a, want); // the whole class size is usable
		kfree(p);
	}
}

KTEST(kmalloc_large_blocks, "kmalloc: requests above 2 KiB get page blocks of the right order")
{
	static const size_t sizes[] = { 2049, 4095, 4096, 4097, 8192, 12288, 100000, 1UL << 20 };
	unsigned long before = mm_free_pages();

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t want = PAGE_SIZE;
		uint8_t *p = kmalloc(sizes[i]);

		while (want < sizes[i])
			want <<= 1;
		KT_EXPECT(t, p != NULL);
		if (!p)
			continue;
		KT_EXPECT(t, ksize(p) == want);
		KT_EXPECT(t, IS_ALIGNED((uintptr_t)p, PAGE_SIZE));
		KT_EXPECT(t, virt_to_page(p)->flags & PG_HEAD);
		KT_EXPECT(t, !(virt_to_page(p)->flags & PG_SLAB));
		memset(p, 0xc3, sizes[i]);
		kfree(p);
	}
	KT_EXPECT(t, mm_free_pages() == before);
	KT_EXPECT(t, kmalloc(PAGE_SIZE << MAX_ORDER) == NULL);
	KT_EXPECT(t, kmalloc((size_t)-1) == NULL);
	kfree(NULL);
}

KTEST(kmalloc_reuses_freed, "kmalloc: a freed object is the next one handed out of its class")
{
	void *objs[8], *q;

	for (size_t size = 16; size <= 2048; size <<= 1) {
		void *p = kmalloc(size);

		KT_EXPECT(t, p != NULL);
		kfree(p);
		q = kmalloc(size);
		KT_EXPECT(t, q == p);
		kfree(q);
	}
	// 2048-byte objects fill a page in pairs, so objs[2]'s page is full when it is freed:
	// the page must come back into use.
	for (size_t i = 0; i < ARRAY_SIZE(objs); i++)
		objs[i] = kmalloc(2048);
	kfree(objs[2]);
	q = kmalloc(2048);
	KT_EXPECT(t, q == objs[2]);
	objs[2] = q;
	for (size_t i = 0; i < ARRAY_SIZE(objs); i++)
		kfree(objs[i]);
}

// Fill enough objects of one class to need many slab pages, free them all, and check
// that the cache returned the emptied pages (it may keep one spare).
static void churn_class(struct ktest_ctx *t, size_t size, size_t n)
{
	unsigned long free_before = mm_free_pages();
	void **objs = kmalloc(n * sizeof(*objs));
	unsigned long pages_before = kmalloc_slab_pages(size);

	KT_EXPECT(t, objs != NULL);
	if (!objs)
		return;
	for (size_t i = 0; i < n; i++) {
		objs[i] = kmalloc(size);
		KT_EXPECT(t, objs[i] != NULL);
	}
	KT_EXPECT(t, kmalloc_slab_pages(size) * (PAGE_SIZE / size) >= n);
	for (size_t i = 0; i < n; i++)
		kfree(objs[i]);
	KT_EXPECT(t, kmalloc_slab_pages(size) <= pages_before + 1);
	kfree(objs);
	// At most a spare page in this class and in the class that held objs stay out.
	KT_EXPECT(t, mm_free_pages() + 2 >= free_before);
}

KTEST(kmalloc_returns_empty_slabs, "kmalloc: slab pages emptied by kfree go back to page_alloc")
{
	churn_class(t, 16, 2000);
	churn_class(t, 256, 300);
	churn_class(t, 2048, 64);
}

KTEST(kzalloc_zeroes, "kzalloc: memory comes back zeroed even where a freed object was dirty")
{
	static const size_t sizes[] = { 24, 128, 2048, 5000, 65536 };

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint8_t *p = kmalloc(sizes[i]);
		bool zero = true;

		KT_EXPECT(t, p != NULL);
		if (!p)
			continue;
		memset(p, 0xee, sizes[i]);
		kfree(p);
		p = kzalloc(sizes[i]);
		KT_EXPECT(t, p != NULL);
		if (!p)
			continue;
		for (size_t j = 0; j < sizes[i]; j++)
			zero &= p[j] == 0;
		KT_EXPECT(t, zero);
		kfree(p);
	}
}

#define NOVERLAP 600

// A byte that depends on both the object and the offset, so one object's pattern
// written over another's is caught.
static uint8_t pattern(size_t obj, size_t off)
{
	return (uint8_t)(obj * 167 + off * 13 + 1);
}

static void fill(uint8_t *p, size_t size, size_t obj)
{
	for (size_t j = 0; j < size; j++)
		p[j] = pattern(obj, j);
}

static bool intact(const uint8_t *p, size_t size, size_t obj)
{
	for (size_t j = 0; j < size; j++)
		if (p[j] != pattern(obj, j))
			return false;
	return true;
}

// Sizes from 1 to a little over 4 KiB, from a fixed pseudo-random sequence.
static size_t next_size(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return 1 + (*seed >> 8) % 4200;
}

static bool all_disjoint(uint8_t **objs, const size_t *sizes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = i + 1; k < n; k++)
			if (objs[i] < objs[k] + sizes[k] && objs[k] < objs[i] + sizes[i])
				return false;
	return true;
}

KTEST(kmalloc_no_overlap, "kmalloc: hundreds of live objects of mixed sizes never overlap")
{
	uint8_t **objs = kzalloc(NOVERLAP * sizeof(*objs));
	size_t *sizes = kzalloc(NOVERLAP * sizeof(*sizes));
	uint32_t seed = 2024;
	size_t bad = 0;

	KT_EXPECT(t, objs && sizes);
	if (!objs || !sizes)
		goto out;
	for (size_t i = 0; i < NOVERLAP; i++) {
		sizes[i] = next_size(&seed);
		objs[i] = kmalloc(sizes[i]);
		KT_EXPECT(t, objs[i] != NULL);
		if (!objs[i])
			goto out;
		fill(objs[i], sizes[i], i);
	}
	KT_EXPECT(t, all_disjoint(objs, sizes, NOVERLAP));
	// Free every other object and refill the holes with new sizes.
	for (size_t i = 0; i < NOVERLAP; i += 2) {
		kfree(objs[i]);
		sizes[i] = next_size(&seed);
		objs[i] = kmalloc(sizes[i]);
		KT_EXPECT(t, objs[i] != NULL);
		if (!objs[i])
			goto out;
		fill(objs[i], sizes[i], i);
	}
	for (size_t i = 0; i < NOVERLAP; i++)
		bad += !intact(objs[i], sizes[i], i);
	KT_EXPECT(t, bad == 0);
	KT_EXPECT(t, all_disjoint(objs, sizes, NOVERLAP));
out:
	for (size_t i = 0; objs && sizes && i < NOVERLAP; i++)
		kfree(objs[i]);
	kfree(sizes);
	kfree(objs);
}
