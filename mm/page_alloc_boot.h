// Boot-time hand-over of memory to the page allocator (mm/page_alloc.c), for the code that
// brings the kernel up. page_alloc_init() itself is declared in <trapeze/page_alloc.h>.
#pragma once

#include <trapeze/types.h>

// Hand the usable RAM in [start, end) that page_alloc_init() kept back for a boot module
// (the initramfs) to the allocator, once nothing reads that module any more. Only pages
// held back at boot are freed: firmware, kernel image and mem_map pages in the range are
// left alone, and so is an edge page shared with another boot module. Calling it twice
// for the same range frees nothing the second time.
// Context: process context after page_alloc_init(); takes the global zone lock.
void page_alloc_release_range(phys_addr_t start, phys_addr_t end);
