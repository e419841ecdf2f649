// User address spaces: struct mm (one per process), its VMAs, demand paging, copy-on-write,
// file mappings, running out of memory, and the memory system calls. docs/vm.md draws the
// whole picture.
//
// An mm owns a PML4 (its kernel half shared with every other mm), a set of VMAs (virtual
// memory areas: page-aligned, non-overlapping [start, end) ranges with one protection and
// one backing each) and references to the user pages its page tables point to. Pages
// arrive on first touch: mm_fault() finds the VMA and maps a zeroed page (anonymous), the
// file's own page (file-backed; mm/filemap.c) or a private copy (a write to a
// copy-on-write page; mm/cow.c). Every PTE that maps a page holds one reference to it
// (page_get/page_put), so pages are shared freely: between a fork parent and child, between
// a file and everyone who maps it.
//
// The PTE rule of private areas: an entry whose page anyone else may see (after fork, or a
// file's page) carries PTE_COW and never PTE_W, whatever the VMA allows; a write fault on
// it copies the page, or just sets PTE_W when the mapping holds the only reference.
//
// Layout of a process (no randomisation):
//	VM_MMAP_MIN (64 KiB)           lowest address anything may be mapped at
//	0x400000 / ELF_ET_DYN_BASE     program segments, then the heap (brk) above them
//	... mmap area, filled top-down from mm->mmap_base (STACK_TOP - 128 MiB) ...
//	STACK_TOP - 8 MiB .. STACK_TOP the main stack, growing down on demand up to RLIMIT_STACK
//	                               (8 MiB by default; never into the mmap area)
//	VM_USER_TOP = STACK_TOP        last page below the canonical hole, never mapped
//
// Locking: mm->lock is a sleeping lock (mm_lock/mm_unlock) because a fault on a file
// mapping takes the file's i_mutex while the VMA it found must stay put. It protects the
// VMA set, the page tables of the user half, rss and the brk fields. It is taken in
// process context only, never with a spinlock held, and never while the holder touches
// user memory of the same mm (the fault would take it again: mm_lock panics on that
// recursion instead of deadlocking). Lock order: mm->lock before i_mutex
// (include/trapeze/lockorder.h). A read or write copies user memory under i_mutex, the
// reverse order; that cannot deadlock while no two running tasks share an mm (a vfork
// parent sleeps). A fault taken by such a copy on a mapping of the very file being read or
// written finds i_mutex held by its own task and uses the file's pages without taking it
// again (mm/filemap.c).
#pragma once

#include <trapeze/list.h>
#include <trapeze/mm.h>
#include <trapeze/panic.h>
#include <trapeze/sched.h>
#include <trapeze/spinlock.h>
#include <trapeze/types.h>
#include <asm/paging.h>
#include <uapi/errno.h>
#include <uapi/mman.h>

struct file;
struct task;

// --- address-space layout ----------------------------------------------------------------

#define VM_USER_TOP 0x00007ffffffff000UL // one page below USER_END, as Linux's TASK_SIZE
#define VM_MMAP_MIN 0x10000UL            // Linux's default vm.mmap_min_addr
#define STACK_TOP VM_USER_TOP
#define STACK_LIMIT (8UL << 20)           // RLIMIT_STACK's default soft limit (kernel/rlimit.c)
#define STACK_INIT_SIZE (128UL << 10)     // the stack VMA exec creates; it grows from there
#define STACK_GUARD_GAP (256UL << PAGE_SHIFT) // kept free below a VM_GROWSDOWN area (Linux)
#define MMAP_BASE (STACK_TOP - (128UL << 20)) // top-down mmap starts here (Linux MIN_GAP)
#define MMAP_32BIT_LOW 0x40000000UL       // MAP_32BIT places mappings in [1 GiB, 2 GiB)
#define MMAP_32BIT_HIGH 0x80000000UL

// --- VMAs --------------------------------------------------------------------------------

