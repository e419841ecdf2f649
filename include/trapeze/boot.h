// What the boot loader told us, copied out of the Multiboot structures early in boot
// (arch/x86_64/multiboot.c) so that nothing later depends on the loader's memory.
#pragma once

#include <trapeze/types.h>

#define BOOT_MAX_REGIONS 64
#define BOOT_MAX_MODULES 4
#define BOOT_CMDLINE_MAX 1024

enum mem_region_type {
	MEM_USABLE = 1,
	MEM_RESERVED = 2,
	MEM_ACPI_RECLAIM = 3,
	MEM_ACPI_NVS = 4,
	MEM_BAD = 5,
};

struct mem_region {
	phys_addr_t base;
	uint64_t len;
	uint32_t type; // enum mem_region_type
};

struct boot_module {
	phys_addr_t start, end; // [start, end)
	char name[64];
};

struct boot_info {
	char cmdline[BOOT_CMDLINE_MAX];
	struct mem_region regions[BOOT_MAX_REGIONS];
	int nr_regions;
	struct boot_module modules[BOOT_MAX_MODULES];
	int nr_modules;
	phys_addr_t kernel_phys_end; // first byte after the loaded kernel image
	phys_addr_t rsdp;            // ACPI RSDP if the loader gave one, else 0
};

extern struct boot_info boot_info;

// Kernel command line options (kernel/cmdline.c). Returns the value of "name=value", "" for a
// bare "name", NULL if absent. The pointer is into a private copy; valid forever.
const char *cmdline_get(const char *name);
