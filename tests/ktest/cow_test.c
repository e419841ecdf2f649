// Unit tests of copy-on-write and file mappings (mm/cow.c, mm/filemap.c, mm_dup): page
// reference counts and PTE bits through fork and the faults after it, and the file's own
// pages mapped shared, copy-on-write and beyond the end of the file. The address spaces
// here are private mms that are never loaded; faults are driven through mm_fault().
#include <trapeze/err.h>
#include <trapeze/fs.h>
#include <trapeze/ktest.h>
#include <trapeze/page_alloc.h>
#include <trapeze/string.h>
#include <trapeze/vfs.h>
#include <trapeze/vm.h>

#define VA 0x0000000010000000UL // arbitrary, page-table aligned user address
#define RW (VM_READ | VM_WRITE)
#define FAULT_READ PFERR_USER
#define FAULT_WRITE (PFERR_USER | PFERR_WRITE)
#define FAULT_COW (PFERR_USER | PFERR_WRITE | PFERR_PRESENT)
#define KTEST_FILE "ktest-filemap"

// A new mm with one area [VA, VA + pages * PAGE_SIZE). NULL (and a failure) on error.
static struct mm *mm_with_area(struct ktest_ctx *t, unsigned long pages, unsigned int flags,
			       struct file *file)
{
	struct mm *mm = mm_alloc();
	int err;

	KT_EXPECT(t, mm != NULL);
	if (!mm)
		return NULL;
	mm_lock(mm);
	err = vm_map(mm, VA, VA + pages * PAGE_SIZE, flags, file, 0, VMA_NO_LIMIT);
	mm_unlock(mm);
	KT_EXPECT(t, err == 0);
	if (err) {
		mm_put(mm);
		return NULL;
	}
	return mm;
}

// The leaf entry for va, or 0 if none.
static pte_t pte_of(struct mm *mm, uintptr_t va)
{
	pte_t *pte = pgtable_walk(mm->pml4, va, false);

	return pte ? *pte : 0;
}

static struct page *page_of(pte_t pte)
{
	return phys_to_page(pte & PTE_ADDR_MASK);
}

// After fork shared a page between parent and child: the child's write copies it, then the
// parent, the only holder left, keeps it and just makes it writable.
static void cow_writes_after_fork(struct ktest_ctx *t, struct mm *parent, struct mm *child,
				  struct page *page)
{
	pte_t p, c;

	KT_EXPECT(t, mm_fault(child, VA, FAULT_COW) == 0);
	c = pte_of(child, VA);
	KT_EXPECT(t, page_of(c) != page && (c & PTE_W) && !(c & PTE_COW));
	KT_EXPECT(t, page_of(c)->refcount == 1 && page->refcount == 1);
	KT_EXPECT(t, ((unsigned char *)page_to_virt(page_of(c)))[PAGE_SIZE - 1] == 0x5a);

	KT_EXPECT(t, mm_fault(parent, VA, FAULT_COW) == 0);
	p = pte_of(parent, VA);
	KT_EXPECT(t, page_of(p) == page && (p & PTE_W) && !(p & PTE_COW));
	KT_EXPECT(t, page->refcount == 1);
}

KTEST(cow_fork_shares_then_copies, "cow: fork shares a page read-only; writes copy, then reuse")
{
	unsigned long free_before = mm_free_pages();
	struct mm *parent = mm_with_area(t, 2, RW, NULL), *child;
	struct page *page;
	pte_t p, c;

	if (!parent)
		return;
	KT_EXPECT(t, mm_fault(parent, VA, FAULT_WRITE) == 0);
	p = pte_of(parent, VA);
	KT_EXPECT(t, (p & PTE_P) && (p & PTE_W) && !(p & PTE_COW));
	page = page_of(p);
	KT_EXPECT(t, page->refcount == 1);
	memset(page_to_virt(page), 0x5a, PAGE_SIZE);

	child = mm_dup(parent);
	KT_EXPECT(t, child != NULL);
	if (child) {
		// One page, two references, both entries read-only and copy-on-write.
		p = pte_of(parent, VA);
		c = pte_of(child, VA);
		KT_EXPECT(t, page_of(p) == page && page_of(c) == page);
		KT_EXPECT(t, page->refcount == 2);
		KT_EXPECT(t, (p & PTE_COW) && !(p & PTE_W) && (c & PTE_COW) && !(c & PTE_W));
		KT_EXPECT(t, parent->rss == 1 && child->rss == 1);
		KT_EXPECT(t, pte_of(child, VA + PAGE_SIZE) == 0); // never touched: not there
		cow_writes_after_fork(t, parent, child, page);
		mm_put(child);
	}
	mm_put(parent);
	KT_EXPECT(t, mm_free_pages() == free_before);
}

