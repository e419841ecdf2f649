// The memory system calls: brk, mmap, munmap, mprotect, mremap and madvise, with Linux
// x86-64 semantics, over the VMA set (mm/vma.c) and demand paging (mm/fault.c).
//
// What is supported:
//  - anonymous MAP_PRIVATE (demand-zero, copy-on-write after fork), and anonymous
//    MAP_SHARED: a shared anonymous area is populated when it is created and fork shares
//    its physical pages (mm_dup), so parent and children see each other's writes. It is
//    not shared with unrelated processes (no shmem objects).
//  - file-backed MAP_PRIVATE of regular files, and MAP_SHARED of files whose pages can be
//    mapped (ramfs): both through the file's own pages (mm/filemap.c). MAP_SHARED with
//    PROT_WRITE needs a descriptor open for writing, as on Linux.
//  - MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_POPULATE/MAP_LOCKED (pre-fault), MAP_GROWSDOWN,
//    MAP_32BIT, MAP_NORESERVE (skips the overcommit check); MAP_HUGETLB is -EINVAL.
//  - overcommit: a private writable or shared anonymous mapping, a brk or mremap growth
//    larger than all of RAM is -ENOMEM (vm_enough_memory, mm/oom.c).
//  - resource limits (vm_may_expand): RLIMIT_AS bounds all mapped bytes and RLIMIT_DATA
//    the private writable non-stack ones (Linux 4.7+), for mmap, brk and mremap growth
//    (-ENOMEM; brk keeps the old break) and stack growth (mm/fault.c).
//  - mremap: shrink (unmapping the tail, whatever VMAs it spans, as Linux), grow in place,
//    move (MREMAP_MAYMOVE, MREMAP_FIXED) by moving the page-table entries;
//    MREMAP_DONTUNMAP and old_len == 0 are -EINVAL.
//  - madvise: MADV_DONTNEED drops private and file pages (they come back zeroed or from
//    the file), MADV_FREE private anonymous ones (-EINVAL elsewhere, as Linux);
//    NORMAL/RANDOM/SEQUENTIAL/WILLNEED are accepted hints; any other advice is -EINVAL.
//  - msync: shared file mappings write straight into ramfs pages, so there is nothing to
//    write back; the arguments are checked as Linux checks them.
//
// Context: process context of the calling task; each call takes current->mm's lock.
#include <trapeze/err.h>
#include <trapeze/fs.h>
#include <trapeze/page_alloc.h>
#include <trapeze/rlimit.h>
#include <trapeze/task.h>
#include <trapeze/vfs.h>
#include <trapeze/vm.h>
#include <asm/cpu.h>

// --- mapping and unmapping (mm lock held) ----------------------------------------------------

int vm_unmap(struct mm *mm, uintptr_t start, uintptr_t end)
{
	LIST_HEAD(gone);
	struct vma *v, *tmp;
	int err;

	mm_assert_locked(mm);
	err = vma_detach_range(&mm->vmas, start, end, &gone);
	if (err)
		return err;
	list_for_each_entry_safe(v, tmp, &gone, link) {
		vm_zap_range(mm, v->start, v->end);
		list_del(&v->link);
		vma_free(v);
	}
	return 0;
}

int vm_map(struct mm *mm, uintptr_t start, uintptr_t end, unsigned int flags,
	   struct file *file, off_t file_off, off_t file_limit)
{
	struct vma *vma = vma_alloc(start, end, flags);
	int err;

	mm_assert_locked(mm);
	if (!vma)
		return -ENOMEM;
	err = vm_unmap(mm, start, end);
	if (err) {
		vma_free(vma);
		return err;
	}
	if (file) {
		vma->file = file_get(file);
		vma->file_off = file_off;
		vma->file_limit = file_limit;
	}
	vma_insert(&mm->vmas, vma);
	vma_merge(&mm->vmas, vma);
	return 0;
}

static unsigned int vm_flags_from_prot(unsigned long prot)
{
	return (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) |
	       (prot & PROT_EXEC ? VM_EXEC : 0);
}

