// The VMA set of an address space: an AVL tree keyed by start address for lookups in
// O(log n), plus a list in address order for neighbours and range walks. VMAs never
// overlap, so start addresses are unique and ordering by start orders the whole areas.
//
// A VMA's start may change in place only while it stays above its predecessor's end
// (a stack growing down): that never changes the tree order, so no rebalancing is needed.
// Splits keep the lower part in its node and insert the upper part; merges keep the
// lower node and remove the upper one. Tree routines are recursive; the AVL height bound
// (1.44 log2 n) keeps the recursion a few dozen frames deep at most.
//
// Locking: none here; the owner of the set (struct mm) holds its lock around every call.
#include <trapeze/kmalloc.h>
#include <trapeze/panic.h>
#include <trapeze/string.h>
#include <trapeze/fs.h>
#include <trapeze/vfs.h>
#include <trapeze/vm.h>

void vma_set_init(struct vma_set *set)
{
	set->root = NULL;
	list_init(&set->list);
	set->count = 0;
}

struct vma *vma_alloc(uintptr_t start, uintptr_t end, unsigned int flags)
{
	struct vma *vma = kzalloc(sizeof(*vma));

	if (!vma)
		return NULL;
	vma->start = start;
	vma->end = end;
	vma->flags = flags;
	list_init(&vma->link);
	vma->height = 1;
	return vma;
}

void vma_free(struct vma *vma)
{
	if (vma->file)
		file_put(vma->file);
	kfree(vma);
}

// --- the AVL tree ------------------------------------------------------------------------

static int avl_height(const struct vma *n)
{
	return n ? n->height : 0;
}

static void avl_fix_height(struct vma *n)
{
	n->height = 1 + MAX(avl_height(n->left), avl_height(n->right));
}

static struct vma *avl_rotate_right(struct vma *n)
{
	struct vma *l = n->left;

	n->left = l->right;
	l->right = n;
	avl_fix_height(n);
	avl_fix_height(l);
	return l;
}

static struct vma *avl_rotate_left(struct vma *n)
{
	struct vma *r = n->right;

	n->right = r->left;
	r->left = n;
	avl_fix_height(n);
	avl_fix_height(r);
	return r;
}

// Restore the AVL property at n, whose subtrees are balanced and differ in height by at
// most two. Returns the new subtree root.
static struct vma *avl_balance(struct vma *n)
{
	int diff = avl_height(n->left) - avl_height(n->right);

	avl_fix_height(n);
	if (diff > 1) {
		if (avl_height(n->left->left) < avl_height(n->left->right))
			n->left = avl_rotate_left(n->left);
		return avl_rotate_right(n);
	}
	if (diff < -1) {
		if (avl_height(n->right->right) < avl_height(n->right->left))
			n->right = avl_rotate_right(n->right);
		return avl_rotate_left(n);
	}
	return n;
}

static struct vma *avl_insert(struct vma *root, struct vma *n)
{
	if (!root)
		return n;
	if (n->start < root->start)
		root->left = avl_insert(root->left, n);
	else
		root->right = avl_insert(root->right, n);
	return avl_balance(root);
}

// Unlink the leftmost node of the subtree at n into *min; returns the new subtree root.
static struct vma *avl_remove_min(struct vma *n, struct vma **min)
{
	if (!n->left) {
		*min = n;
		return n->right;
	}
	n->left = avl_remove_min(n->left, min);
	return avl_balance(n);
}

static struct vma *avl_remove(struct vma *root, const struct vma *victim)
{
	struct vma *min;

	if (!root)
		panic("vma_remove: [%#lx, %#lx) is not in its set", victim->start, victim->end);
	if (victim->start < root->start) {
		root->left = avl_remove(root->left, victim);
	} else if (victim->start > root->start) {
		root->right = avl_remove(root->right, victim);
	} else {
		if (!root->right)
			return root->left;
		root->right = avl_remove_min(root->right, &min);
		min->left = root->left;
		min->right = root->right;
		return avl_balance(min);
	}
	return avl_balance(root);
}

