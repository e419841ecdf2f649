// Sleeping locks. A task that finds the mutex taken sleeps on its wait queue (the
// prepare_to_wait protocol makes the check-then-sleep race-free) and retries when the
// owner releases it; there is no hand-off, so a woken task may lose the race and sleep
// again. Not interruptible by signals: mutexes are held briefly.
#include <trapeze/mutex.h>
#include <trapeze/panic.h>
#include <trapeze/task.h>
#include <asm/cpu.h>

void mutex_init(struct mutex *m, const char *name)
{
	spin_init(&m->lock, name);
	m->owner = NULL;
	m->name = name;
	wait_queue_init(&m->waiters);
}

static bool mutex_trylock(struct mutex *m)
{
	bool got = false;

	spin_lock(&m->lock);
	if (!m->owner) {
		m->owner = current;
		got = true;
	} else if (m->owner == current) {
		panic("mutex %s: recursive lock by task %d", m->name, current->pid);
	}
	spin_unlock(&m->lock);
	return got;
}

void mutex_lock(struct mutex *m)
{
	struct wait_entry we = { LIST_HEAD_INIT(we.link), NULL };

	might_sleep();
	while (!mutex_trylock(m)) {
		prepare_to_wait(&m->waiters, &we);
		// Ordered before the owner check: an unlock that the check misses must find us
		// asleep and wake us.
		set_current_state(TASK_UNINTERRUPTIBLE);
		if (READ_ONCE(m->owner))
			schedule();
		finish_wait(&m->waiters, &we);
	}
}

void mutex_unlock(struct mutex *m)
{
	spin_lock(&m->lock);
	if (m->owner != current)
		panic("mutex %s: unlocked by task %d, not its owner", m->name, current->pid);
	m->owner = NULL;
	spin_unlock(&m->lock);
	wake_up(&m->waiters);
}

bool mutex_is_held(const struct mutex *m)
{
	return READ_ONCE(m->owner) == current;
}
