// Page tables. paging_init() builds the kernel's final address space:
//   - the direct map: every physical range in the boot memory map, at DIRECT_MAP_BASE,
//     read-write, never executable, in 2 MiB pages;
//   - the kernel image at KERNEL_IMAGE_BASE in 4 KiB pages with W^X: text read-only and
//     executable, rodata read-only, data and bss writable and non-executable;
//   - empty page-directory-pointer tables for the other kernel regions (ioremap, kernel
//     stacks), so that every kernel PML4 entry exists from boot on and can be copied into
//     each process's PML4 once: a later kernel mapping is then visible everywhere.
// Before the page allocator runs, page-table pages come from a small static pool.
#include <trapeze/boot.h>
#include <trapeze/mm.h>
#include <trapeze/page_alloc.h>
#include <trapeze/panic.h>
#include <trapeze/printk.h>
#include <trapeze/string.h>
#include <asm/cpu.h>
#include <asm/paging.h>
#include <asm/x86.h>
#include <uapi/errno.h>

#define IOREMAP_BASE 0xffffc00000000000UL
#define IOREMAP_SIZE (1UL << 30)
#define LARGE_PAGE_SIZE (2UL << 20)
#define EARLY_PT_PAGES 64
#define KERNEL_HALF_FIRST 256

// Intermediate entries grant everything; the leaf entry decides the access rights.
#define PT_TABLE_KERNEL (PTE_P | PTE_W)
#define PT_TABLE_USER (PTE_P | PTE_W | PTE_U)

uint64_t *kernel_pml4;

static uint8_t early_pt_pool[EARLY_PT_PAGES][PAGE_SIZE] __aligned(PAGE_SIZE);
static int early_pt_used;
static bool page_alloc_ready;
static uintptr_t ioremap_next = IOREMAP_BASE;

static uint64_t nx_bit(void)
{
	return cpu_features.nx ? PTE_NX : 0;
}

static uint64_t global_bit(void)
{
	return cpu_features.pge ? PTE_G : 0;
}

// A zeroed page for a page table, as a kernel virtual address; NULL when out of memory.
static uint64_t *pt_page_alloc(void)
{
	if (page_alloc_ready)
		return page_alloc_virt();
	if (early_pt_used == EARLY_PT_PAGES)
		panic("paging: early page-table pool exhausted");
	return (uint64_t *)early_pt_pool[early_pt_used++];
}

static bool pt_page_is_early(const uint64_t *table)
{
	return (const uint8_t *)table >= early_pt_pool[0] &&
	       (const uint8_t *)table < early_pt_pool[EARLY_PT_PAGES];
}

static uint64_t *entry_table(uint64_t entry)
{
	return phys_to_virt(entry & PTE_ADDR_MASK);
}

// The table an entry points to, created if absent and create is set.
static uint64_t *next_table(uint64_t *entry, bool create, uint64_t table_flags)
{
	uint64_t *t;

	if (*entry & PTE_P)
		return entry_table(*entry);
	if (!create)
		return NULL;
	t = pt_page_alloc();
	if (!t)
		return NULL;
	*entry = virt_to_phys(t) | table_flags;
	return t;
}

pte_t *pgtable_walk(uint64_t *pml4, uintptr_t va, bool create)
{
	uint64_t flags = va < USER_END ? PT_TABLE_USER : PT_TABLE_KERNEL;
	uint64_t *pdpt, *pd, *pt;

	pdpt = next_table(&pml4[PML4_INDEX(va)], create, flags);
	if (!pdpt)
		return NULL;
	pd = next_table(&pdpt[PDPT_INDEX(va)], create, flags);
	if (!pd || (pdpt[PDPT_INDEX(va)] & PTE_PS))
		return NULL;
	pt = next_table(&pd[PD_INDEX(va)], create, flags);
	if (!pt || (pd[PD_INDEX(va)] & PTE_PS))
		return NULL;
	return &pt[PT_INDEX(va)];
}

void pgtable_flush(uint64_t *pml4, uintptr_t va)
{
	if (va >= USER_END || virt_to_phys(pml4) == (read_cr3() & PTE_ADDR_MASK))
		invlpg(va);
}

int pgtable_map(uint64_t *pml4, uintptr_t va, phys_addr_t pa, uint64_t flags)
{
	pte_t *pte = pgtable_walk(pml4, va, true);

	if (!pte)
		return -ENOMEM;
	*pte = (pa & PTE_ADDR_MASK) | flags | PTE_P;
	pgtable_flush(pml4, va);
	return 0;
}

pte_t pgtable_unmap(uint64_t *pml4, uintptr_t va)
{
	pte_t *pte = pgtable_walk(pml4, va, false);
	pte_t old;

	if (!pte || !(*pte & PTE_P))
		return 0;
	old = *pte;
	*pte = 0;
	pgtable_flush(pml4, va);
	return old;
}