// Page-align len and check that [addr, addr + len) is a page-aligned range of user space.
// 0 or -EINVAL; *end gets the aligned end.
static int vm_range_check(unsigned long addr, unsigned long len, uintptr_t *end)
{
	if (!IS_ALIGNED(addr, PAGE_SIZE) || len > VM_USER_TOP)
		return -EINVAL;
	len = ALIGN_UP(len, PAGE_SIZE);
	if (addr > VM_USER_TOP - len)
		return -EINVAL;
	*end = addr + len;
	return 0;
}

// --- resource limits -------------------------------------------------------------------------

// Linux's data mappings (RLIMIT_DATA): private and writable, and not a stack.
static bool vm_is_data(unsigned int vm_flags)
{
	return (vm_flags & (VM_WRITE | VM_SHARED | VM_GROWSDOWN)) == VM_WRITE;
}

static bool vm_limit_exceeded(uint64_t used, size_t len, uint64_t limit)
{
	return limit != RLIM_INFINITY && (len > limit || used > limit - len);
}

// Whether mm may map len more bytes with vm_flags. Sums the VMAs (only when a limit is
// set), leaving out what lies in [start, end), which the new mapping replaces.
bool vm_may_expand(struct mm *mm, unsigned int vm_flags, size_t len, uintptr_t start,
		   uintptr_t end)
{
	uint64_t as = rlimit(RLIMIT_AS), data = rlimit(RLIMIT_DATA);
	uint64_t total = 0, data_total = 0;
	struct vma *v;

	mm_assert_locked(mm);
	if (as == RLIM_INFINITY && (data == RLIM_INFINITY || !vm_is_data(vm_flags)))
		return true;
	for (v = vma_first(&mm->vmas); v; v = vma_next(&mm->vmas, v)) {
		uintptr_t lo = MAX(v->start, start), hi = MIN(v->end, end);
		uint64_t size = v->end - v->start - (lo < hi ? hi - lo : 0);

		total += size;
		if (vm_is_data(v->flags))
			data_total += size;
	}
	if (vm_limit_exceeded(total, len, as))
		return false;
	return !vm_is_data(vm_flags) || !vm_limit_exceeded(data_total, len, data);
}

// --- brk -------------------------------------------------------------------------------------

// Move the end of the heap. Returns the new break, or the old one if the request is
// refused (below the heap's start, into another mapping, out of memory): Linux semantics.
long sys_brk(unsigned long brk)
{
	struct mm *mm = current->mm;
	uintptr_t old_end, new_end;
	long ret;

	mm_lock(mm);
	ret = (long)mm->brk;
	if (brk < mm->start_brk || brk > VM_USER_TOP - PAGE_SIZE)
		goto out;
	old_end = ALIGN_UP(mm->brk, PAGE_SIZE);
	new_end = ALIGN_UP(brk, PAGE_SIZE);
	if (new_end < old_end && vm_unmap(mm, new_end, old_end))
		goto out;
	if (new_end > old_end) {
		// Keep a page free above the heap, as Linux does.
		if (!vma_range_free(&mm->vmas, old_end, new_end + PAGE_SIZE))
			goto out;
		if (vm_enough_memory((new_end - old_end) >> PAGE_SHIFT))
			goto out;
		if (!vm_may_expand(mm, VM_READ | VM_WRITE, new_end - old_end, 0, 0))
			goto out;
		if (vm_map(mm, old_end, new_end, VM_READ | VM_WRITE, NULL, 0, 0))
			goto out;
	}
	mm->brk = brk;
	ret = (long)brk;
out:
	mm_unlock(mm);
	return ret;
}

// --- mmap ------------------------------------------------------------------------------------

#define MAP_LEGACY_FLAGS                                                                 \
	(MAP_TYPE | MAP_FIXED | MAP_ANONYMOUS | MAP_32BIT | MAP_GROWSDOWN | MAP_DENYWRITE |   \
	 MAP_EXECUTABLE | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK | \
	 MAP_HUGETLB)

