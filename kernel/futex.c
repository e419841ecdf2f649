// futex(2): the sleep/wake primitive thread libraries build mutexes, condition variables
// and pthread_join on.
//
// A waiter is a struct futex_waiter on the stack of the sleeping task, on one of
// FUTEX_HASH_SIZE lists chosen by its key. The key is (mm, user address) for private and
// shared futexes alike: a "shared" futex in memory that two processes map (MAP_SHARED)
// does not match across them (a documented limit, docs/threads.md); inside one process
// it behaves as on Linux.
//
// No lost wake-ups: a waiter is queued before it reads the futex word, and the waker
// changes the word before it calls FUTEX_WAKE, so either the waiter sees the new value
// (EAGAIN) or the waker finds it queued. A woken waiter is taken off the list by the
// waker (w->woken), so a later wake never counts it twice.
//
// Lock: futex_lock (a leaf before rq_lock, include/trapeze/lockorder.h) protects every
// list and every waiter's key and woken flag. User memory is never touched under it.
#include <trapeze/futex.h>
#include <trapeze/list.h>
#include <trapeze/sched.h>
#include <trapeze/spinlock.h>
#include <trapeze/task.h>
#include <trapeze/uaccess.h>
#include <trapeze/vm.h>
#include <asm/apic.h>
#include <asm/cpu.h>
#include <uapi/errno.h>

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_CMD_MASK (~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))
#define FUTEX_BITSET_MATCH_ANY 0xffffffffu

#define FUTEX_HASH_SIZE 64
#define NSEC_PER_SEC 1000000000ULL

struct futex_key {
	const struct mm *mm;
	uintptr_t addr;
};

struct futex_waiter {
	struct list_head link; // on futex_hash[hash(key)], under futex_lock
	struct futex_key key;
	uint32_t bitset;
	struct task *task;
	bool woken;            // taken off the list by a waker
};

struct futex_timespec {
	int64_t tv_sec;
	int64_t tv_nsec;
};

static DEFINE_SPINLOCK(futex_lock);
static struct list_head futex_hash[FUTEX_HASH_SIZE]; // under futex_lock
static bool futex_hash_ready;                         // under futex_lock

static struct list_head *futex_bucket_locked(const struct futex_key *k)
{
	uint64_t h = (k->addr >> 2) ^ ((uintptr_t)k->mm >> 6);

	assert_held(&futex_lock);
	if (!futex_hash_ready) {
		for (int i = 0; i < FUTEX_HASH_SIZE; i++)
			list_init(&futex_hash[i]);
		futex_hash_ready = true;
	}
	h ^= h >> 17;
	return &futex_hash[(h * 0x9e3779b97f4a7c15ULL) >> 58];
}

static bool futex_key_eq(const struct futex_key *a, const struct futex_key *b)
{
	return a->mm == b->mm && a->addr == b->addr;
}

// Wake up to nr waiters on key whose bitset meets bitset. Returns how many woke.
static int futex_wake_key(const struct futex_key *key, int nr, uint32_t bitset)
{
	struct futex_waiter *w, *tmp;
	struct list_head *b;
	uint64_t flags;
	int woke = 0;

	flags = spin_lock_irqsave(&futex_lock);
	b = futex_bucket_locked(key);
	list_for_each_entry_safe(w, tmp, b, link) {
		if (woke >= nr)
			break;
		if (!futex_key_eq(&w->key, key) || !(w->bitset & bitset))
			continue;
		list_del(&w->link);
		list_init(&w->link);
		WRITE_ONCE(w->woken, true);
		wake_up_task(w->task);
		woke++;
	}
	spin_unlock_irqrestore(&futex_lock, flags);
	return woke;
}

int futex_wake(struct mm *mm, uintptr_t uaddr, int nr)
{
	struct futex_key key = { mm, uaddr };

	return futex_wake_key(&key, nr, FUTEX_BITSET_MATCH_ANY);
}

// Take w off its list unless a waker already did. Returns true if it had been woken.
static bool futex_dequeue(struct futex_waiter *w)
{
	uint64_t flags = spin_lock_irqsave(&futex_lock);
	bool woken = w->woken;

	if (!woken)
		list_del(&w->link);
	spin_unlock_irqrestore(&futex_lock, flags);
	return woken;
}

// Sleep on key while *uaddr == val, until woken, a signal, or time_ns() reaches deadline
// (0: none). 0, -EAGAIN, -EFAULT, -ETIMEDOUT, or -ERESTARTSYS / -EINTR (timed) on a signal.
static int futex_wait(const struct futex_key *key, uint32_t __user *uaddr, uint32_t val,
		      uint32_t bitset, uint64_t deadline)
{
	struct futex_waiter w = { .key = *key, .bitset = bitset, .task = current };
	uint64_t flags;
	uint32_t cur;
	int ret = 0;

	flags = spin_lock_irqsave(&futex_lock);
	list_add_tail(&w.link, futex_bucket_locked(key));
	spin_unlock_irqrestore(&futex_lock, flags);
	if (get_user(cur, uaddr)) {
		ret = -EFAULT;
		goto dequeue;
	}
	if (cur != val) {
		ret = -EAGAIN;
		goto dequeue;
	}
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (READ_ONCE(w.woken))
			break;
		if (signal_pending_current()) {
			ret = deadline ? -EINTR : -ERESTARTSYS;
			break;
		}
		if (!deadline) {
			schedule();
		} else if (schedule_timeout(deadline)) {
			ret = -ETIMEDOUT;
			break;
		}
	}
	set_current_state(TASK_RUNNING);