// vma->flags
#define VM_READ (1u << 0)
#define VM_WRITE (1u << 1)
#define VM_EXEC (1u << 2)
#define VM_SHARED (1u << 3)     // MAP_SHARED: pages are shared with fork children
#define VM_GROWSDOWN (1u << 8)  // extends downwards when touched just below its start
#define VM_ACCESS (VM_READ | VM_WRITE | VM_EXEC)

// No file offset limit: the whole file backs a mapping made by mmap().
#define VMA_NO_LIMIT INT64_MAX

// One area. start/end/flags/file fields are under the owning mm's lock.
struct vma {
	uintptr_t start, end;  // [start, end), page-aligned
	unsigned int flags;    // VM_*
	// File-backed areas: the page at start holds file bytes from file_off on. In private
	// areas bytes at file offsets >= file_limit read as zero: that is how exec zeroes the
	// part of a segment's last file page that belongs to .bss (mmap sets VMA_NO_LIMIT).
	// Shared file areas (VM_SHARED) map the file's own pages. NULL file: anonymous.
	struct file *file;     // a reference owned by this VMA
	off_t file_off;
	off_t file_limit;
	// Set linkage: the address-ordered list and an AVL tree keyed by start.
	struct list_head link;
	struct vma *left, *right;
	int height;
};

// The VMAs of one address space: an AVL tree keyed by start for O(log n) lookups plus a
// list in address order for neighbours and walks. No lock of its own: the owner's lock.
struct vma_set {
	struct vma *root;
	struct list_head list;
	unsigned long count;
};

void vma_set_init(struct vma_set *set);
// A zeroed anonymous VMA covering [start, end). NULL when out of memory.
struct vma *vma_alloc(uintptr_t start, uintptr_t end, unsigned int flags);
// Free a VMA that is in no set, dropping its file reference.
void vma_free(struct vma *vma);

// The first VMA with end > addr (it contains addr or lies above it), or NULL.
struct vma *vma_find(const struct vma_set *set, uintptr_t addr);
// The VMA containing addr, or NULL.
struct vma *vma_lookup(const struct vma_set *set, uintptr_t addr);
struct vma *vma_first(const struct vma_set *set);
struct vma *vma_last(const struct vma_set *set);
struct vma *vma_next(const struct vma_set *set, const struct vma *vma);
struct vma *vma_prev(const struct vma_set *set, const struct vma *vma);

// Add a VMA; it must not overlap any VMA already in the set (a kernel bug: panics).
void vma_insert(struct vma_set *set, struct vma *vma);
// Take a VMA out of the set (it is not freed).
void vma_remove(struct vma_set *set, struct vma *vma);
// Cut vma at addr (start < addr < end, page-aligned): vma keeps [start, addr), the
// returned new VMA gets [addr, end). NULL when out of memory (vma unchanged).
struct vma *vma_split(struct vma_set *set, struct vma *vma, uintptr_t addr);
// Merge vma with its neighbours where they touch and are compatible (same flags, both
// anonymous or the same file at continuing offsets). Returns the VMA that now covers
// vma's range; vma itself may have been freed.
struct vma *vma_merge(struct vma_set *set, struct vma *vma);
// Split at start and end and move every VMA inside [start, end) out of the set onto out
// (through vma->link), in address order. 0 or -ENOMEM (the set then covers what it did).
int vma_detach_range(struct vma_set *set, uintptr_t start, uintptr_t end,
		     struct list_head *out);
// True if no VMA overlaps [start, end) and no VM_GROWSDOWN VMA above end would lose its
// guard gap.
bool vma_range_free(const struct vma_set *set, uintptr_t start, uintptr_t end);
// The highest address a with [a, a + len) free inside [low, high), leaving the guard gap
// below VM_GROWSDOWN areas; 0 if there is none. O(number of VMAs above the result).
uintptr_t vma_find_gap(const struct vma_set *set, size_t len, uintptr_t low, uintptr_t high);
// Check the set's invariants (sorted, non-overlapping, tree = list, AVL balance, count).
// 0, or a negative number naming the first broken invariant. For tests and debugging.
int vma_set_validate(const struct vma_set *set);