// The prot argument needs no check: mmap ignores bits other than READ, WRITE and EXEC,
// as Linux does (mprotect refuses them).
static long mmap_check_args(unsigned long len, unsigned long flags, unsigned long off)
{
	unsigned long type = flags & MAP_TYPE;

	if (!len || !IS_ALIGNED(off, PAGE_SIZE))
		return -EINVAL;
	if (type != MAP_PRIVATE && type != MAP_SHARED && type != MAP_SHARED_VALIDATE)
		return -EINVAL;
	// Unknown flags are ignored except under MAP_SHARED_VALIDATE (Linux's legacy rule).
	if (type == MAP_SHARED_VALIDATE &&
	    (flags & ~(unsigned long)(MAP_LEGACY_FLAGS | MAP_FIXED_NOREPLACE | MAP_SYNC)))
		return -EOPNOTSUPP;
	if ((flags & MAP_SYNC) && type == MAP_SHARED_VALIDATE)
		return -EOPNOTSUPP; // no DAX files
	if (flags & MAP_HUGETLB)
		return -EINVAL; // no huge pages
	if (len > VM_USER_TOP)
		return -ENOMEM;
	// The last page of the file range must not wrap around.
	if (off + ALIGN_UP(len, PAGE_SIZE) < off || (off_t)(off + ALIGN_UP(len, PAGE_SIZE)) < 0)
		return -EOVERFLOW;
	return 0;
}

// Choose where a new mapping of len bytes goes: the fixed address, the hint if its range
// is free, else the highest free gap below mmap_base. The address or -errno.
static long mmap_pick_addr(struct mm *mm, unsigned long hint, size_t len, unsigned long flags)
{
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		struct vma *v;

		if (!IS_ALIGNED(hint, PAGE_SIZE))
			return -EINVAL;
		if (hint > VM_USER_TOP - len)
			return -ENOMEM;
		if (hint < VM_MMAP_MIN)
			return -EPERM;
		v = vma_find(&mm->vmas, hint);
		if ((flags & MAP_FIXED_NOREPLACE) && v && v->start < hint + len)
			return -EEXIST;
		return (long)hint;
	}
	hint = ALIGN_DOWN(hint, PAGE_SIZE);
	if (hint >= VM_MMAP_MIN && hint <= VM_USER_TOP - len &&
	    vma_range_free(&mm->vmas, hint, hint + len))
		return (long)hint;
	if (flags & MAP_32BIT)
		hint = vma_find_gap(&mm->vmas, len, MMAP_32BIT_LOW, MMAP_32BIT_HIGH);
	else
		hint = vma_find_gap(&mm->vmas, len, VM_MMAP_MIN, mm->mmap_base);
	return hint ? (long)hint : -ENOMEM;
}

// Whether the VMA is shared anonymous memory, which lives only in its page tables.
static bool vma_is_shared_anon(const struct vma *vma)
{
	return (vma->flags & VM_SHARED) && !vma->file;
}

// Map [start, start + len) for mmap and pre-fault it where asked. Shared anonymous memory
// is populated at once so that fork can share its pages (see the top of this file).
static long mmap_install(struct mm *mm, uintptr_t start, size_t len, unsigned int vm_flags,
			 struct file *file, unsigned long off, unsigned long flags)
{
	int err = vm_map(mm, start, start + len, vm_flags, file, (off_t)off, VMA_NO_LIMIT);

	if (err)
		return err;
	if ((vm_flags & VM_SHARED) && !file) {
		err = vm_populate(mm, start, start + len);
		if (err) {
			vm_unmap(mm, start, start + len);
			return err == -EIO ? -ENOMEM : err;
		}
	} else if (flags & (MAP_POPULATE | MAP_LOCKED)) {
		vm_populate(mm, start, start + len); // best effort, as on Linux
	}
	return (long)start;
}

// Whether a shared mapping of file may be (or become) writable: Linux's VM_MAYWRITE.
// (Linux refuses append-only inodes too; there are none here. O_APPEND does not count.)
static bool file_may_map_writable(const struct file *file)
{
	return file->f_mode & FMODE_WRITE;
}

