// File mappings: how a fault in a file-backed area finds its page.
//
// The page cache of a memory file system is the file itself: ramfs keeps each file's data
// in whole pages (inode->i_pages) and hands them out through inode_operations.get_page
// with a reference. So
//  - a MAP_SHARED area maps the file's own page, writable if the area is: a store through
//    the mapping is a store into the file, seen by read() and by every other mapper at
//    once, and msync has nothing to write back;
//  - a MAP_PRIVATE area maps the same page read-only with PTE_COW for reading (later
//    changes to the file show through, as on Linux, until the process writes); a write
//    fault copies it (mm/cow.c), or copies straight away when the first touch is a write;
//  - a page that holds bytes past the area's file_limit (the .bss part of a program
//    segment's last file page) is always a private copy with those bytes zeroed.
// A page wholly beyond the end of the file is -EIO: SIGBUS, as on Linux. Files without
// get_page can only be mapped private; their pages are read with kernel_read.
//
// Locks: a fault takes the mm lock and then only the file's i_pages_lock (a spinlock, in
// get_page), never its i_mutex. read() and write() copy user memory while holding their
// file's i_mutex, and that copy may fault on a mapping of any file, the same one or
// another whose reader is faulting on ours: waiting for an i_mutex here would deadlock.
// i_size is read without a lock; a racing truncate is seen either way, as on Linux.
//
// Context: process context, the mm lock held; may sleep (kernel_read).
#include <trapeze/fs.h>
#include <trapeze/page_alloc.h>
#include <trapeze/string.h>
#include <trapeze/vfs.h>
#include <trapeze/vm.h>

bool filemap_can_share(const struct file *file)
{
	const struct inode *inode = file->f_inode;

	return S_ISREG(inode->i_mode) && inode->i_op && inode->i_op->get_page;
}

// The file's page at index idx with a reference for the caller in *out. -EIO when it
// lies wholly beyond the end of the file, -ENOMEM.
static int filemap_get_page(struct inode *inode, uint64_t idx, struct page **out)
{
	if (idx >= DIV_ROUND_UP(READ_ONCE(inode->i_size), PAGE_SIZE))
		return -EIO;
	*out = inode->i_op->get_page(inode, idx);
	return *out ? 0 : -ENOMEM;
}

// The file offset of the page at va of vma.
static off_t vma_file_pos(const struct vma *vma, uintptr_t va)
{
	return vma->file_off + (off_t)(va - vma->start);
}

// Read want bytes at off into buf with kernel_read, for files without get_page. -EIO
// when the read fails or finds nothing (the page lies beyond the end of the file).
static int filemap_read(struct file *file, off_t off, char *buf, size_t want)
{
	size_t got = 0;

	while (got < want) {
		ssize_t n = kernel_read(file, buf + got, want - got, off + (off_t)got);

		if (n < 0)
			return -EIO;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got == 0)
		return -EIO;
	memset(buf + got, 0, PAGE_SIZE - got);
	return 0;
}

// Fill buf with a private copy of the file page at va of vma: file bytes up to file_limit,
// zeroes after. -EIO when the page lies wholly past the end of the file.
static int filemap_copy_private(const struct vma *vma, uintptr_t va, char *buf)
{
	off_t off = vma_file_pos(vma, va);
	size_t want = 0;
	struct page *page;
	int err;

	if (off < vma->file_limit)
		want = (size_t)MIN((off_t)PAGE_SIZE, vma->file_limit - off);
	if (want == 0) {
		memset(buf, 0, PAGE_SIZE);
		return 0;
	}
	if (!filemap_can_share(vma->file))
		return filemap_read(vma->file, off, buf, want);
	err = filemap_get_page(vma->file->f_inode, (uint64_t)off >> PAGE_SHIFT, &page);
	if (err)
		return err;
	// Bytes of the last page past i_size are zero in the file's page already.
	memcpy(buf, page_to_virt(page), want);
	memset(buf + want, 0, PAGE_SIZE - want);
	page_put(page);
	return 0;
}

// Whether the page at va of vma may map the file's own page: always in shared areas; in
// private ones for reading, unless part of the page must read as zero.
static bool filemap_maps_directly(const struct vma *vma, uintptr_t va, bool write)
{
	if (!filemap_can_share(vma->file))
		return false;
	if (vma->flags & VM_SHARED)
		return true;
	return !write && vma_file_pos(vma, va) + (off_t)PAGE_SIZE <= vma->file_limit;
}

int filemap_fault(struct mm *mm, struct vma *vma, uintptr_t va, bool write)
{
	bool direct = filemap_maps_directly(vma, va, write);
	struct page *page;
	pte_t val;
	int err;

	mm_assert_locked(mm);
	if (direct) {
		err = filemap_get_page(vma->file->f_inode,
				       (uint64_t)vma_file_pos(vma, va) >> PAGE_SHIFT, &page);
		if (err)
			return err;
		val = vma_pte_make(vma, page_to_phys(page), !(vma->flags & VM_SHARED));
	} else {
		page = vm_page_alloc(0);
		if (!page)
			return -ENOMEM;
		err = filemap_copy_private(vma, va, page_to_virt(page));
		if (err)
			goto put_page;
		val = vma_pte_make(vma, page_to_phys(page), false);
	}
	err = vm_pte_set(mm, va, val);
	if (err)
		goto put_page;
	mm->rss++;
	return 0;
put_page:
	page_put(page);
	return err;
}
