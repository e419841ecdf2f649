// The physical page allocator: a binary buddy allocator over every usable RAM page.
// Each physical page frame has a struct page in mem_map[], indexed by page frame number.
// Lock: zone->lock (a spinlock taken with interrupts off), so pages may be allocated and
// freed from any context. page_alloc never sleeps; it returns NULL when memory is out.
#pragma once

#include <trapeze/list.h>
#include <trapeze/mm.h>
#include <trapeze/spinlock.h>
#include <trapeze/types.h>

#define MAX_ORDER 11 // orders 0..10: blocks of 1 page up to 4 MiB

// page->flags
#define PG_RESERVED (1u << 0) // never handed out (firmware, kernel image, holes)
#define PG_BUDDY (1u << 1)    // free, head of a free block of 2^order pages in a zone
#define PG_SLAB (1u << 2)     // owned by a kmalloc cache (page->slab)
#define PG_HEAD (1u << 3)     // first page of an allocated block of 2^order pages

struct kmem_cache;

struct page {
	struct list_head list; // on a free list (PG_BUDDY) or a slab cache's list (PG_SLAB)
	uint32_t flags;
	uint8_t order;         // block order when PG_BUDDY or PG_HEAD
	int32_t refcount;      // users of the page; page_put frees at zero
	struct kmem_cache *slab; // PG_SLAB: the cache this page belongs to
	void *freelist;        // PG_SLAB: first free object in this page
	uint32_t inuse;        // PG_SLAB: objects handed out from this page
};

// One buddy allocator over a contiguous range of page frames. The kernel has one zone for
// all of RAM; the unit tests build small private zones.
struct zone {
	struct spinlock lock;
	unsigned long base_pfn, npages;
	unsigned long nr_free;                 // under lock
	struct list_head free_lists[MAX_ORDER]; // under lock
};

extern struct page *mem_map;
extern unsigned long max_pfn;

// page_alloc() flags.
#define PAF_ZERO (1u << 0) // fill the block with zeroes

struct page *page_alloc(unsigned int order, unsigned int flags);
void page_free(struct page *page, unsigned int order);

// Convenience: one zeroed page, returned as a direct-map address, or NULL.
void *page_alloc_virt(void);
void page_free_virt(void *va);

static inline unsigned long page_to_pfn(const struct page *p)
{
	return (unsigned long)(p - mem_map);
}
static inline struct page *pfn_to_page(unsigned long pfn)
{
	return &mem_map[pfn];
}
static inline phys_addr_t page_to_phys(const struct page *p)
{
	return (phys_addr_t)page_to_pfn(p) << PAGE_SHIFT;
}
static inline struct page *phys_to_page(phys_addr_t pa)
{
	return pfn_to_page(pa >> PAGE_SHIFT);
}
static inline void *page_to_virt(const struct page *p)
{
	return phys_to_virt(page_to_phys(p));
}
static inline struct page *virt_to_page(const void *va)
{
	return phys_to_page(virt_to_phys(va));
}

// Reference counts for pages shared between address spaces (copy-on-write).
// page_alloc returns blocks with refcount 1; page_put frees an order-0 page at zero.
void page_get(struct page *p);
void page_put(struct page *p);

// Zone primitives, used by page_alloc and by the unit tests on private zones.
void zone_init(struct zone *z, unsigned long base_pfn, unsigned long npages);
// Give the pages [pfn, pfn + n) to the zone as free memory (they must lie inside it).
void zone_free_range(struct zone *z, unsigned long pfn, unsigned long n);
struct page *zone_alloc(struct zone *z, unsigned int order);
void zone_free(struct zone *z, struct page *page, unsigned int order);

// Boot: build mem_map and the global zone from the boot loader's memory map.
struct boot_info;
void page_alloc_init(const struct boot_info *bi);