dequeue:
	// A wake that raced with the timeout or the signal wins: the waiter consumed it.
	if (futex_dequeue(&w))
		return 0;
	return ret;
}

// FUTEX_REQUEUE / FUTEX_CMP_REQUEUE: wake nr_wake waiters on key1, move up to nr_requeue
// of the rest to key2. Returns the number woken plus requeued.
static long futex_requeue(const struct futex_key *key1, const struct futex_key *key2,
			  int nr_wake, int nr_requeue)
{
	struct futex_waiter *w, *tmp;
	struct list_head *b1, *b2;
	uint64_t flags;
	long done = 0;
	int woke = 0, moved = 0;

	flags = spin_lock_irqsave(&futex_lock);
	b1 = futex_bucket_locked(key1);
	b2 = futex_bucket_locked(key2);
	list_for_each_entry_safe(w, tmp, b1, link) {
		if (!futex_key_eq(&w->key, key1))
			continue;
		if (woke < nr_wake) {
			list_del(&w->link);
			list_init(&w->link);
			WRITE_ONCE(w->woken, true);
			wake_up_task(w->task);
			woke++;
		} else if (moved < nr_requeue) {
			list_del(&w->link);
			w->key = *key2;
			list_add_tail(&w->link, b2);
			moved++;
		} else {
			break;
		}
	}
	spin_unlock_irqrestore(&futex_lock, flags);
	done = woke + moved;
	return done;
}

// A user timespec as a time_ns() deadline: relative (FUTEX_WAIT) or absolute on the
// chosen clock (FUTEX_WAIT_BITSET). 0 when there is none, or -errno.
static int64_t futex_deadline(const struct futex_timespec __user *uts, bool absolute,
			      bool realtime)
{
	struct futex_timespec ts;
	uint64_t ns, now;

	if (!uts)
		return 0;
	if (copy_from_user(&ts, uts, sizeof(ts)))
		return -EFAULT;
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= (int64_t)NSEC_PER_SEC)
		return -EINVAL;
	if ((uint64_t)ts.tv_sec > UINT64_MAX / NSEC_PER_SEC - 1)
		return (int64_t)(UINT64_MAX >> 1);
	ns = (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
	if (!absolute) {
		uint64_t d = sched_deadline_ns(ns);

		return d > (UINT64_MAX >> 1) ? (int64_t)(UINT64_MAX >> 1) : (int64_t)d;
	}
	if (realtime) {
		// Convert to the monotonic clock: the wait ends when realtime reaches ns.
		now = time_realtime_ns();
		ns = ns > now ? ns - now : 0;
		ns = sched_deadline_ns(ns);
	}
	if (ns == 0)
		ns = 1; // already past (0 would mean "no deadline")
	return ns > (UINT64_MAX >> 1) ? (int64_t)(UINT64_MAX >> 1) : (int64_t)ns;
}

long sys_futex(uint32_t __user *uaddr, int op, uint32_t val, uintptr_t utime,
	       uint32_t __user *uaddr2, uint32_t val3)
{
	struct futex_key key = { current->mm, (uintptr_t)uaddr };
	struct futex_key key2 = { current->mm, (uintptr_t)uaddr2 };
	int cmd = op & FUTEX_CMD_MASK;
	bool realtime = op & FUTEX_CLOCK_REALTIME;
	int64_t deadline;
	uint32_t cur;

	if ((uintptr_t)uaddr & 3)
		return -EINVAL;
	if (realtime && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_WAIT)
		return -ENOSYS;
	switch (cmd) {
	case FUTEX_WAIT:
		val3 = FUTEX_BITSET_MATCH_ANY;
		// fallthrough
	case FUTEX_WAIT_BITSET:
		if (!val3)
			return -EINVAL;
		deadline = futex_deadline((const struct futex_timespec __user *)utime,
					  cmd == FUTEX_WAIT_BITSET, realtime);
		if (deadline < 0)
			return deadline;
		return futex_wait(&key, uaddr, val, val3, (uint64_t)deadline);
	case FUTEX_WAKE:
		val3 = FUTEX_BITSET_MATCH_ANY;
		// fallthrough
	case FUTEX_WAKE_BITSET:
		if (!val3)
			return -EINVAL;
		return futex_wake_key(&key, (int)(val > INT32_MAX ? INT32_MAX : val), val3);
	case FUTEX_CMP_REQUEUE:
		if (get_user(cur, uaddr))
			return -EFAULT;
		if (cur != val3)
			return -EAGAIN;
		// fallthrough
	case FUTEX_REQUEUE:
		if ((uintptr_t)uaddr2 & 3)
			return -EINVAL;
		if ((int)val < 0 || (int64_t)utime < 0)
			return -EINVAL;
		return futex_requeue(&key, &key2, (int)val,
				     utime > INT32_MAX ? INT32_MAX : (int)utime);
	default:
		return -ENOSYS;
	}
}