KTEST(cow_readonly_then_writable, "cow: a read-only page shared by fork is copied once its area is writable")
{
	struct mm *parent = mm_with_area(t, 1, VM_READ, NULL), *child;
	struct vma *vma;
	pte_t p;

	if (!parent)
		return;
	KT_EXPECT(t, mm_fault(parent, VA, FAULT_READ) == 0);
	child = mm_dup(parent);
	KT_EXPECT(t, child != NULL);
	if (!child)
		goto put_parent;
	// Make the area writable by hand (mprotect keeps PTE_COW entries read-only).
	mm_lock(parent);
	vma = vma_lookup(&parent->vmas, VA);
	vma->flags |= VM_WRITE;
	mm_unlock(parent);
	p = pte_of(parent, VA);
	KT_EXPECT(t, (p & PTE_COW) && !(p & PTE_W));
	KT_EXPECT(t, mm_fault(parent, VA, FAULT_COW) == 0);
	KT_EXPECT(t, page_of(pte_of(parent, VA)) != page_of(pte_of(child, VA)));
	KT_EXPECT(t, page_of(pte_of(child, VA))->refcount == 1);
	mm_put(child);
put_parent:
	mm_put(parent);
}

KTEST(cow_shared_area_stays_shared, "cow: fork leaves VM_SHARED pages writable and shared")
{
	struct mm *parent = mm_with_area(t, 1, RW | VM_SHARED, NULL), *child;
	pte_t p, c;

	if (!parent)
		return;
	KT_EXPECT(t, mm_fault(parent, VA, FAULT_WRITE) == 0);
	child = mm_dup(parent);
	KT_EXPECT(t, child != NULL);
	if (child) {
		p = pte_of(parent, VA);
		c = pte_of(child, VA);
		KT_EXPECT(t, page_of(p) == page_of(c) && page_of(p)->refcount == 2);
		KT_EXPECT(t, (p & PTE_W) && (c & PTE_W) && !((p | c) & PTE_COW));
		mm_put(child);
		KT_EXPECT(t, page_of(p)->refcount == 1);
	}
	mm_put(parent);
}

// A ramfs file of PAGE_SIZE + 100 bytes, each byte its offset's low bits.
static struct file *file_make(struct ktest_ctx *t)
{
	static char buf[PAGE_SIZE + 100];
	struct file *f = file_open("/" KTEST_FILE, O_CREAT | O_RDWR | O_TRUNC, 0644);
	struct iov_iter it;
	off_t pos = 0;

	KT_EXPECT(t, !IS_ERR(f));
	if (IS_ERR(f))
		return NULL;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)i;
	iov_iter_kernel(&it, buf, sizeof(buf));
	KT_EXPECT(t, vfs_write(f, &it, &pos) == (ssize_t)sizeof(buf));
	return f;
}

static void file_drop(struct file *f)
{
	file_put(f);
	vfs_remove(vfs_root, KTEST_FILE, strlen(KTEST_FILE), false, false);
}

KTEST(filemap_private_and_shared, "filemap: the file's own pages, shared or copy-on-write")
{
	struct file *f = file_make(t);
	struct mm *priv, *shared;
	struct page *file_page;
	pte_t pte;

	if (!f)
		return;
	priv = mm_with_area(t, 3, RW, f);
	shared = mm_with_area(t, 3, RW | VM_SHARED, f);
	if (!priv || !shared)
		goto out;
	file_page = virt_to_page(f->f_inode->i_pages[0]);
	KT_EXPECT(t, file_page->refcount == 1);
	// Reading a private mapping maps the file's page, copy-on-write.
	KT_EXPECT(t, mm_fault(priv, VA, FAULT_READ) == 0);
	pte = pte_of(priv, VA);
	KT_EXPECT(t, page_of(pte) == file_page && (pte & PTE_COW) && !(pte & PTE_W));
	KT_EXPECT(t, file_page->refcount == 2);
	// A write copies it; the file's page is left alone.
	KT_EXPECT(t, mm_fault(priv, VA, FAULT_COW) == 0);
	pte = pte_of(priv, VA);
	KT_EXPECT(t, page_of(pte) != file_page && (pte & PTE_W));
	KT_EXPECT(t, file_page->refcount == 1);
	KT_EXPECT(t, ((char *)page_to_virt(page_of(pte)))[200] == (char)200);
	// A shared mapping maps the file's page writable, even a first touch that writes.
	KT_EXPECT(t, mm_fault(shared, VA, FAULT_WRITE) == 0);
	pte = pte_of(shared, VA);
	KT_EXPECT(t, page_of(pte) == file_page && (pte & PTE_W) && !(pte & PTE_COW));
	// The page holding the end of the file maps; the one wholly past it is SIGBUS.
	KT_EXPECT(t, mm_fault(shared, VA + PAGE_SIZE, FAULT_READ) == 0);
	KT_EXPECT(t, mm_fault(shared, VA + 2 * PAGE_SIZE, FAULT_READ) == -EIO);
	KT_EXPECT(t, mm_fault(priv, VA + 2 * PAGE_SIZE, FAULT_WRITE) == -EIO);
	KT_EXPECT(t, shared->rss == 2 && priv->rss == 1);
out:
	if (priv)
		mm_put(priv);
	if (shared)
		mm_put(shared);
	KT_EXPECT(t, virt_to_page(f->f_inode->i_pages[0])->refcount == 1);
	file_drop(f);
}
