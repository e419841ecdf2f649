// Sleeping locks, for data held across operations that may sleep (file contents across a
// user copy, a directory across a lookup). A mutex records its owner: taking it twice
// from the same task, or releasing someone else's, is a kernel bug and panics.
// Context: process context only (never in interrupt context or under a spinlock).
#pragma once

#include <trapeze/sched.h>
#include <trapeze/spinlock.h>
#include <trapeze/types.h>

struct task;

struct mutex {
	struct spinlock lock;  // protects owner
	struct task *owner;    // NULL when free
	struct wait_queue waiters;
	const char *name;
};

#define MUTEX_INIT(var) { SPINLOCK_INIT(#var), NULL, WAIT_QUEUE_INIT(var.waiters), #var }
#define DEFINE_MUTEX(var) struct mutex var = MUTEX_INIT(var)

void mutex_init(struct mutex *m, const char *name);
void mutex_lock(struct mutex *m);
void mutex_unlock(struct mutex *m);
// True if the current task holds m.
bool mutex_is_held(const struct mutex *m);

#define assert_mutex_held(m)                                                           \
	do {                                                                           \
		if (!mutex_is_held(m))                                                 \
			panic("%s: mutex %s not held", __func__, (m)->name);           \
	} while (0)
