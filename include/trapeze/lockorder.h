// The kernel's lock order, in one place. A task holding a lock may take only locks that
// come after it in this list. Sleeping locks (mutexes, the mm lock) come before every
// spinlock: nothing may sleep with a spinlock held (might_sleep() reports it).
//
// Sleeping locks (process context only):
//	rename_mutex (fs/rename.c)
//	  -> directory inode i_mutex, parent before child (fs/)
//	  -> file inode i_mutex, then f_pos_lock (fs/)
//	kstack_map_mutex (kernel/task.c): held only around mapping a new kernel stack.
//	mm->lock (mm/mm.c) is taken by page faults, which may come from a user copy made
//	  while an i_mutex is held (read into a user buffer), and a file-backed fault reads the
//	  file under mm->lock. The two orders can only meet in tasks sharing one mm; with no
//	  threads that is a vfork parent, which sleeps until its child execs or exits.
//
// Spinlocks (any context; interrupts off where interrupt handlers take them too):
//	tasklist_lock (kernel/task.c)
//	  -> task->sig_lock (kernel/signal.c)
//	  -> signal_handlers->lock
//	  -> wait_queue->lock (kernel/sched.c): wake_up() holds it while waking tasks
//	  -> rq_lock (kernel/sched.c): the run queue and sleeper list; innermost of the
//	     scheduler's locks, held across switch_to
//	fs->lock (a task's root and cwd) -> dcache_lock (fs/): taken while resolving a path
//	  from the cwd.
//	Leaves, never held while taking another lock: zone->lock (mm/page_alloc.c), kmalloc
//	cache locks, kstack_lock, dcache_lock, files->lock, f_lock, the tty's input lock,
//	the serial port locks, random_lock, pipe buffers' state (under i_mutex).
#pragma once