// --- address spaces ----------------------------------------------------------------------

struct mm {
	uint64_t *pml4;
	int refcount;            // atomic; mm_put of the last reference frees everything

	// The sleeping lock (see the top of this file). lock_guard protects the two fields
	// below it; waiters sleep on lock_waiters.
	struct spinlock lock_guard;
	struct task *lock_owner; // NULL when free
	struct wait_queue lock_waiters;

	// under the mm lock:
	struct vma_set vmas;
	unsigned long rss;        // resident user pages mapped by this mm
	uintptr_t start_brk, brk; // the heap is [start_brk, brk); brk is not page-aligned
	uintptr_t mmap_base;      // top-down placement starts below this
	// Set by exec, read by procfs; stable after exec:
	uintptr_t start_stack;    // the initial RSP (points at argc)
	uintptr_t arg_start, arg_end, env_start, env_end; // argv and envp strings
	// The program exec loaded (for a script, its interpreter), for /proc/<pid>/exe: a
	// reference, holding one inode_write_deny on its inode so that nobody can write the
	// code this mm runs (ETXTBSY). Set by exec (mm_exe_file_set) before the mm is
	// installed, copied by mm_dup, dropped by the last mm_put; constant in between. NULL
	// for an mm that never ran a program.
	struct file *exe_file;
};

// A new empty address space (no VMAs, an empty user half). NULL when out of memory.
// Context: process context.
struct mm *mm_alloc(void);
void mm_get(struct mm *mm);
// Drop a reference. The last one unmaps and frees every user page, page table and VMA;
// if the mm is the loaded address space, the kernel's own PML4 is loaded first.
// Context: process context; may sleep.
void mm_put(struct mm *mm);
// A copy of old for fork: the same VMAs and page tables mapping the same pages. Pages of
// private areas become copy-on-write in both (the PTE rule at the top of this file; the
// parent's entries that lose PTE_W are flushed from the TLB one by one); pages of
// VM_SHARED areas stay writable and shared. No page is copied: that waits for a write.
// NULL when out of memory. Context: process context; takes old's lock.
struct mm *mm_dup(struct mm *old);
// Record file as the program of mm, a new mm no one else sees yet (exec): a reference
// and a deny-write on its inode. Returns 0, or -ETXTBSY if the file is open for writing.
// Context: process context.
int mm_exe_file_set(struct mm *mm, struct file *file);
// Load mm's page tables on this CPU (NULL: the kernel's own, for kernel threads).
void mm_activate(struct mm *mm);

// The sleeping mm lock. Context: process context, no spinlock held.
void mm_lock(struct mm *mm);
void mm_unlock(struct mm *mm);
bool mm_is_locked(const struct mm *mm); // by the current task
#define mm_assert_locked(mm)                                                           \
	do {                                                                           \
		if (!mm_is_locked(mm))                                                 \
			panic("%s: mm lock not held", __func__);                       \
	} while (0)

// --- page faults -------------------------------------------------------------------------

// The x86 #PF error code bits (Intel SDM vol. 3, 4.7).
#define PFERR_PRESENT (1UL << 0) // 0: page not present; 1: protection violation
#define PFERR_WRITE (1UL << 1)
#define PFERR_USER (1UL << 2)
#define PFERR_RSVD (1UL << 3)    // a reserved bit was set in a paging entry
#define PFERR_INSTR (1UL << 4)   // instruction fetch

