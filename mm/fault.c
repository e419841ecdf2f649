// Demand paging: the page-fault resolver and the page filling it shares with MAP_POPULATE
// and exec. A page arrives on first touch: zeroed for anonymous areas, the file's page or a
// private copy of it for file-backed areas (mm/filemap.c). A write to a copy-on-write
// entry copies the page (mm/cow.c). When memory runs out, mm_fault drops the mm lock and
// lets the OOM killer (mm/oom.c) free some before retrying.
//
// Context: process context, interrupts on. The resolving runs under the mm lock, which
// sleeps: a file fault may wait for the file's i_mutex while the VMA it serves stays put.
#include <trapeze/page_alloc.h>
#include <trapeze/rlimit.h>
#include <trapeze/sched.h>
#include <trapeze/string.h>
#include <trapeze/vm.h>

// A zeroed page for an anonymous area.
static int anon_fault(struct mm *mm, struct vma *vma, uintptr_t va)
{
	struct page *page = vm_page_alloc(PAF_ZERO);
	int err;

	if (!page)
		return -ENOMEM;
	err = vm_pte_set(mm, va, vma_pte_make(vma, page_to_phys(page), false));
	if (err) {
		page_put(page);
		return err;
	}
	mm->rss++;
	return 0;
}

int vm_page_fill(struct mm *mm, struct vma *vma, uintptr_t va, bool write)
{
	mm_assert_locked(mm);
	if (vma->file)
		return filemap_fault(mm, vma, va, write);
	return anon_fault(mm, vma, va);
}

int vma_grow_down(struct mm *mm, struct vma *vma, uintptr_t addr)
{
	uintptr_t new_start = ALIGN_DOWN(addr, PAGE_SIZE);
	struct vma *prev = vma_prev(&mm->vmas, vma);

	mm_assert_locked(mm);
	if (!(vma->flags & VM_GROWSDOWN) || vma->file)
		return -EFAULT;
	if (new_start >= vma->start)
		return 0;
	// The soft limit of the moment (Linux's acct_stack_growth): it may have been lowered
	// below what the stack already is, which stops further growth but takes nothing away.
	if (vma->end - new_start > rlimit(RLIMIT_STACK) || new_start < VM_MMAP_MIN)
		return -EFAULT;
	if (prev && (prev->end > new_start || new_start - prev->end < STACK_GUARD_GAP))
		return -EFAULT;
	if (!vm_may_expand(mm, vma->flags, vma->start - new_start, 0, 0))
		return -EFAULT;
	// Still above prev, so the set's order (and its tree) is unchanged.
	vma->start = new_start;
	return 0;
}

// May an access of this kind touch vma at all? x86 cannot express write-only or
// execute-only pages, so any access right implies read, as on Linux.
static bool vma_permits(const struct vma *vma, uint64_t error_code)
{
	if (error_code & PFERR_WRITE)
		return vma->flags & VM_WRITE;
	if (error_code & PFERR_INSTR)
		return vma->flags & VM_EXEC;
	return vma->flags & VM_ACCESS;
}

static bool pte_permits(pte_t pte, uint64_t error_code)
{
	if (!(pte & PTE_P) || !(pte & PTE_U))
		return false;
	if ((error_code & PFERR_WRITE) && !(pte & PTE_W))
		return false;
	if ((error_code & PFERR_INSTR) && (pte & PTE_NX))
		return false;
	return true;
}

// The VMA allows the access; make the page at va (page-aligned) allow it too.
static int fault_page(struct mm *mm, struct vma *vma, uintptr_t va, uint64_t error_code)
{
	pte_t *pte = pgtable_walk(mm->pml4, va, false);
	bool write = error_code & PFERR_WRITE;

	if (!pte || !pte_has_page(*pte))
		return vm_page_fill(mm, vma, va, write);
	if (write && (*pte & PTE_COW))
		return cow_fault(mm, vma, va, pte);
	if (pte_permits(*pte, error_code)) {
		// Another thread mapped the page while we waited for the lock, or the TLB
		// was stale: just retry. But a kernel-mode protection fault on a page that
		// allows the access is an SMAP violation, a kernel bug the caller reports.
		if ((error_code & (PFERR_PRESENT | PFERR_USER)) == PFERR_PRESENT)
			return -EFAULT;
		return 0;
	}
	// The entry lags behind its VMA's protection: bring it up to date.
	return vm_pte_set(mm, va, vma_pte_make(vma, *pte & PTE_ADDR_MASK, *pte & PTE_COW));
}

static int mm_fault_locked(struct mm *mm, uintptr_t addr, uint64_t error_code)
{
	struct vma *vma = vma_find(&mm->vmas, addr);
	int err;

	if (!vma)
		return -EFAULT;
	if (addr < vma->start) {
		err = vma_grow_down(mm, vma, addr);
		if (err)
			return err;
	}
	if (!vma_permits(vma, error_code))
		return -EACCES;
	return fault_page(mm, vma, addr & PAGE_MASK, error_code);
}

int mm_fault(struct mm *mm, uintptr_t addr, uint64_t error_code)
{
	unsigned int attempt = 0;
	int ret;

	if (!mm || addr >= VM_USER_TOP || (error_code & PFERR_RSVD))
		return -EFAULT;
	// The kernel never executes user pages (SMEP enforces it where present).
	if ((error_code & PFERR_INSTR) && !(error_code & PFERR_USER))
		return -EFAULT;
	// Out of memory: the OOM killer runs without the mm lock (the victim may need it to
	// exit, it may even be a task sharing this mm), then the whole fault starts over.
	do {
		mm_lock(mm);
		ret = mm_fault_locked(mm, addr, error_code);
		mm_unlock(mm);
	} while (ret == -ENOMEM && oom_kill_or_wait(attempt++) == 0);
	if (!ret)
		rusage_fault_account(mm);
	return ret;
}

// Make the page at va of v present, as a write would when write.
static int populate_page(struct mm *mm, struct vma *v, uintptr_t va, bool write)
{
	pte_t *pte = pgtable_walk(mm->pml4, va, false);

	if (!pte || !pte_has_page(*pte))
		return vm_page_fill(mm, v, va, write);
	if (write && (*pte & PTE_COW))
		return cow_fault(mm, v, va, pte);
	return 0;
}

int vm_populate(struct mm *mm, uintptr_t start, uintptr_t end)
{
	struct vma *v;

	mm_assert_locked(mm);
	for (v = vma_find(&mm->vmas, start); v && v->start < end; v = vma_next(&mm->vmas, v)) {
		bool write = (v->flags & (VM_WRITE | VM_SHARED)) == VM_WRITE;
		uintptr_t va;

		for (va = MAX(start, v->start); va < MIN(end, v->end); va += PAGE_SIZE) {
			int err = populate_page(mm, v, va, write);

			if (err)
				return err;
		}
	}
	rusage_rss_update(mm);
	return 0;
}

int vm_page_kaddr(struct mm *mm, uintptr_t va, void **kva)
{
	uintptr_t page_va = va & PAGE_MASK;
	struct vma *vma = vma_find(&mm->vmas, page_va);
	pte_t *pte;
	int err;

	mm_assert_locked(mm);
	if (!vma)
		return -EFAULT;
	if (page_va < vma->start) {
		err = vma_grow_down(mm, vma, page_va);
		if (err)
			return err;
	}
	err = populate_page(mm, vma, page_va, true);
	if (err)
		return err;
	pte = pgtable_walk(mm->pml4, page_va, false);
	*kva = (char *)phys_to_virt(*pte & PTE_ADDR_MASK) + (va & ~PAGE_MASK);
	return 0;
}
