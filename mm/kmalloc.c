// The kernel heap. Requests up to KMALLOC_MAX_SIZE bytes are served by one cache per
// power-of-two size class (16, 32, ..., 2048 bytes); larger ones take a block of whole
// pages from the page allocator.
//
// A cache carves single pages (slab pages) into objects of its size, laid out from the
// page's start, so every object is aligned to its size. A slab page's struct page says so:
// PG_SLAB, page->slab is the cache, page->freelist chains the free objects through their
// first word, page->inuse counts the objects handed out. The cache lists the slab pages
// that have both free and live objects (partial); a full page is on no list; a page whose
// last object is freed goes back to the page allocator, except that each cache keeps one
// such page (spare) so that a caller allocating and freeing one object in a loop does not
// bounce a page through the page allocator every time.
//
// A large block is a PG_HEAD block from page_alloc that also carries PG_KMALLOC, so kfree
// can tell it from memory that page_alloc handed to someone else.
//
// Freed objects carry KMALLOC_FREE_POISON in their second word; kfree of an object that
// has it walks the page's freelist and panics if the object is already there (double free).
//
// Lock: each cache's lock, taken with interrupts off, guards its partial list, its spare
// and the freelist/inuse of every slab page it owns. It is never held while calling the
// page allocator, so kmalloc adds nothing to the lock order.
#include <trapeze/kmalloc.h>
#include <trapeze/page_alloc.h>
#include <trapeze/panic.h>
#include <trapeze/printk.h>
#include <trapeze/spinlock.h>
#include <trapeze/string.h>

#include "internal.h"

#define KMALLOC_MIN_SHIFT 4  // 16 bytes: room for the freelist link and the poison word
#define KMALLOC_MAX_SHIFT 11 // 2048 bytes: two objects per page
#define KMALLOC_MAX_SIZE (1UL << KMALLOC_MAX_SHIFT)
#define KMALLOC_NR_CLASSES (KMALLOC_MAX_SHIFT - KMALLOC_MIN_SHIFT + 1)
// Arbitrary, unlikely to be a live object's second word.
#define KMALLOC_FREE_POISON 0x6b6b5e1f0d3ca5e7UL

_Static_assert(KMALLOC_MAX_SIZE <= PAGE_SIZE / 2, "a slab page holds at least two objects");

struct kmem_cache {
	struct spinlock lock;
	size_t size;              // object size, a power of two; fixed by kmalloc_init
	// under lock:
	struct list_head partial; // slab pages with free and live objects
	struct page *spare;       // one slab page with no live objects, or NULL
	unsigned long nr_pages;   // slab pages owned: partial, full and spare
};

// A free object: the link is its first word, the poison its second.
struct kmalloc_free_obj {
	struct kmalloc_free_obj *next;
	uint64_t poison;
};

static struct kmem_cache kmalloc_caches[KMALLOC_NR_CLASSES];
static bool kmalloc_ready;

static const char *const kmalloc_cache_names[KMALLOC_NR_CLASSES] = {
	"kmalloc-16",  "kmalloc-32",  "kmalloc-64",   "kmalloc-128",
	"kmalloc-256", "kmalloc-512", "kmalloc-1024", "kmalloc-2048",
};

// The smallest shift s with 2^s >= size (size >= 2).
static unsigned int size_shift(size_t size)
{
	return 64 - __builtin_clzl(size - 1);
}

// The cache for a request of size bytes; NULL if it is served by whole pages.
static struct kmem_cache *kmalloc_cache_for(size_t size)
{
	if (size > KMALLOC_MAX_SIZE)
		return NULL;
	if (size <= (1UL << KMALLOC_MIN_SHIFT))
		return &kmalloc_caches[0];
	return &kmalloc_caches[size_shift(size) - KMALLOC_MIN_SHIFT];
}

void kmalloc_init(void)
{
	for (int i = 0; i < KMALLOC_NR_CLASSES; i++) {
		struct kmem_cache *c = &kmalloc_caches[i];

		spin_init(&c->lock, kmalloc_cache_names[i]);
		c->size = 1UL << (KMALLOC_MIN_SHIFT + i);
		list_init(&c->partial);
		c->spare = NULL;
		c->nr_pages = 0;
	}
	kmalloc_ready = true;
}

// --- slab pages ---------------------------------------------------------------------------

// A fresh slab page for c with every object on its freelist, in address order.
static struct page *slab_page_alloc(struct kmem_cache *c)
{
	struct page *page = page_alloc(0, 0);
	char *base;
	struct kmalloc_free_obj *obj = NULL;

	if (!page)
		return NULL;
	base = page_to_virt(page);
	for (size_t i = PAGE_SIZE / c->size; i-- > 0;) {
		struct kmalloc_free_obj *o = (struct kmalloc_free_obj *)(base + i * c->size);

		o->next = obj;
		o->poison = KMALLOC_FREE_POISON;
		obj = o;
	}
	list_init(&page->list);
	page->slab = c;
	page->freelist = obj;
	page->inuse = 0;
	page->flags |= PG_SLAB;
	return page;
}

static void slab_page_free(struct page *page)
{
	page->flags &= ~PG_SLAB;
	page->slab = NULL;
	page->freelist = NULL;
	page->inuse = 0;
	page_free(page, 0);
}

