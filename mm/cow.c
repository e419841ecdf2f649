// Copy-on-write: how fork shares private pages and how a write un-shares them.
//
// The life of a private page (docs/vm.md draws it):
//  1. A write fault in a private area maps a fresh page writable; its only reference is
//     this entry (refcount 1).
//  2. fork (mm_dup -> cow_share_pte) takes a second reference for the child's entry and
//     turns both entries read-only with PTE_COW. The parent's entry may sit in the TLB
//     with write permission: it is flushed (invlpg) at once, since the parent is the
//     loaded address space. The child's page tables are not loaded anywhere yet.
//  3. The first write through either entry faults (present, write). cow_fault copies the
//     page into a new one, maps the copy writable and drops one reference from the old.
//  4. The last sharer to write finds refcount 1: nobody else can see the page any more,
//     so its entry just becomes writable again, with no copy.
// A file's page mapped by a private area (mm/filemap.c) enters at step 2: the file holds a
// reference, so a write always copies.
//
// Context: process context, the mm lock held (it covers the page tables being changed).
// A page's refcount changes atomically; refcount 1 seen under the mm lock is stable,
// because the only other ways to reach the page (another mm's entries, the file) each
// hold a reference of their own.
#include <trapeze/page_alloc.h>
#include <trapeze/string.h>
#include <trapeze/vm.h>

pte_t cow_share_pte(struct mm *parent, pte_t *pte, uintptr_t va)
{
	pte_t old = *pte;
	pte_t val = (old & ~PTE_W) | PTE_COW;

	mm_assert_locked(parent);
	page_get(phys_to_page(old & PTE_ADDR_MASK));
	if (val != old) {
		WRITE_ONCE(*pte, val);
		// Only an entry that was present and writable can have a TLB entry that still
		// allows the write; one that only gains the software bit needs no flush.
		if ((old & PTE_P) && (old & PTE_W))
			pgtable_flush(parent->pml4, va);
	}
	return val & ~(PTE_A | PTE_D);
}

int cow_fault(struct mm *mm, struct vma *vma, uintptr_t va, pte_t *pte)
{
	pte_t old = *pte;
	struct page *page = phys_to_page(old & PTE_ADDR_MASK);
	struct page *copy;
	int err;

	mm_assert_locked(mm);
	assert((old & PTE_COW) && !(vma->flags & VM_SHARED));
	if (__atomic_load_n(&page->refcount, __ATOMIC_ACQUIRE) == 1)
		return vm_pte_set(mm, va, vma_pte_make(vma, page_to_phys(page), false));
	copy = vm_page_alloc(0);
	if (!copy)
		return -ENOMEM;
	memcpy(page_to_virt(copy), page_to_virt(page), PAGE_SIZE);
	// The page table exists (the entry is in it), so this cannot fail; vm_pte_set
	// flushes the old translation before anyone can write through it again.
	err = vm_pte_set(mm, va, vma_pte_make(vma, page_to_phys(copy), false));
	if (err) {
		page_put(copy);
		return err;
	}
	page_put(page);
	return 0;
}