// /dev/zero maps as anonymous memory (private or shared), as on Linux: old programs get
// zeroed memory this way.
static bool file_is_dev_zero(const struct file *file)
{
	const struct inode *inode = file->f_inode;

	return S_ISCHR(inode->i_mode) && inode->i_rdev == MKDEV(1, 5);
}

// The file checks of a file-backed mapping. 0 or -errno.
static long mmap_check_file(struct file *file, unsigned long prot, unsigned long flags)
{
	if (file->f_mode & FMODE_PATH)
		return -EBADF;
	if (!S_ISREG(file_mode(file)))
		return -ENODEV;
	if (!(file->f_mode & FMODE_READ))
		return -EACCES;
	if (flags & MAP_GROWSDOWN)
		return -EINVAL;
	if ((flags & MAP_TYPE) == MAP_PRIVATE)
		return 0;
	if (!filemap_can_share(file))
		return -ENODEV; // its pages cannot be mapped: writes could not reach the file
	if ((prot & PROT_WRITE) && !file_may_map_writable(file))
		return -EACCES;
	return 0;
}

// Linux's accountable mappings: private writable memory and shared anonymous memory,
// unless MAP_NORESERVE.
static bool mmap_accountable(unsigned int vm_flags, bool anon, unsigned long flags)
{
	if (flags & MAP_NORESERVE)
		return false;
	if (vm_flags & VM_SHARED)
		return anon;
	return vm_flags & VM_WRITE;
}

long sys_mmap(unsigned long addr, unsigned long len, unsigned long prot, unsigned long flags,
	      unsigned long fd, unsigned long off)
{
	struct mm *mm = current->mm;
	unsigned int vm_flags = vm_flags_from_prot(prot);
	struct file *file = NULL;
	long ret = mmap_check_args(len, flags, off);

	if (ret)
		return ret;
	len = ALIGN_UP(len, PAGE_SIZE);
	if ((flags & MAP_TYPE) != MAP_PRIVATE)
		vm_flags |= VM_SHARED;
	if (flags & MAP_ANONYMOUS) {
		if (flags & MAP_GROWSDOWN)
			vm_flags |= VM_GROWSDOWN;
		off = 0;
	} else {
		file = fd_get_file((int)fd);
		if (!file)
			return -EBADF;
		if (file_is_dev_zero(file)) {
			bool readable = file->f_mode & FMODE_READ;

			file_put(file);
			file = NULL;
			off = 0;
			if (!readable)
				return -EACCES;
		} else {
			ret = mmap_check_file(file, prot, flags);
			if (ret)
				goto put_file;
		}
	}
	if (mmap_accountable(vm_flags, !file, flags)) {
		ret = vm_enough_memory(len >> PAGE_SHIFT);
		if (ret)
			goto put_file;
	}
	mm_lock(mm);
	ret = mmap_pick_addr(mm, addr, len, flags);
	if (ret >= 0 && !vm_may_expand(mm, vm_flags, len, (uintptr_t)ret, (uintptr_t)ret + len))
		ret = -ENOMEM;
	if (ret >= 0)
		ret = mmap_install(mm, (uintptr_t)ret, len, vm_flags, file, off, flags);
	mm_unlock(mm);
put_file:
	if (file)
		file_put(file);
	return ret;
}

long sys_munmap(unsigned long addr, unsigned long len)
{
	struct mm *mm = current->mm;
	uintptr_t end;
	int err;

	if (!len)
		return -EINVAL;
	err = vm_range_check(addr, len, &end);
	if (err)
		return err;
	mm_lock(mm);
	err = vm_unmap(mm, addr, end);
	mm_unlock(mm);
	return err;
}

// --- mprotect --------------------------------------------------------------------------------

struct protect_ctx {
	struct mm *mm;
	const struct vma *vma; // the area whose new rights the entries take
};

static int protect_pte(pte_t *pte, uintptr_t va, void *arg)
{
	struct protect_ctx *ctx = arg;
	pte_t old = *pte;
	pte_t val = vma_pte_make(ctx->vma, old, old & PTE_COW) | (old & (PTE_A | PTE_D));

	if (val == old)
		return 0;
	WRITE_ONCE(*pte, val);
	// Exactly the entries that were present can be cached in the TLB.
	if (old & PTE_P)
		pgtable_flush(ctx->mm->pml4, va);
	return 0;
}

