// The kernel's lock order, in one place. A task holding a lock may take only locks that
// come after it in this list. Sleeping locks (mutexes, the mm lock) come before every
// spinlock: nothing may sleep with a spinlock held (might_sleep() reports it).
//
// Sleeping locks (process context only):
//	rename_mutex (fs/rename.c)
//	  -> directory inode i_mutex, parent before child (fs/)
//	  -> file inode i_mutex, then f_pos_lock (fs/)
//	kstack_map_mutex (kernel/task.c): held only around mapping a new kernel stack.
//	  -> mm->lock (mm/mm.c): a user copy made under an i_mutex (read into a user buffer)
//	     may fault. A fault never takes an i_mutex: a file-backed fault takes only the
//	     file's i_pages_lock (a leaf spinlock, inode_operations.get_page), so two tasks
//	     reading files crosswise into mappings of each other's file cannot deadlock.
//
// Spinlocks (any context; interrupts off where interrupt handlers take them too):
//	tasklist_lock (kernel/task.c)
//	  -> task->sig_lock (kernel/signal.c)
//	  -> signal_handlers->lock
//	  -> wait_queue->lock (kernel/sched.c): wake_up() holds it while waking tasks
//	  -> rq_lock (kernel/sched.c): the run queue and sleeper list; innermost of the
//	     scheduler's locks, held across switch_to
//	futex_lock (kernel/futex.c) -> rq_lock: futex wakes call wake_up_task() under it.
//	  Never held while touching user memory (a fault sleeps).
//	fs->lock (a task's root and cwd) -> dcache_lock (fs/): taken while resolving a path
//	  from the cwd.
//	Leaves, never held while taking another lock: zone->lock (mm/page_alloc.c), kmalloc
//	cache locks, kstack_lock, dcache_lock, files->lock, f_lock, the tty's input lock,
//	the serial port locks, random_lock, pipe buffers' state (under i_mutex).
#pragma once