// Hand out the first free object of page, which must have one.
static void *slab_take_locked(struct kmem_cache *c, struct page *page)
{
	struct kmalloc_free_obj *obj = page->freelist;
	uintptr_t next = (uintptr_t)obj->next;
	uintptr_t base = (uintptr_t)page_to_virt(page);

	assert_held(&c->lock);
	if (next && (next - base >= PAGE_SIZE || !IS_ALIGNED(next - base, c->size)))
		panic("kmalloc: freelist of %s page %#lx is corrupt (object %p links to %#lx); "
		      "a use after free?", c->lock.name, page_to_pfn(page), (void *)obj, next);
	page->freelist = obj->next;
	page->inuse++;
	if (!page->freelist)
		list_del(&page->list); // full: off the partial list
	obj->next = NULL;
	obj->poison = 0;
	return obj;
}

// A slab page of c with a free object, on c's partial list; NULL when out of pages.
static struct page *slab_page_get_locked(struct kmem_cache *c)
{
	struct page *page;

	assert_held(&c->lock);
	if (!list_empty(&c->partial))
		return list_first_entry(&c->partial, struct page, list);
	page = c->spare;
	if (page) {
		c->spare = NULL;
		list_add(&page->list, &c->partial);
	}
	return page;
}

static void *slab_alloc(struct kmem_cache *c)
{
	struct page *page;
	void *obj;
	uint64_t irq = spin_lock_irqsave(&c->lock);

	page = slab_page_get_locked(c);
	if (!page) {
		spin_unlock_irqrestore(&c->lock, irq);
		page = slab_page_alloc(c);
		if (!page)
			return NULL;
		irq = spin_lock_irqsave(&c->lock);
		c->nr_pages++;
		list_add(&page->list, &c->partial);
	}
	obj = slab_take_locked(c, page);
	spin_unlock_irqrestore(&c->lock, irq);
	return obj;
}

static bool slab_freelist_has_locked(const struct page *page, const void *obj)
{
	for (const struct kmalloc_free_obj *o = page->freelist; o; o = o->next)
		if (o == obj)
			return true;
	return false;
}

static void slab_free(struct page *page, void *ptr)
{
	struct kmem_cache *c = page->slab;
	struct kmalloc_free_obj *obj = ptr;
	struct page *release = NULL;
	uint64_t irq = spin_lock_irqsave(&c->lock);

	if (obj->poison == KMALLOC_FREE_POISON && slab_freelist_has_locked(page, obj))
		panic("kfree: double free of %p (%s)", ptr, c->lock.name);
	obj->next = page->freelist;
	obj->poison = KMALLOC_FREE_POISON;
	page->freelist = obj;
	page->inuse--;
	if (page->inuse == 0) {
		list_del(&page->list);
		if (!c->spare) {
			c->spare = page;
		} else {
			c->nr_pages--;
			release = page;
		}
	} else if (list_empty(&page->list)) {
		list_add(&page->list, &c->partial); // was full
	}
	spin_unlock_irqrestore(&c->lock, irq);
	if (release)
		slab_page_free(release);
}

// --- the interface ------------------------------------------------------------------------

// Context: any; never sleeps. kmalloc(0) returns a valid smallest object.
void *kmalloc(size_t size)
{
	struct kmem_cache *c;
	struct page *page;
	unsigned int order;

	if (unlikely(!kmalloc_ready))
		panic("kmalloc called before kmalloc_init");
	c = kmalloc_cache_for(size);
	if (c)
		return slab_alloc(c);
	order = size_shift(size) - PAGE_SHIFT; // size > PAGE_SIZE / 2, so at least 0
	if (order >= MAX_ORDER)
		return NULL;
	page = page_alloc(order, 0);
	if (!page)
		return NULL;
	page->flags |= PG_KMALLOC;
	return page_to_virt(page);
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);

	if (p)
		memset(p, 0, size);
	return p;
}

// The struct page behind a pointer kmalloc returned. Anything else is a kernel bug
// (a stray pointer, a pointer into the middle of an object, memory from page_alloc or a
// static buffer) and panics, naming the caller.
static struct page *kmalloc_page_of(const void *ptr, const char *who)
{
	uintptr_t va = (uintptr_t)ptr;
	struct page *page;

	if (va < DIRECT_MAP_BASE || va - DIRECT_MAP_BASE >= max_pfn << PAGE_SHIFT)
		panic("%s(%p): not a kmalloc pointer (outside the direct map of RAM)", who, ptr);
	page = virt_to_page(ptr);
	if (page->flags & PG_SLAB) {
		size_t size = page->slab->size;

		if (!IS_ALIGNED(va & (PAGE_SIZE - 1), size))
			panic("%s(%p): not the start of a kmalloc object (inside a %zu-byte one)",
			      who, ptr, size);
		return page;
	}
	if ((page->flags & PG_KMALLOC) && IS_ALIGNED(va, PAGE_SIZE))
		return page;
	panic("%s(%p): not a kmalloc object (frame %#lx flags %#x; freed already?)", who, ptr,
	      page_to_pfn(page), page->flags);
}

// Context: any; never sleeps. NULL is ignored.
void kfree(const void *ptr)
{
	struct page *page;

	if (!ptr)
		return;
	page = kmalloc_page_of(ptr, "kfree");
	if (page->flags & PG_SLAB) {
		slab_free(page, (void *)ptr);
		return;
	}
	page->flags &= ~PG_KMALLOC;
	page_free(page, page->order);
}

size_t ksize(const void *ptr)
{
	struct page *page = kmalloc_page_of(ptr, "ksize");

	if (page->flags & PG_SLAB)
		return page->slab->size;
	return PAGE_SIZE << page->order;
}

unsigned long kmalloc_slab_pages(size_t size)
{
	struct kmem_cache *c = kmalloc_cache_for(size);
	unsigned long n;
	uint64_t irq;

	if (!c)
		return 0;
	irq = spin_lock_irqsave(&c->lock);
	n = c->nr_pages;
	spin_unlock_irqrestore(&c->lock, irq);
	return n;
}