void pgtable_activate(uint64_t *pml4)
{
	phys_addr_t pa = virt_to_phys(pml4);

	if ((read_cr3() & PTE_ADDR_MASK) != pa)
		write_cr3(pa);
}

uint64_t *pgtable_alloc(void)
{
	uint64_t *pml4 = pt_page_alloc();

	if (!pml4)
		return NULL;
	memcpy(&pml4[KERNEL_HALF_FIRST], &kernel_pml4[KERNEL_HALF_FIRST],
	       KERNEL_HALF_FIRST * sizeof(uint64_t));
	return pml4;
}

static void pt_page_free(uint64_t *table)
{
	if (!pt_page_is_early(table))
		page_free_virt(table);
}

// Free the page-table pages below a table of the given level (3 = PDPT ... 1 = PT).
static void pgtable_free_level(uint64_t *table, int level)
{
	if (level > 1) {
		for (int i = 0; i < 512; i++)
			if ((table[i] & PTE_P) && !(table[i] & PTE_PS))
				pgtable_free_level(entry_table(table[i]), level - 1);
	}
	pt_page_free(table);
}

void pgtable_free(uint64_t *pml4)
{
	for (int i = 0; i < KERNEL_HALF_FIRST; i++)
		if (pml4[i] & PTE_P)
			pgtable_free_level(entry_table(pml4[i]), 3);
	pt_page_free(pml4);
}

// Map [pa, pa + len) at va with 2 MiB pages (both rounded out to 2 MiB).
static void map_large(uintptr_t va, phys_addr_t pa, uint64_t len, uint64_t flags)
{
	uintptr_t end = ALIGN_UP(va + len, LARGE_PAGE_SIZE);

	va = ALIGN_DOWN(va, LARGE_PAGE_SIZE);
	pa = ALIGN_DOWN(pa, LARGE_PAGE_SIZE);
	for (; va < end; va += LARGE_PAGE_SIZE, pa += LARGE_PAGE_SIZE) {
		uint64_t *pdpt = next_table(&kernel_pml4[PML4_INDEX(va)], true, PT_TABLE_KERNEL);
		uint64_t *pd = next_table(&pdpt[PDPT_INDEX(va)], true, PT_TABLE_KERNEL);

		pd[PD_INDEX(va)] = pa | flags | PTE_P | PTE_PS;
	}
}

static void map_image_range(const char *start, const char *end, uint64_t flags)
{
	for (uintptr_t va = (uintptr_t)start; va < (uintptr_t)end; va += PAGE_SIZE)
		if (pgtable_map(kernel_pml4, va, virt_to_phys((void *)va), flags))
			panic("paging: cannot map the kernel image");
}

static void map_direct(void)
{
	for (int i = 0; i < boot_info.nr_regions; i++) {
		const struct mem_region *r = &boot_info.regions[i];

		if (r->len)
			map_large(DIRECT_MAP_BASE + r->base, r->base, r->len,
				  PTE_W | nx_bit() | global_bit());
	}
	// The first 2 MiB always: BIOS data, EBDA and the ACPI RSDP search area live there.
	map_large(DIRECT_MAP_BASE, 0, LARGE_PAGE_SIZE, PTE_W | nx_bit() | global_bit());
}

static void map_kernel_image(void)
{
	uint64_t g = global_bit(), nx = nx_bit();

	map_image_range(__text_start, __text_end, g);
	map_image_range(__rodata_start, __data_start, g | nx);
	map_image_range(__data_start, __kernel_end, PTE_W | g | nx);
}

void paging_init(void)
{
	kernel_pml4 = pt_page_alloc();
	map_direct();
	map_kernel_image();
	next_table(&kernel_pml4[PML4_INDEX(IOREMAP_BASE)], true, PT_TABLE_KERNEL);
	next_table(&kernel_pml4[PML4_INDEX(KSTACK_AREA_BASE)], true, PT_TABLE_KERNEL);
	write_cr3(virt_to_phys(kernel_pml4));
}

// Called once the page allocator works: later page tables come from it.
void paging_use_page_alloc(void)
{
	page_alloc_ready = true;
}

void *ioremap(phys_addr_t pa, size_t len)
{
	phys_addr_t start = ALIGN_DOWN(pa, PAGE_SIZE);
	size_t size = ALIGN_UP(pa + len, PAGE_SIZE) - start;
	uintptr_t va = ioremap_next;

	if (va + size > IOREMAP_BASE + IOREMAP_SIZE)
		panic("ioremap: out of address space");
	ioremap_next += size;
	for (size_t off = 0; off < size; off += PAGE_SIZE)
		if (pgtable_map(kernel_pml4, va + off, start + off,
				PTE_W | PTE_PCD | PTE_PWT | nx_bit() | global_bit()))
			panic("ioremap: out of memory");
	return (void *)(va + (pa - start));
}