// True if VMAs cover every page of [start, end) with no hole.
static bool vm_range_mapped(const struct vma_set *set, uintptr_t start, uintptr_t end)
{
	const struct vma *v = vma_find(set, start);

	while (v && v->start <= start) {
		if (v->end >= end)
			return true;
		start = v->end;
		v = vma_next(set, v);
	}
	return false;
}

// A shared file mapping may become writable only if its file was opened for writing.
static bool vm_protect_allowed(const struct vma_set *set, uintptr_t start, uintptr_t end,
			       unsigned int vm_prot)
{
	const struct vma *v;

	for (v = vma_find(set, start); v && v->start < end; v = vma_next(set, v))
		if ((vm_prot & VM_WRITE) && (v->flags & VM_SHARED) && v->file &&
		    !file_may_map_writable(v->file))
			return false;
	return true;
}

// Give every VMA inside [start, end) the access rights vm_prot. 0 or -errno.
static int vm_protect(struct mm *mm, uintptr_t start, uintptr_t end, unsigned int vm_prot)
{
	struct vma_set *set = &mm->vmas;
	struct vma *v = vma_find(set, start), *last;

	if (!vm_range_mapped(set, start, end))
		return -ENOMEM;
	if (!vm_protect_allowed(set, start, end, vm_prot))
		return -EACCES;
	if (v->start < start && !(v = vma_split(set, v, start)))
		return -ENOMEM;
	last = vma_lookup(set, end - 1);
	if (last->end > end && !vma_split(set, last, end))
		return -ENOMEM;
	for (; v && v->start < end; v = vma_next(set, v)) {
		struct protect_ctx ctx = { mm, v };

		v->flags = (v->flags & ~VM_ACCESS) | vm_prot;
		vm_pte_walk(mm->pml4, v->start, v->end, protect_pte, &ctx);
	}
	for (v = vma_lookup(set, start); v && v->start < end; v = vma_next(set, v))
		v = vma_merge(set, v);
	return 0;
}

long sys_mprotect(unsigned long addr, unsigned long len, unsigned long prot)
{
	struct mm *mm = current->mm;
	uintptr_t end;
	int err;

	if (prot & ~(unsigned long)(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM | PROT_GROWSDOWN))
		return -EINVAL; // includes PROT_GROWSUP: no area grows up on x86
	if (!IS_ALIGNED(addr, PAGE_SIZE))
		return -EINVAL;
	if (!len)
		return 0;
	if (vm_range_check(addr, len, &end))
		return -ENOMEM;
	mm_lock(mm);
	if (prot & PROT_GROWSDOWN) {
		// Extend the change down to the start of the growing area (Linux).
		struct vma *v = vma_lookup(&mm->vmas, addr);

		err = -EINVAL;
		if (!v || !(v->flags & VM_GROWSDOWN))
			goto unlock;
		addr = v->start;
	}
	err = vm_protect(mm, addr, end, vm_flags_from_prot(prot));
unlock:
	mm_unlock(mm);
	return err;
}

// --- mremap ----------------------------------------------------------------------------------

struct move_ctx {
	struct mm *mm;
	uintptr_t delta; // destination - source, modulo 2^64
};

static int move_prepare_pte(pte_t *pte, uintptr_t va, void *arg)
{
	struct move_ctx *ctx = arg;

	return pgtable_walk(ctx->mm->pml4, va + ctx->delta, true) ? 0 : -ENOMEM;
}

static int move_pte(pte_t *pte, uintptr_t va, void *arg)
{
	struct move_ctx *ctx = arg;
	pte_t val = *pte;
	pte_t *dst = pgtable_walk(ctx->mm->pml4, va + ctx->delta, false);

	assert(dst && !pte_has_page(*dst)); // prepared, and the destination was unmapped
	WRITE_ONCE(*pte, 0);
	if (val & PTE_P)
		pgtable_flush(ctx->mm->pml4, va);
	WRITE_ONCE(*dst, val);
	return 0;
}