// Resolve a page fault at addr. Returns
//	0        a page was mapped (or the fault was spurious): retry the instruction
//	-EFAULT  no VMA covers addr (SIGSEGV, SEGV_MAPERR), or a kernel-mode instruction fetch
//	         or reserved-bit fault, or a kernel-mode access the PTE already allowed (SMAP)
//	-EACCES  the VMA forbids this access (SIGSEGV, SEGV_ACCERR)
//	-ENOMEM  out of memory and the current task is the one to die (the caller sends
//	         SIGKILL). Before giving up the OOM killer (mm/oom.c) chooses a victim: when
//	         it is another process, mm_fault waits for memory to come back and retries.
//	-EIO     a file-backed page lies wholly beyond the end of its file or could not be
//	         read (SIGBUS, BUS_ADRERR, as Linux)
// A kernel-mode fault on a user address (uaccess) goes through here too; the caller turns
// an error into the uaccess fixup. Context: process context, interrupts on; may sleep.
int mm_fault(struct mm *mm, uintptr_t addr, uint64_t error_code);

// --- helpers shared by mm/ and exec (the mm lock must be held) -----------------------------

// A software PTE bit: a non-present entry that still holds its page, for PROT_NONE areas
// (x86 has no present-but-inaccessible user PTE). Hardware ignores every bit of a
// non-present entry. Bit 52 is free in paging.h.
#define PTE_PROTNONE (1UL << 52)

static inline bool pte_has_page(pte_t pte)
{
	return pte & (PTE_P | PTE_PROTNONE);
}

// The PTE flags for a page of vma (P|U, W if writable, NX if not executable; PROT_NONE
// areas get the non-present PTE_PROTNONE marker).
uint64_t vma_pte_flags(const struct vma *vma);
// The entry mapping the page at pa in vma; cow: the page may be seen by others, so the
// entry gets PTE_COW and loses PTE_W (only ever in private areas).
pte_t vma_pte_make(const struct vma *vma, phys_addr_t pa, bool cow);
// Write the leaf entry for va (creating page tables) and flush the TLB entry if the old
// entry was present. 0 or -ENOMEM.
int vm_pte_set(struct mm *mm, uintptr_t va, pte_t val);
// Call fn for each leaf entry holding a page (pte_has_page) in [start, end), skipping
// absent page tables. fn may change or clear the entry. Stops at fn's first nonzero return
// and returns it.
typedef int (*vm_pte_fn)(pte_t *pte, uintptr_t va, void *arg);
int vm_pte_walk(uint64_t *pml4, uintptr_t start, uintptr_t end, vm_pte_fn fn, void *arg);
// Unmap and release every page in [start, end), flushing TLB entries.
void vm_zap_range(struct mm *mm, uintptr_t start, uintptr_t end);
// Map [start, end) as a new VMA, replacing whatever was mapped there (MAP_FIXED
// semantics). file (may be NULL) gets a reference of the VMA's own. 0 or -ENOMEM.
int vm_map(struct mm *mm, uintptr_t start, uintptr_t end, unsigned int flags,
	   struct file *file, off_t file_off, off_t file_limit);
// Remove every mapping in [start, end). 0 or -ENOMEM (when a VMA could not be split).
int vm_unmap(struct mm *mm, uintptr_t start, uintptr_t end);
// Make the absent page at va (inside vma) present: demand-zero, or the file's page. write:
// the page is about to be written, so a private file area gets its own copy at once.
// 0, -ENOMEM or -EIO.
int vm_page_fill(struct mm *mm, struct vma *vma, uintptr_t va, bool write);
// Fault in every page of [start, end) that lies in a VMA, as MAP_POPULATE does (writable
// private areas get their own copies, as Linux breaks copy-on-write there). 0 or the
// first error.
int vm_populate(struct mm *mm, uintptr_t start, uintptr_t end);
// Make the page containing va present as a write would (growing a VM_GROWSDOWN VMA
// towards it) and return the kernel address of va in *kva. 0, -EFAULT, -ENOMEM or -EIO.
// For exec, which writes the new stack before the mm is loaded.
int vm_page_kaddr(struct mm *mm, uintptr_t va, void **kva);
// Extend VM_GROWSDOWN vma down to cover addr: at most the current task's RLIMIT_STACK bytes
// in all, within RLIMIT_AS, and not into the guard gap above the previous VMA. 0 or -EFAULT.
int vma_grow_down(struct mm *mm, struct vma *vma, uintptr_t addr);

