// Copy what the Multiboot (version 1) loader tells us into struct boot_info, so that nothing
// later depends on the loader's memory. Runs first in kernel_main, on the boot page tables,
// which map the first GiB of physical memory at the direct map base.
#include <trapeze/boot.h>
#include <trapeze/mm.h>
#include <trapeze/panic.h>
#include <trapeze/string.h>

#define MULTIBOOT_LOADER_MAGIC 0x2BADB002

// Multiboot information structure (Multiboot specification 0.6.96, section 3.3).
#define MBI_FLAG_MEM (1u << 0)
#define MBI_FLAG_CMDLINE (1u << 2)
#define MBI_FLAG_MODS (1u << 3)
#define MBI_FLAG_MMAP (1u << 6)

struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper; // KiB below 1 MiB and above it
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
} __packed;

struct multiboot_module {
	uint32_t start, end;
	uint32_t string;
	uint32_t reserved;
} __packed;

// Each memory map entry is preceded by its size (which does not count itself).
struct multiboot_mmap_entry {
	uint32_t size;
	uint64_t base, len;
	uint32_t type;
} __packed;

struct boot_info boot_info;

extern char __bss_end_phys[];

static void copy_string(char *dst, size_t size, uint32_t phys)
{
	strlcpy(dst, phys ? (const char *)phys_to_virt(phys) : "", size);
}

static void parse_mmap(const struct multiboot_info *mbi)
{
	uint32_t off = 0;

	while (off + sizeof(struct multiboot_mmap_entry) <= mbi->mmap_length &&
	       boot_info.nr_regions < BOOT_MAX_REGIONS) {
		const struct multiboot_mmap_entry *e = phys_to_virt(mbi->mmap_addr + off);
		struct mem_region *r = &boot_info.regions[boot_info.nr_regions++];

		r->base = e->base;
		r->len = e->len;
		r->type = e->type;
		off += e->size + sizeof(e->size);
	}
}

// Context: boot, before anything else; magic and mbi_phys come from the loader's eax/ebx.
void multiboot_parse(uint32_t magic, uint32_t mbi_phys)
{
	const struct multiboot_info *mbi = phys_to_virt(mbi_phys);

	if (magic != MULTIBOOT_LOADER_MAGIC)
		panic("not started by a Multiboot loader (magic %#x)", magic);
	boot_info.kernel_phys_end = (phys_addr_t)(uintptr_t)__bss_end_phys;
	if (mbi->flags & MBI_FLAG_CMDLINE)
		copy_string(boot_info.cmdline, sizeof(boot_info.cmdline), mbi->cmdline);
	if (mbi->flags & MBI_FLAG_MMAP) {
		parse_mmap(mbi);
	} else if (mbi->flags & MBI_FLAG_MEM) {
		boot_info.regions[0] = (struct mem_region){ 0, mbi->mem_lower * 1024ULL, MEM_USABLE };
		boot_info.regions[1] =
			(struct mem_region){ 0x100000, mbi->mem_upper * 1024ULL, MEM_USABLE };
		boot_info.nr_regions = 2;
	}
	if (mbi->flags & MBI_FLAG_MODS) {
		const struct multiboot_module *mods = phys_to_virt(mbi->mods_addr);

		for (uint32_t i = 0; i < mbi->mods_count && i < BOOT_MAX_MODULES; i++) {
			struct boot_module *m = &boot_info.modules[boot_info.nr_modules++];

			m->start = mods[i].start;
			m->end = mods[i].end;
			copy_string(m->name, sizeof(m->name), mods[i].string);
		}
	}
}