// The VMA with the largest start <= addr, or NULL.
static struct vma *avl_floor(struct vma *n, uintptr_t addr)
{
	struct vma *best = NULL;

	while (n) {
		if (n->start <= addr) {
			best = n;
			n = n->right;
		} else {
			n = n->left;
		}
	}
	return best;
}

// --- lookups -----------------------------------------------------------------------------

struct vma *vma_first(const struct vma_set *set)
{
	return list_empty(&set->list) ? NULL : list_first_entry(&set->list, struct vma, link);
}

struct vma *vma_last(const struct vma_set *set)
{
	return list_empty(&set->list) ? NULL : list_entry(set->list.prev, struct vma, link);
}

struct vma *vma_next(const struct vma_set *set, const struct vma *vma)
{
	if (vma->link.next == &set->list)
		return NULL;
	return list_entry(vma->link.next, struct vma, link);
}

struct vma *vma_prev(const struct vma_set *set, const struct vma *vma)
{
	if (vma->link.prev == &set->list)
		return NULL;
	return list_entry(vma->link.prev, struct vma, link);
}

struct vma *vma_find(const struct vma_set *set, uintptr_t addr)
{
	struct vma *v = avl_floor(set->root, addr);

	if (!v)
		return vma_first(set);
	if (addr < v->end)
		return v;
	return vma_next(set, v);
}

struct vma *vma_lookup(const struct vma_set *set, uintptr_t addr)
{
	struct vma *v = avl_floor(set->root, addr);

	return v && addr < v->end ? v : NULL;
}

// --- changes -----------------------------------------------------------------------------

void vma_insert(struct vma_set *set, struct vma *vma)
{
	struct vma *prev = avl_floor(set->root, vma->start);
	struct vma *next = prev ? vma_next(set, prev) : vma_first(set);

	if (vma->start >= vma->end || (prev && prev->end > vma->start) ||
	    (next && next->start < vma->end))
		panic("vma_insert: [%#lx, %#lx) overlaps the set or is empty", vma->start,
		      vma->end);
	vma->left = vma->right = NULL;
	vma->height = 1;
	set->root = avl_insert(set->root, vma);
	list_add(&vma->link, prev ? &prev->link : &set->list);
	set->count++;
}

void vma_remove(struct vma_set *set, struct vma *vma)
{
	set->root = avl_remove(set->root, vma);
	list_del(&vma->link);
	vma->left = vma->right = NULL;
	set->count--;
}

struct vma *vma_split(struct vma_set *set, struct vma *vma, uintptr_t addr)
{
	struct vma *upper;

	assert(addr > vma->start && addr < vma->end && IS_ALIGNED(addr, PAGE_SIZE));
	upper = vma_alloc(addr, vma->end, vma->flags);
	if (!upper)
		return NULL;
	if (vma->file) {
		upper->file = file_get(vma->file);
		upper->file_off = vma->file_off + (off_t)(addr - vma->start);
		upper->file_limit = vma->file_limit;
	}
	vma->end = addr;
	vma_insert(set, upper);
	return upper;
}

// True if b continues a seamlessly: the two can become one VMA.
static bool vma_mergeable(const struct vma *a, const struct vma *b)
{
	if (a->end != b->start || a->flags != b->flags || a->file != b->file)
		return false;
	if (!a->file)
		return true;
	return b->file_off == a->file_off + (off_t)(a->end - a->start) &&
	       a->file_limit == b->file_limit;
}

struct vma *vma_merge(struct vma_set *set, struct vma *vma)
{
	struct vma *next = vma_next(set, vma);
	struct vma *prev = vma_prev(set, vma);

	if (next && vma_mergeable(vma, next)) {
		vma_remove(set, next);
		vma->end = next->end;
		vma_free(next);
	}
	if (prev && vma_mergeable(prev, vma)) {
		vma_remove(set, vma);
		prev->end = vma->end;
		vma_free(vma);
		vma = prev;
	}
	return vma;
}