// --- copy-on-write (mm/cow.c; the mm lock must be held) -----------------------------------

// fork: make the private entry *pte at va of the parent mm copy-on-write (clearing PTE_W
// and flushing its TLB entry when it had it) and return the entry for the child, which
// maps the same page with one more reference.
pte_t cow_share_pte(struct mm *parent, pte_t *pte, uintptr_t va);
// A write fault on the PTE_COW entry *pte at va of private vma: copy the page, or when this
// entry holds its only reference, make it writable in place. 0 or -ENOMEM.
int cow_fault(struct mm *mm, struct vma *vma, uintptr_t va, pte_t *pte);

// --- file mappings (mm/filemap.c; the mm lock must be held) -----------------------------------

// Whether file can back a MAP_SHARED mapping: its pages can be mapped directly.
bool filemap_can_share(const struct file *file);
// Make the absent page at va of file-backed vma present: the file's own page (shared
// areas; private ones for reading, copy-on-write) or a private copy (private areas when
// write, or when the page holds bytes past file_limit). 0, -ENOMEM, or -EIO for a page
// wholly beyond the end of the file (SIGBUS) or a failed read.
int filemap_fault(struct mm *mm, struct vma *vma, uintptr_t va, bool write);

// --- memory pressure (mm/oom.c) --------------------------------------------------------------

// Free pages kept back from user page faults, so that the kernel (page tables, kmalloc,
// an exiting process) can still allocate when user memory runs out.
unsigned long oom_reserve_pages(void);
// A page for user memory: NULL when free memory is down to the reserve. Context: any.
struct page *vm_page_alloc(unsigned int flags);
// A page fault of the current task found no memory (no lock held); attempt counts the
// earlier tries of the same fault. Kill the process with the largest resident set (see
// docs/vm.md) unless a victim is already dying, then wait a little for memory to come
// back. Returns 0 to retry the fault, -ENOMEM when the current task is the one to die (or
// the fault has waited too long). Context: process context; sleeps; tasklist_lock inside.
int oom_kill_or_wait(unsigned int attempt);
// The OOM victim among the tasks on list (linked through all_link): the largest rss among
// tasks with an address space that are alive and not already dying; init only if nothing
// else qualifies. NULL if none. For oom_kill_or_wait and the unit tests; the caller holds
// tasklist_lock (or owns the list).
struct task *oom_select(struct list_head *list, const struct task *init);
// Linux's heuristic overcommit check for a new commitment of pages (private writable or
// shared anonymous memory, not MAP_NORESERVE): refused only when one request is larger
// than all of RAM (there is no swap). 0 or -ENOMEM.
int vm_enough_memory(unsigned long pages);

// --- memory system calls (mm/mmap.c), Linux x86-64 semantics --------------------------------

// Context of all: process context of the calling task; they take current->mm's lock.
long sys_brk(unsigned long brk);
long sys_mmap(unsigned long addr, unsigned long len, unsigned long prot, unsigned long flags,
	      unsigned long fd, unsigned long off);
long sys_munmap(unsigned long addr, unsigned long len);
long sys_mprotect(unsigned long addr, unsigned long len, unsigned long prot);
long sys_mremap(unsigned long old_addr, unsigned long old_len, unsigned long new_len,
		unsigned long flags, unsigned long new_addr);
long sys_madvise(unsigned long addr, unsigned long len, unsigned long advice);
long sys_msync(unsigned long addr, unsigned long len, unsigned long flags);

// --- exec (kernel/exec.c; exec_kernel is declared in include/trapeze/exec.h) ---------------

long sys_execve(const char __user *path, const char __user *const __user *argv,
		const char __user *const __user *envp);
