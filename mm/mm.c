// Address spaces: creating, copying (fork), loading and freeing a struct mm, its sleeping
// lock, and the page-table helpers the rest of mm/ builds on.
//
// Every PTE that maps a user page holds one reference to it (page_get/page_put); an mm
// releases a page by dropping its reference, so a page shared between mms (after fork, or
// a file's page) lives until its last holder lets go. fork copies page tables, not pages:
// private pages become copy-on-write (mm/cow.c).
//
// Context: process context throughout; the mm lock sleeps.
#include <trapeze/kmalloc.h>
#include <trapeze/page_alloc.h>
#include <trapeze/panic.h>
#include <trapeze/sched.h>
#include <trapeze/string.h>
#include <trapeze/task.h>
#include <trapeze/fs.h>
#include <trapeze/vfs.h>
#include <trapeze/vm.h>
#include <asm/cpu.h>
#include <asm/x86.h>

// --- the sleeping lock ---------------------------------------------------------------------

// Sleep until the lock is free, then own it. A task that already holds it is a kernel
// bug (typically a user-memory access under the lock whose fault came back here): panic
// rather than deadlock silently.
void mm_lock(struct mm *mm)
{
	struct wait_entry we = { LIST_HEAD_INIT(we.link), NULL };

	might_sleep();
	spin_lock(&mm->lock_guard);
	if (mm->lock_owner == current)
		panic("mm_lock: recursive acquisition by pid %d", current->pid);
	while (mm->lock_owner) {
		spin_unlock(&mm->lock_guard);
		// Queued before the re-check, so an unlock in between is not lost.
		prepare_to_wait(&mm->lock_waiters, &we);
		if (READ_ONCE(mm->lock_owner))
			schedule();
		finish_wait(&mm->lock_waiters, &we);
		spin_lock(&mm->lock_guard);
	}
	mm->lock_owner = current;
	spin_unlock(&mm->lock_guard);
}

void mm_unlock(struct mm *mm)
{
	spin_lock(&mm->lock_guard);
	if (mm->lock_owner != current)
		panic("mm_unlock: lock not held by pid %d", current->pid);
	mm->lock_owner = NULL;
	spin_unlock(&mm->lock_guard);
	wake_up(&mm->lock_waiters);
}

bool mm_is_locked(const struct mm *mm)
{
	return READ_ONCE(mm->lock_owner) == current;
}

// --- page-table helpers --------------------------------------------------------------------

uint64_t vma_pte_flags(const struct vma *vma)
{
	uint64_t flags = PTE_P | PTE_U;

	if (!(vma->flags & VM_ACCESS))
		return PTE_PROTNONE;
	if (vma->flags & VM_WRITE)
		flags |= PTE_W;
	// Without EFER.NXE bit 63 is reserved: setting it would fault on every access.
	if (!(vma->flags & VM_EXEC) && cpu_features.nx)
		flags |= PTE_NX;
	return flags;
}

pte_t vma_pte_make(const struct vma *vma, phys_addr_t pa, bool cow)
{
	pte_t val = (pa & PTE_ADDR_MASK) | vma_pte_flags(vma);

	assert(!cow || !(vma->flags & VM_SHARED));
	return cow ? (val & ~PTE_W) | PTE_COW : val;
}

int vm_pte_set(struct mm *mm, uintptr_t va, pte_t val)
{
	pte_t *pte = pgtable_walk(mm->pml4, va, true);
	pte_t old;

	if (!pte)
		return -ENOMEM;
	old = *pte;
	WRITE_ONCE(*pte, val);
	if (old & PTE_P)
		pgtable_flush(mm->pml4, va);
	return 0;
}

// Shift of the address bits each level's entry covers: PML4, PDPT, PD, PT.
static const unsigned int pt_level_shift[4] = { 39, 30, 21, 12 };

static int pte_walk_level(uint64_t *table, int level, uintptr_t start, uintptr_t end,
			  vm_pte_fn fn, void *arg)
{
	uintptr_t span = 1UL << pt_level_shift[level];
	uintptr_t va = start;
	int err;

	while (va < end) {
		uint64_t *entry = &table[(va >> pt_level_shift[level]) & 511];
		uintptr_t stop = MIN(end, ALIGN_DOWN(va, span) + span);

		if (level == 3) {
			if (pte_has_page(*entry)) {
				err = fn(entry, va, arg);
				if (err)
					return err;
			}
		} else if ((*entry & PTE_P) && !(*entry & PTE_PS)) {
			// User halves hold no large pages; a PS entry would be a kernel bug
			// elsewhere, and skipping it is the safe reaction here.
			err = pte_walk_level(phys_to_virt(*entry & PTE_ADDR_MASK), level + 1, va,
					     stop, fn, arg);
			if (err)
				return err;
		}
		va = stop;
	}
	return 0;
}

int vm_pte_walk(uint64_t *pml4, uintptr_t start, uintptr_t end, vm_pte_fn fn, void *arg)
{
	assert(end <= USER_END && start <= end);
	return pte_walk_level(pml4, 0, start, end, fn, arg);
}

static int zap_pte(pte_t *pte, uintptr_t va, void *arg)
{
	struct mm *mm = arg;
	pte_t old = *pte;

	WRITE_ONCE(*pte, 0);
	// The TLB entry must go before the page can be reused by someone else.
	if (old & PTE_P)
		pgtable_flush(mm->pml4, va);
	page_put(phys_to_page(old & PTE_ADDR_MASK));
	mm->rss--;
	return 0;
}

