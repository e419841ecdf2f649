// Demand paging: the page-fault resolver and the page filling it shares with MAP_POPULATE
// and exec. A page arrives on first touch: zeroed for anonymous areas, read from the file
// for file-backed (private) areas, with the bytes past the VMA's file_limit zeroed (the
// .bss part of a program segment's last file page). Private file pages are private
// copies from the start, so writing to them needs no copy-on-write.
//
// Context: process context, interrupts on. Everything here runs under the mm lock,
// which sleeps: kernel_read may sleep while the VMA it serves stays put.
#include <trapeze/page_alloc.h>
#include <trapeze/sched.h>
#include <trapeze/string.h>
#include <trapeze/vfs.h>
#include <trapeze/vm.h>

// Fill buf with the page at va of vma's file, zeroing what the file does not cover.
// -EIO when the page lies wholly past the end of the file (SIGBUS) or the read fails.
static int vma_read_page(const struct vma *vma, uintptr_t va, char *buf)
{
	off_t off = vma->file_off + (off_t)(va - vma->start);
	size_t want = 0, got = 0;

	if (off < vma->file_limit)
		want = (size_t)MIN((off_t)PAGE_SIZE, vma->file_limit - off);
	while (got < want) {
		ssize_t n = kernel_read(vma->file, buf + got, want - got, off + (off_t)got);

		if (n < 0)
			return -EIO;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (want && got == 0)
		return -EIO;
	memset(buf + got, 0, PAGE_SIZE - got);
	return 0;
}

int vm_page_fill(struct mm *mm, struct vma *vma, uintptr_t va)
{
	struct page *page = page_alloc(0, vma->file ? 0 : PAF_ZERO);
	int err;

	mm_assert_locked(mm);
	if (!page)
		return -ENOMEM;
	if (vma->file) {
		err = vma_read_page(vma, va, page_to_virt(page));
		if (err)
			goto put_page;
	}
	err = vm_pte_set(mm, va, page_to_phys(page) | vma_pte_flags(vma));
	if (err)
		goto put_page;
	mm->rss++;
	return 0;
put_page:
	page_put(page);
	return err;
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
	if (vma->end - new_start > STACK_LIMIT || new_start < VM_MMAP_MIN)
		return -EFAULT;
	if (prev && (prev->end > new_start || new_start - prev->end < STACK_GUARD_GAP))
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

	if (!pte || !pte_has_page(*pte))
		return vm_page_fill(mm, vma, va);
	if (pte_permits(*pte, error_code)) {
		// Another thread mapped the page while we waited for the lock, or the TLB
		// was stale: just retry. But a kernel-mode protection fault on a page that
		// allows the access is an SMAP violation, a kernel bug the caller reports.
		if ((error_code & (PFERR_PRESENT | PFERR_USER)) == PFERR_PRESENT)
			return -EFAULT;
		return 0;
	}
	// The entry lags behind its VMA's protection: bring it up to date.
	return vm_pte_set(mm, va, (*pte & PTE_ADDR_MASK) | vma_pte_flags(vma));
}

int mm_fault(struct mm *mm, uintptr_t addr, uint64_t error_code)
{
	struct vma *vma;
	int ret;

	if (!mm || addr >= VM_USER_TOP || (error_code & PFERR_RSVD))
		return -EFAULT;
	// The kernel never executes user pages (SMEP enforces it where present).
	if ((error_code & PFERR_INSTR) && !(error_code & PFERR_USER))
		return -EFAULT;
	mm_lock(mm);
	vma = vma_find(&mm->vmas, addr);
	if (!vma)
		ret = -EFAULT;
	else if (addr < vma->start)
		ret = vma_grow_down(mm, vma, addr);
	else
		ret = 0;
	if (!ret)
		ret = vma_permits(vma, error_code) ?
			      fault_page(mm, vma, addr & PAGE_MASK, error_code) : -EACCES;
	mm_unlock(mm);
	return ret;
}

int vm_populate(struct mm *mm, uintptr_t start, uintptr_t end)
{
	struct vma *v;

	mm_assert_locked(mm);
	for (v = vma_find(&mm->vmas, start); v && v->start < end; v = vma_next(&mm->vmas, v)) {
		uintptr_t va;

		for (va = MAX(start, v->start); va < MIN(end, v->end); va += PAGE_SIZE) {
			pte_t *pte = pgtable_walk(mm->pml4, va, false);
			int err;

			if (pte && pte_has_page(*pte))
				continue;
			err = vm_page_fill(mm, v, va);
			if (err)
				return err;
		}
	}
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
	pte = pgtable_walk(mm->pml4, page_va, false);
	if (!pte || !pte_has_page(*pte)) {
		err = vm_page_fill(mm, vma, page_va);
		if (err)
			return err;
		pte = pgtable_walk(mm->pml4, page_va, false);
	}
	*kva = (char *)phys_to_virt(*pte & PTE_ADDR_MASK) + (va & ~PAGE_MASK);
	return 0;
}