// Move [src, src + old_len), which lies inside one VMA, to dst, grown to new_len >= old_len:
// the page-table entries move, the pages stay. The destination must be free or, for
// MREMAP_FIXED, is unmapped here. Returns dst or -errno.
static long mremap_move(struct mm *mm, uintptr_t src, size_t old_len, uintptr_t dst,
			size_t new_len)
{
	struct move_ctx ctx = { mm, dst - src };
	LIST_HEAD(moved);
	struct vma *vma;
	int err;

	assert(old_len <= new_len);
	// Every fallible step comes before the first entry moves.
	err = vm_pte_walk(mm->pml4, src, src + old_len, move_prepare_pte, &ctx);
	if (!err)
		err = vm_unmap(mm, dst, dst + new_len);
	if (!err)
		err = vma_detach_range(&mm->vmas, src, src + old_len, &moved);
	if (err)
		return err;
	vma = list_first_entry(&moved, struct vma, link);
	list_del(&vma->link);
	vm_pte_walk(mm->pml4, src, src + old_len, move_pte, &ctx);
	vma->start = dst;
	vma->end = dst + new_len;
	vma_insert(&mm->vmas, vma);
	vma = vma_merge(&mm->vmas, vma);
	if (vma_is_shared_anon(vma))
		vm_populate(mm, dst, dst + new_len);
	return (long)dst;
}

// Whether vma may grow by len bytes: the overcommit check, where mmap would have counted
// the memory, and the resource limits.
static bool mremap_may_grow(struct mm *mm, const struct vma *vma, size_t len)
{
	bool accountable =
		vma_is_shared_anon(vma) || (vma->flags & (VM_WRITE | VM_SHARED)) == VM_WRITE;

	if (accountable && vm_enough_memory(len >> PAGE_SHIFT))
		return false;
	return vm_may_expand(mm, vma->flags, len, 0, 0);
}

// Linux's rules: old must lie in a VMA. A shrink in place unmaps the tail, whatever VMAs it
// spans. Otherwise the part that stays must lie in that one VMA (-EFAULT, before anything
// changes), and a move that shrinks drops the tail first.
static long mremap_locked(struct mm *mm, uintptr_t old, size_t old_len, size_t new_len,
			  unsigned long flags, uintptr_t new_addr)
{
	struct vma *vma = vma_lookup(&mm->vmas, old);
	uintptr_t dst;
	int err = 0;

	if (!vma)
		return -EFAULT;
	if (new_len <= old_len && !(flags & MREMAP_FIXED)) {
		if (new_len < old_len)
			err = vm_unmap(mm, old + new_len, old + old_len);
		return err ? err : (long)old;
	}
	if (MIN(old_len, new_len) > vma->end - old)
		return -EFAULT;
	if (new_len > old_len && !mremap_may_grow(mm, vma, new_len - old_len))
		return -ENOMEM;
	if (flags & MREMAP_FIXED) {
		if (new_len < old_len)
			err = vm_unmap(mm, old + new_len, old + old_len);
		return err ? err : mremap_move(mm, old, MIN(old_len, new_len), new_addr, new_len);
	}
	if (old + old_len == vma->end && new_len <= VM_USER_TOP - old &&
	    vma_range_free(&mm->vmas, vma->end, old + new_len)) {
		vma->end = old + new_len;
		if (vma_is_shared_anon(vma))
			vm_populate(mm, old + old_len, old + new_len);
		return (long)old;
	}
	if (!(flags & MREMAP_MAYMOVE))
		return -ENOMEM;
	dst = vma_find_gap(&mm->vmas, new_len, VM_MMAP_MIN, mm->mmap_base);
	return dst ? mremap_move(mm, old, old_len, dst, new_len) : -ENOMEM;
}

