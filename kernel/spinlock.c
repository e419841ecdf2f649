// Spinlocks and the preemption counter. Taking a spinlock raises the current task's
// preempt_count, so the holder cannot be switched out (which would deadlock a CPU that
// then spins on the lock); irqsave variants also mask interrupts for data that interrupt
// handlers touch. The owner CPU is recorded to catch recursion, the classic self-deadlock.
#include <trapeze/panic.h>
#include <trapeze/sched.h>
#include <trapeze/spinlock.h>
#include <trapeze/task.h>
#include <asm/cpu.h>
#include <asm/x86.h>

void spin_init(struct spinlock *lock, const char *name)
{
	lock->locked = 0;
	lock->owner_cpu = -1;
	lock->name = name;
}

static void spin_acquire(struct spinlock *lock)
{
	int cpu = this_cpu()->id;

	if (lock->locked && lock->owner_cpu == cpu && !panic_in_progress)
		panic("spinlock %s: recursive acquisition on cpu %d", lock->name, cpu);
	while (__atomic_exchange_n(&lock->locked, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
	lock->owner_cpu = cpu;
}

static void spin_release(struct spinlock *lock)
{
	if (!lock->locked || lock->owner_cpu != this_cpu()->id)
		panic("spinlock %s: released by a non-owner", lock->name);
	lock->owner_cpu = -1;
	__atomic_store_n(&lock->locked, 0, __ATOMIC_RELEASE);
}

void spin_lock(struct spinlock *lock)
{
	preempt_disable();
	spin_acquire(lock);
}

void spin_unlock(struct spinlock *lock)
{
	spin_release(lock);
	preempt_enable();
}

uint64_t spin_lock_irqsave(struct spinlock *lock)
{
	uint64_t flags = local_irq_save();

	preempt_disable();
	spin_acquire(lock);
	return flags;
}

void spin_unlock_irqrestore(struct spinlock *lock, uint64_t flags)
{
	spin_release(lock);
	current->preempt_count--;
	local_irq_restore(flags);
	// A reschedule requested while we held the lock is honoured now.
	if (current->preempt_count == 0 && (flags & X86_EFLAGS_IF))
		cond_resched();
}

bool spin_is_held(const struct spinlock *lock)
{
	return lock->locked && lock->owner_cpu == this_cpu()->id;
}

void preempt_disable(void)
{
	current->preempt_count++;
	barrier();
}

void preempt_enable(void)
{
	barrier();
	if (--current->preempt_count == 0 && irqs_enabled())
		cond_resched();
}
