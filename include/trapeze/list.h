// Circular doubly linked lists with a sentinel head, embedded in the objects they
// link. No locking: the owner of the list says which lock protects it.
#pragma once

#include <trapeze/types.h>

struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name) { &(name), &(name) }
#define LIST_HEAD(name) struct list_head name = LIST_HEAD_INIT(name)

static inline void list_init(struct list_head *h)
{
	h->next = h;
	h->prev = h;
}

static inline bool list_empty(const struct list_head *h)
{
	return h->next == h;
}

static inline void list__insert(struct list_head *n, struct list_head *prev, struct list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}

// Insert n right after h (stack order).
static inline void list_add(struct list_head *n, struct list_head *h)
{
	list__insert(n, h, h->next);
}

// Insert n right before h, i.e. at the tail of the list headed by h (queue order).
static inline void list_add_tail(struct list_head *n, struct list_head *h)
{
	list__insert(n, h->prev, h);
}

// Unlink n and leave it pointing at itself, so list_empty(n) holds afterwards.
static inline void list_del(struct list_head *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	list_init(n);
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_first_entry(h, type, member) list_entry((h)->next, type, member)

#define list_for_each(pos, h) for (pos = (h)->next; pos != (h); pos = pos->next)

#define list_for_each_entry(pos, h, member)                                       \
	for (pos = list_entry((h)->next, __typeof__(*pos), member); &pos->member != (h); \
	     pos = list_entry(pos->member.next, __typeof__(*pos), member))

#define list_for_each_entry_safe(pos, tmp, h, member)                               \
	for (pos = list_entry((h)->next, __typeof__(*pos), member),                   \
	    tmp = list_entry(pos->member.next, __typeof__(*pos), member);               \
	     &pos->member != (h);                                                        \
	     pos = tmp, tmp = list_entry(tmp->member.next, __typeof__(*tmp), member))