long sys_mremap(unsigned long old_addr, unsigned long old_len, unsigned long new_len,
		unsigned long flags, unsigned long new_addr)
{
	struct mm *mm = current->mm;
	uintptr_t old_end, new_end = 0;
	long ret;

	if (flags & ~(unsigned long)(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP))
		return -EINVAL;
	if ((flags & MREMAP_DONTUNMAP) || ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)))
		return -EINVAL; // DONTUNMAP is not supported
	if (!old_len || !new_len || vm_range_check(old_addr, old_len, &old_end))
		return -EINVAL; // old_len 0 (duplicate a shared mapping) is not supported
	if (new_len > VM_USER_TOP)
		return -ENOMEM;
	old_len = old_end - old_addr;
	new_len = ALIGN_UP(new_len, PAGE_SIZE);
	if (flags & MREMAP_FIXED) {
		if (vm_range_check(new_addr, new_len, &new_end) || new_addr < VM_MMAP_MIN)
			return -EINVAL;
		if (new_addr < old_end && old_addr < new_end)
			return -EINVAL; // the ranges overlap
	}
	mm_lock(mm);
	ret = mremap_locked(mm, old_addr, old_len, new_len, flags, new_addr);
	mm_unlock(mm);
	return ret;
}

// --- madvise ---------------------------------------------------------------------------------

// Drop the pages of [start, end), part of v, for MADV_DONTNEED or MADV_FREE. 0 or -EINVAL.
static int madvise_drop(struct mm *mm, struct vma *v, uintptr_t start, uintptr_t end,
			unsigned long advice)
{
	// MADV_FREE is for private anonymous memory only (Linux).
	if (advice == MADV_FREE && (v->file || (v->flags & VM_SHARED)))
		return -EINVAL;
	// A shared anonymous page's contents must survive (Linux keeps them in shmem), and
	// dropping our mapping would only unshare it: nothing to do there. File pages come
	// back from the file.
	if (!vma_is_shared_anon(v))
		vm_zap_range(mm, start, end);
	return 0;
}

// As Linux: the areas before a failing one keep what was done to them; a hole in the range
// is -ENOMEM unless an area fails with its own error.
long sys_madvise(unsigned long addr, unsigned long len, unsigned long advice)
{
	struct mm *mm = current->mm;
	bool drop = advice == MADV_DONTNEED || advice == MADV_FREE;
	uintptr_t end;
	struct vma *v;
	long ret;

	if (!drop && advice != MADV_NORMAL && advice != MADV_RANDOM &&
	    advice != MADV_SEQUENTIAL && advice != MADV_WILLNEED)
		return -EINVAL;
	if (vm_range_check(addr, len, &end))
		return -EINVAL;
	if (addr == end)
		return 0;
	mm_lock(mm);
	ret = vm_range_mapped(&mm->vmas, addr, end) ? 0 : -ENOMEM;
	for (v = vma_find(&mm->vmas, addr); drop && v && v->start < end;
	     v = vma_next(&mm->vmas, v)) {
		int err = madvise_drop(mm, v, MAX(addr, v->start), MIN(end, v->end), advice);

		if (err) {
			ret = err;
			break;
		}
	}
	mm_unlock(mm);
	return ret;
}

// --- msync -----------------------------------------------------------------------------------

// Shared file mappings map the file's own pages (mm/filemap.c): a store through one is in
// the file already, so MS_SYNC and MS_ASYNC have nothing to write and MS_INVALIDATE nothing
// to re-read. What remains is Linux's argument checking.
long sys_msync(unsigned long addr, unsigned long len, unsigned long flags)
{
	struct mm *mm = current->mm;
	uintptr_t end;
	long ret;

	if (flags & ~(unsigned long)(MS_ASYNC | MS_INVALIDATE | MS_SYNC))
		return -EINVAL;
	if ((flags & MS_ASYNC) && (flags & MS_SYNC))
		return -EINVAL;
	if (!IS_ALIGNED(addr, PAGE_SIZE))
		return -EINVAL;
	if (vm_range_check(addr, len, &end))
		return -ENOMEM;
	if (addr == end)
		return 0;
	mm_lock(mm);
	ret = vm_range_mapped(&mm->vmas, addr, end) ? 0 : -ENOMEM;
	mm_unlock(mm);
	return ret;
}
