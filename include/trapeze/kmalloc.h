// The kernel heap: power-of-two size classes from 16 bytes to 2 KiB carved out of pages
// (slab style, one cache per class); larger requests take whole page blocks from the
// page allocator. Lock: each cache's spinlock (irqsave), so any context may allocate.
// Never sleeps; returns NULL when memory is out.
#pragma once

#include <trapeze/types.h>

void *kmalloc(size_t size);
void *kzalloc(size_t size);
void kfree(const void *ptr); // NULL is ignored
// The usable size of a kmalloc'ed block (at least what was asked for).
size_t ksize(const void *ptr);
void kmalloc_init(void);