int vma_detach_range(struct vma_set *set, uintptr_t start, uintptr_t end,
		     struct list_head *out)
{
	struct vma *v = vma_find(set, start);
	struct vma *last;

	if (!v || v->start >= end)
		return 0;
	if (v->start < start) {
		v = vma_split(set, v, start);
		if (!v)
			return -ENOMEM;
	}
	last = vma_lookup(set, end - 1);
	if (last && last->end > end && !vma_split(set, last, end)) {
		// Undo the first cut so that a failed call leaves the areas as they were.
		vma_merge(set, v);
		return -ENOMEM;
	}
	while (v && v->start < end) {
		struct vma *next = vma_next(set, v);

		vma_remove(set, v);
		list_add_tail(&v->link, out);
		v = next;
	}
	return 0;
}

// Where the free gap below v ends: its start, less the guard gap of a growing stack.
static uintptr_t vma_gap_top(const struct vma *v)
{
	if (!(v->flags & VM_GROWSDOWN))
		return v->start;
	return v->start > STACK_GUARD_GAP ? v->start - STACK_GUARD_GAP : 0;
}

bool vma_range_free(const struct vma_set *set, uintptr_t start, uintptr_t end)
{
	struct vma *v = vma_find(set, start);

	return !v || vma_gap_top(v) >= end;
}

uintptr_t vma_find_gap(const struct vma_set *set, size_t len, uintptr_t low, uintptr_t high)
{
	struct vma *next = vma_find(set, high);
	struct vma *prev = next ? vma_prev(set, next) : vma_last(set);
	uintptr_t top = high;

	if (len == 0 || high < low || high - low < len)
		return 0;
	if (next && vma_gap_top(next) < top)
		top = vma_gap_top(next);
	for (;;) {
		uintptr_t bottom = prev ? MAX(prev->end, low) : low;

		if (top > bottom && top - bottom >= len)
			return top - len;
		if (!prev || prev->end <= low)
			return 0;
		top = MIN(top, vma_gap_top(prev));
		prev = vma_prev(set, prev);
	}
}

// --- self-check --------------------------------------------------------------------------

// Check the subtree at n: AVL heights, key order within (lo, hi]. Counts nodes in *nodes.
// Returns the height, or -1 if broken.
static int avl_validate(const struct vma *n, uintptr_t lo, uintptr_t hi, bool has_lo,
			unsigned long *nodes)
{
	int hl, hr;

	if (!n)
		return 0;
	if ((has_lo && n->start <= lo) || n->start > hi || (n->start == 0 && n->left))
		return -1;
	hl = avl_validate(n->left, lo, n->start - 1, has_lo, nodes);
	hr = avl_validate(n->right, n->start, hi, true, nodes);
	if (hl < 0 || hr < 0 || hl - hr > 1 || hr - hl > 1 || n->height != 1 + MAX(hl, hr))
		return -1;
	(*nodes)++;
	return n->height;
}

int vma_set_validate(const struct vma_set *set)
{
	const struct vma *v, *prev = NULL;
	unsigned long listed = 0, nodes = 0;

	list_for_each_entry(v, &set->list, link) {
		if (v->start >= v->end || !IS_ALIGNED(v->start, PAGE_SIZE) ||
		    !IS_ALIGNED(v->end, PAGE_SIZE))
			return -1; // empty or unaligned area
		if (prev && prev->end > v->start)
			return -2; // out of order or overlapping
		if (vma_lookup(set, v->start) != v || vma_lookup(set, v->end - 1) != v)
			return -3; // the tree does not find what the list holds
		prev = v;
		listed++;
	}
	if (avl_validate(set->root, 0, UINTPTR_MAX, false, &nodes) < 0)
		return -4; // unbalanced or unordered tree
	if (nodes != listed || listed != set->count)
		return -5; // tree, list and count disagree
	return 0;
}
