// Unit tests for the page-table code (arch/x86_64/paging.c): mapping and unmapping in a
// fresh address space, the shared kernel half, W^X on the kernel image, and that freeing
// an address space returns every page-table page.
#include <trapeze/ktest.h>
#include <trapeze/mm.h>
#include <trapeze/page_alloc.h>
#include <asm/paging.h>

#define TEST_VA 0x0000123456789000UL // arbitrary user address, far from anything mapped

KTEST(paging_map_unmap, "paging: map, walk and unmap a user page")
{
	uint64_t *pml4 = pgtable_alloc();
	struct page *p = page_alloc(0, PAF_ZERO);
	pte_t *pte;

	KT_EXPECT(t, pml4 && p);
	if (!pml4 || !p)
		return;
	KT_EXPECT(t, pgtable_walk(pml4, TEST_VA, false) == NULL);
	KT_EXPECT(t, pgtable_map(pml4, TEST_VA, page_to_phys(p), PTE_U | PTE_W) == 0);
	pte = pgtable_walk(pml4, TEST_VA, false);
	KT_EXPECT(t, pte != NULL);
	if (pte) {
		KT_EXPECT(t, (*pte & PTE_ADDR_MASK) == page_to_phys(p));
		KT_EXPECT(t, (*pte & (PTE_P | PTE_U | PTE_W)) == (PTE_P | PTE_U | PTE_W));
	}
	// The neighbouring page shares the page table but is not mapped.
	pte = pgtable_walk(pml4, TEST_VA + PAGE_SIZE, false);
	KT_EXPECT(t, pte && !(*pte & PTE_P));
	KT_EXPECT(t, (pgtable_unmap(pml4, TEST_VA) & PTE_ADDR_MASK) == page_to_phys(p));
	KT_EXPECT(t, pgtable_unmap(pml4, TEST_VA) == 0);
	pgtable_free(pml4);
	page_free(p, 0);
}

KTEST(paging_free_returns_tables, "paging: freeing an address space returns its tables")
{
	unsigned long before = mm_free_pages();
	uint64_t *pml4 = pgtable_alloc();
	struct page *p = page_alloc(0, PAF_ZERO);

	KT_EXPECT(t, pml4 && p);
	if (!pml4 || !p)
		return;
	// Three addresses in different PML4 slots: each needs its own PDPT, PD and PT.
	KT_EXPECT(t, pgtable_map(pml4, 0x400000UL, page_to_phys(p), PTE_U) == 0);
	KT_EXPECT(t, pgtable_map(pml4, 0x0000100000000000UL, page_to_phys(p), PTE_U) == 0);
	KT_EXPECT(t, pgtable_map(pml4, 0x00007ffffffff000UL, page_to_phys(p), PTE_U) == 0);
	KT_EXPECT(t, mm_free_pages() <= before - 1 - 1 - 9);
	pgtable_free(pml4);
	page_free(p, 0);
	KT_EXPECT(t, mm_free_pages() == before);
}

KTEST(paging_kernel_half_shared, "paging: every address space shares the kernel half")
{
	uint64_t *pml4 = pgtable_alloc();

	KT_EXPECT(t, pml4 != NULL);
	if (!pml4)
		return;
	for (int i = 256; i < 512; i++)
		KT_EXPECT(t, pml4[i] == kernel_pml4[i]);
	for (int i = 0; i < 256; i++)
		KT_EXPECT(t, pml4[i] == 0);
	pgtable_free(pml4);
}

KTEST(paging_kernel_w_xor_x, "paging: kernel text is read-only, data is not executable")
{
	pte_t *text = pgtable_walk(kernel_pml4, (uintptr_t)__text_start, false);
	pte_t *ro = pgtable_walk(kernel_pml4, (uintptr_t)__rodata_start, false);
	pte_t *data = pgtable_walk(kernel_pml4, (uintptr_t)__data_start, false);

	KT_EXPECT(t, text && ro && data);
	if (!text || !ro || !data)
		return;
	KT_EXPECT(t, !(*text & PTE_W) && !(*text & PTE_NX) && !(*text & PTE_U));
	KT_EXPECT(t, !(*ro & PTE_W) && (*ro & PTE_NX));
	KT_EXPECT(t, (*data & PTE_W) && (*data & PTE_NX));
}

KTEST(paging_ioremap_uncached, "paging: ioremap gives an uncached, non-executable mapping")
{
	// The local APIC's page: device memory every PC has.
	void *va = ioremap(0xfee00000UL, 16);
	pte_t *pte = pgtable_walk(kernel_pml4, (uintptr_t)va, false);

	KT_EXPECT(t, pte != NULL);
	if (!pte)
		return;
	KT_EXPECT(t, (*pte & PTE_ADDR_MASK) == 0xfee00000UL);
	KT_EXPECT(t, (*pte & PTE_PCD) && (*pte & PTE_NX) && !(*pte & PTE_U));
}
