// Private to mm/ and its unit tests: page flags that only the page allocator and kmalloc
// use, and counters the tests read. Nothing outside mm/ and tests/ktest/ includes this.
#pragma once

#include <trapeze/page_alloc.h>

// Private page flags. They sit at the top of page->flags so that public flags in
// page_alloc.h can keep growing from bit 0 without colliding.
//
// PG_KMALLOC: a PG_HEAD block that kmalloc handed out for a request above the largest size
// class; kfree and ksize accept such a block, page_free refuses it.
// PG_BOOT_HELD: usable RAM kept back at boot because a boot module lives in it; it stays
// PG_RESERVED until page_alloc_release_range() hands it to the allocator.
#define PG_KMALLOC (1u << 30)
#define PG_BOOT_HELD (1u << 31)

// The zone holding all of RAM (mm/page_alloc.c); page_alloc/page_free work on it.
extern struct zone global_zone;

// Slab pages the kmalloc cache serving a request of size bytes owns right now (partly used,
// full and the cached empty one). 0 for sizes served by whole page blocks. For tests.
unsigned long kmalloc_slab_pages(size_t size);