void vm_zap_range(struct mm *mm, uintptr_t start, uintptr_t end)
{
	mm_assert_locked(mm);
	vm_pte_walk(mm->pml4, start, end, zap_pte, mm);
}

// --- life cycle ----------------------------------------------------------------------------

struct mm *mm_alloc(void)
{
	struct mm *mm = kzalloc(sizeof(*mm));

	if (!mm)
		return NULL;
	mm->pml4 = pgtable_alloc();
	if (!mm->pml4) {
		kfree(mm);
		return NULL;
	}
	mm->refcount = 1;
	spin_init(&mm->lock_guard, "mm->lock_guard");
	wait_queue_init(&mm->lock_waiters);
	vma_set_init(&mm->vmas);
	mm->mmap_base = MMAP_BASE;
	return mm;
}

void mm_get(struct mm *mm)
{
	int old = __atomic_fetch_add(&mm->refcount, 1, __ATOMIC_RELAXED);

	assert(old > 0);
}

static bool mm_is_loaded(const struct mm *mm)
{
	return (read_cr3() & PTE_ADDR_MASK) == virt_to_phys(mm->pml4);
}

int mm_exe_file_set(struct mm *mm, struct file *file)
{
	int err;

	assert(!mm->exe_file);
	err = inode_write_deny(file->f_inode);
	if (err)
		return err;
	mm->exe_file = file_get(file);
	return 0;
}

// Let go of the program: its file may be written again once no other mm runs it.
static void mm_exe_file_drop(struct mm *mm)
{
	if (!mm->exe_file)
		return;
	inode_write_allow(mm->exe_file->f_inode);
	file_put(mm->exe_file);
	mm->exe_file = NULL;
}

void mm_put(struct mm *mm)
{
	struct vma *v, *tmp;
	int old = __atomic_fetch_sub(&mm->refcount, 1, __ATOMIC_ACQ_REL);

	assert(old > 0);
	if (old > 1)
		return;
	// An exiting task drops its own, still loaded, mm: step onto the kernel's tables
	// before the user half's tables are freed under us.
	if (mm_is_loaded(mm))
		pgtable_activate(kernel_pml4);
	mm_lock(mm);
	list_for_each_entry_safe(v, tmp, &mm->vmas.list, link) {
		vm_zap_range(mm, v->start, v->end);
		vma_remove(&mm->vmas, v);
		vma_free(v);
	}
	assert(mm->rss == 0);
	mm_unlock(mm);
	pgtable_free(mm->pml4);
	mm_exe_file_drop(mm);
	kfree(mm);
}

void mm_activate(struct mm *mm)
{
	pgtable_activate(mm ? mm->pml4 : kernel_pml4);
}

// --- fork ----------------------------------------------------------------------------------

struct dup_ctx {
	struct mm *old; // the parent, the loaded address space
	struct mm *mm;  // the copy being built
	bool shared;    // the VMA is VM_SHARED: map the same pages, writable as they are
};

// Map the page of the parent's entry *pte in the child too, one more reference to it.
static int dup_pte(pte_t *pte, uintptr_t va, void *arg)
{
	struct dup_ctx *ctx = arg;
	struct page *page = phys_to_page(*pte & PTE_ADDR_MASK);
	pte_t val;
	int err;

	if (ctx->shared) {
		page_get(page);
		val = *pte & ~(PTE_A | PTE_D);
	} else {
		val = cow_share_pte(ctx->old, pte, va);
	}
	err = vm_pte_set(ctx->mm, va, val);
	if (err) {
		// The parent's entry stays copy-on-write: its next write finds the page
		// unshared again and just makes it writable.
		page_put(page);
		return err;
	}
	ctx->mm->rss++;
	return 0;
}

static int mm_dup_vma(struct mm *old, struct mm *mm, const struct vma *v)
{
	struct vma *copy = vma_alloc(v->start, v->end, v->flags);
	struct dup_ctx ctx = { .old = old, .mm = mm, .shared = v->flags & VM_SHARED };

	if (!copy)
		return -ENOMEM;
	if (v->file) {
		copy->file = file_get(v->file);
		copy->file_off = v->file_off;
		copy->file_limit = v->file_limit;
	}
	vma_insert(&mm->vmas, copy);
	return vm_pte_walk(old->pml4, v->start, v->end, dup_pte, &ctx);
}

struct mm *mm_dup(struct mm *old)
{
	struct mm *mm = mm_alloc();
	struct vma *v;
	int err = 0;

	if (!mm)
		return NULL;
	// Lock order: the parent's lock, then the child's, which nobody else can see yet.
	mm_lock(old);
	mm_lock(mm);
	list_for_each_entry(v, &old->vmas.list, link) {
		err = mm_dup_vma(old, mm, v);
		if (err)
			break;
	}
	mm->start_brk = old->start_brk;
	mm->brk = old->brk;
	mm->mmap_base = old->mmap_base;
	mm->start_stack = old->start_stack;
	mm->arg_start = old->arg_start;
	mm->arg_end = old->arg_end;
	mm->env_start = old->env_start;
	mm->env_end = old->env_end;
	// Cannot fail: old's own deny-write keeps writers away from the file.
	if (old->exe_file && mm_exe_file_set(mm, old->exe_file))
		panic("mm_dup: exe_file open for writing while running");
	mm_unlock(mm);
	mm_unlock(old);
	if (err) {
		mm_put(mm);
		return NULL;
	}
	return mm;
}
