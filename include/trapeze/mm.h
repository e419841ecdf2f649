// The kernel's view of memory: page size, the fixed virtual regions, and conversions
// between physical addresses and the direct map. See docs/memory-map.md.
//
//	0x0000000000000000 - 0x00007fffffffffff  user space (lower half, per process)
//	0xffff800000000000 - ...                  direct map of all physical RAM
//	0xffffc90000000000 - ...                  kernel stacks (each with a guard page)
//	0xffffffff80000000 - ...                  kernel image (-2 GiB, -mcmodel=kernel)
#pragma once

#include <trapeze/types.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))

#define USER_END 0x0000800000000000UL // first address above user space
#define DIRECT_MAP_BASE 0xffff800000000000UL
#define KSTACK_AREA_BASE 0xffffc90000000000UL
#define KERNEL_IMAGE_BASE 0xffffffff80000000UL // virtual address of physical 0

// Linker symbols bounding the kernel image (virtual addresses).
extern char __kernel_start[], __kernel_end[];
extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __bss_start[], __bss_end[];

static inline void *phys_to_virt(phys_addr_t pa)
{
	return (void *)(pa + DIRECT_MAP_BASE);
}

// Works for direct-map and kernel-image addresses.
static inline phys_addr_t virt_to_phys(const void *va)
{
	uintptr_t v = (uintptr_t)va;

	if (v >= KERNEL_IMAGE_BASE)
		return v - KERNEL_IMAGE_BASE;
	return v - DIRECT_MAP_BASE;
}

// Total and free RAM in pages, for sysinfo and the boot banner.
unsigned long mm_total_pages(void);
unsigned long mm_free_pages(void);
