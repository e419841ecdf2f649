// Spinlocks. spin_lock() disables preemption; spin_lock_irqsave() also disables local
// interrupts, for data shared with interrupt handlers. A lock records its owner CPU and
// panics on recursion and on unlock by a non-owner. Lock order: include/trapeze/lockorder.h.
#pragma once

#include <trapeze/panic.h>
#include <trapeze/types.h>

struct spinlock {
	volatile uint32_t locked;
	int owner_cpu; // -1 when free
	const char *name;
};

#define SPINLOCK_INIT(n) { .locked = 0, .owner_cpu = -1, .name = (n) }
#define DEFINE_SPINLOCK(var) struct spinlock var = SPINLOCK_INIT(#var)

void spin_init(struct spinlock *lock, const char *name);
void spin_lock(struct spinlock *lock);
void spin_unlock(struct spinlock *lock);
// Returns the interrupt flag state to hand back to spin_unlock_irqrestore().
uint64_t spin_lock_irqsave(struct spinlock *lock);
void spin_unlock_irqrestore(struct spinlock *lock, uint64_t flags);
bool spin_is_held(const struct spinlock *lock);

// A function that requires the caller to hold lock opens with this.
#define assert_held(lock)                                                              \
	do {                                                                           \
		if (!spin_is_held(lock))                                               \
			panic("%s: lock %s not held", __func__, (lock)->name);         \
	} while (0)
