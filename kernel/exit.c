// Ending a task and collecting it: exit, exit_group, wait4, waitid. Threads: a thread
// other than the leader is freed at once; the leader reports the process when the last
// thread is gone (docs/threads.md).
//
// An exiting task releases its memory, files and filesystem context, hands its children
// to init, becomes a zombie holding only its wait status, tells its parent (exit_signal,
// usually SIGCHLD) and switches away for good. The parent's wait4 finds the zombie,
// collects the status and frees the rest (kernel stack and task structure) — the zombie
// cannot free the stack it is running on.
//
// Reaping accounts: the zombie's CPU times, faults and peak resident set (with those of its
// own reaped children) join the parent's children totals (getrusage RUSAGE_CHILDREN, times,
// /proc/<pid>/stat cutime/cstime). A child nobody waits for (SIGCHLD ignored) adds nothing,
// as on Linux.
//
// Lock: tasklist_lock protects parent/children links, state changes to ZOMBIE/DEAD, the
// stop/continue reports and the children totals.
#include <trapeze/err.h>
#include <trapeze/exec.h>
#include <trapeze/futex.h>
#include <trapeze/panic.h>
#include <trapeze/printk.h>
#include <trapeze/rlimit.h>
#include <trapeze/sched.h>
#include <trapeze/signal.h>
#include <trapeze/task.h>
#include <trapeze/uaccess.h>
#include <trapeze/vfs.h>
#include <trapeze/vm.h>
#include <asm/arch.h>
#include <asm/cpu.h>
#include <asm/paging.h>
#include <uapi/wait.h>

// Accepted and ignored: children belong to the process, so every thread waits for all of
// them (Linux: do not wait for children of other threads). Not in uapi/wait.h yet.
#ifndef __WNOTHREAD
#define __WNOTHREAD 0x20000000
#endif

// Parents sleep here in wait4/waitid; every child state change wakes them all and each
// re-scans its own children. child_events counts changes so no wake-up is lost.
static DEFINE_WAIT_QUEUE(child_wait);
static unsigned long child_events;

// Tasks that exited with nobody to wait for them (TASK_DEAD), under tasklist_lock. They
// cannot free their own kernel stacks; the next exit or wait frees them.
static LIST_HEAD(reap_list);

// Free the dead tasks on reap_list. A task there has switched away for good (it is never
// runnable again), so its stack is no longer in use. Context: process context.
static void reap_deferred(void)
{
	for (;;) {
		struct task *t = NULL;
		uint64_t flags = spin_lock_irqsave(&tasklist_lock);

		if (!list_empty(&reap_list)) {
			t = list_first_entry(&reap_list, struct task, sibling_link);
			if (t == current) {
				t = NULL;
			} else {
				list_del(&t->sibling_link);
			}
		}
		spin_unlock_irqrestore(&tasklist_lock, flags);
		if (!t)
			return;
		task_free(t);
	}
}

void task_notify_parent_waiters(void)
{
	__atomic_add_fetch(&child_events, 1, __ATOMIC_SEQ_CST);
	wake_up(&child_wait);
}

// The status a shell shows for a wait status: the exit code, or 128 + signal.
static int shell_status(int wait_status)
{
	if ((wait_status & 0x7f) == 0)
		return (wait_status >> 8) & 0xff;
	return 128 + (wait_status & 0x7f);
}

// Give t's children to init (tasklist_lock held). Zombies among them are init's to reap.
// As on Linux, they will tell init of their exit with SIGCHLD, whatever exit signal their
// clone() chose: init must not receive a signal of some other meaning (it powers off on
// SIGUSR1) from a process that merely outlived its parent. A process group the exit
// leaves orphaned with a stopped member gets SIGHUP and SIGCONT (kernel/pgrp.c).
static void reparent_children_locked(struct task *t)
{
	struct task *c, *tmp;

	list_for_each_entry_safe(c, tmp, &t->children, sibling_link) {
		list_del(&c->sibling_link);
		c->parent = init_task;
		c->exit_signal = SIGCHLD;
		list_add_tail(&c->sibling_link, &init_task->children);
		pgrp_reparent_orphans_locked(t, c);
	}
	pgrp_exit_orphans_locked(t);
}

static void release_resources(struct task *t)
{
	struct mm *mm = t->mm;

	if (t->clear_child_tid && mm) {
		// CLONE_CHILD_CLEARTID: tell a thread library the task is gone (pthread_join
		// sleeps on this word).
		if (!put_user(0, (int __user *)t->clear_child_tid))
			futex_wake(mm, t->clear_child_tid, 1);
	}
	struct files *files;
	struct fs_context *fs;
	uint64_t flags;

	vfork_release(t);
	// Readers of another task's files, fs and mm (procfs) take tasklist_lock: unhook the
	// pointers under it first, so nobody can pick them up while they are being freed.
	flags = spin_lock_irqsave(&tasklist_lock);
	files = t->files;
	fs = t->fs;
	t->files = NULL;
	t->fs = NULL;
	t->mm = NULL;
	spin_unlock_irqrestore(&tasklist_lock, flags);
	if (files)
		files_put(files);
	if (fs)
		fs_context_put(fs);
	if (mm)
		mm_put(mm);
}

bool thread_group_empty_locked(const struct task *leader, const struct task *ignore)
{
	struct task *t;

	assert_held(&tasklist_lock);
	list_for_each_entry(t, &task_list, all_link) {
		if (t->tgid == leader->tgid && t != ignore && t->state != TASK_ZOMBIE &&
		    t->state != TASK_DEAD)
			return false;
	}
	return true;
}

// The last thread of leader's group is gone (tasklist_lock held): the process is over.
// Its children go to init and its parent hears of it, with the group's exit status if
// exit_group or a fatal signal ended it.
static void thread_group_report_locked(struct task *leader)
{
	assert_held(&tasklist_lock);
	reparent_children_locked(leader);
	if (leader->group_exiting)
		leader->exit_code = leader->group_exit_status;
	// A parent that ignores SIGCHLD (or set SA_NOCLDWAIT) never waits: nobody will reap
	// the leader, so it goes on the deferred list instead of staying a zombie.
	if (leader->parent && signal_notify_parent_exit_locked(leader)) {
		list_del(&leader->sibling_link);
		leader->state = TASK_DEAD;
		list_add_tail(&leader->sibling_link, &reap_list);
	}
}

void do_exit(int wait_status)
{
	struct task *t = current;
	struct task *leader = t->group_leader;
	uint64_t flags;

	might_sleep();
	if (t == init_task) {
		pr_notice("trapeze: init exited with status %d\n", shell_status(wait_status));
		machine_power_off(shell_status(wait_status));
	}
	signal_task_exit();
	release_resources(t);
	reap_deferred();

	// From the moment the parent (or, for a thread, any exiting task) can free us until
	// our last switch, nothing may switch us out involuntarily.
	preempt_disable();
	flags = spin_lock_irqsave(&tasklist_lock);
	t->exit_code = wait_status;
	if (t != leader) {
		// A thread is nobody's child: it is freed at once, by the next exit or wait.
		t->state = TASK_DEAD;
		list_add_tail(&t->sibling_link, &reap_list);
		if (leader->state == TASK_ZOMBIE && thread_group_empty_locked(leader, t))
			thread_group_report_locked(leader);
	} else {
		// The leader stands for the process: a zombie that its parent sees only once
		// every other thread is gone.
		t->state = TASK_ZOMBIE;
		if (thread_group_empty_locked(t, t))
			thread_group_report_locked(t);
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	task_notify_parent_waiters();
	schedule_final();
}

// SIGKILL every other live thread of t's group (tasklist_lock held).
static void thread_group_kill_locked(struct task *t)
{
	struct task *o;

	assert_held(&tasklist_lock);
	list_for_each_entry(o, &task_list, all_link) {
		if (o->tgid == t->tgid && o != t && o->state != TASK_ZOMBIE && o->state != TASK_DEAD)
			signal_send(o, SIGKILL);
	}
}

void do_group_exit(int wait_status)
{
	struct task *t = current, *leader = t->group_leader;
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);

	// A thread killed by an execve in another thread ends alone (thread_group_kill_others).
	if (!leader->group_exec || leader->group_exec == t) {
		if (!leader->group_exiting) {
			leader->group_exiting = true;
			leader->group_exit_status = wait_status;
		}
		thread_group_kill_locked(t);
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	do_exit(wait_status);
}

int thread_group_kill_others(void)
{
	struct task *t = current, *leader = t->group_leader;
	uint64_t flags;
	bool alone;

	flags = spin_lock_irqsave(&tasklist_lock);
	alone = thread_group_empty_locked(leader, t);
	if (!alone) {
		leader->group_exec = t;
		thread_group_kill_locked(t);
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	while (!alone) {
		if (READ_ONCE(t->fatal_signal) || (READ_ONCE(t->sig_pending) & SIG_BIT(SIGKILL)))
			break;
		// Not interruptible: only the others' exits (or our own SIGKILL) end this wait.
		set_current_state(TASK_UNINTERRUPTIBLE);
		schedule_timeout(sched_deadline_ns(1000000));
		flags = spin_lock_irqsave(&tasklist_lock);
		alone = thread_group_empty_locked(leader, t);
		spin_unlock_irqrestore(&tasklist_lock, flags);
	}
	flags = spin_lock_irqsave(&tasklist_lock);
	if (leader->group_exec == t)
		leader->group_exec = NULL;
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return alone ? 0 : -EINTR;
}

long sys_exit(int code)
{
	do_exit((code & 0xff) << 8);
}

// Every thread of the process ends; the process reports this status.
long sys_exit_group(int code)
{
	do_group_exit((code & 0xff) << 8);
}

// Whether child c matches wait4's pid selector: -1 any, 0 our group, < -1 group -pid,
// > 0 that pid.
static bool wait_matches(const struct task *c, pid_t pid)
{
	if (pid == -1)
		return true;
	if (pid == 0)
		return c->pgid == current->pgid;
	if (pid < 0)
		return c->pgid == -pid;
	return c->pid == pid;
}

struct wait_result {
	pid_t pid;
	int status; // Linux wait status
	int code;   // CLD_* for waitid
	uid_t uid;
	struct task_usage usage; // the child's and its reaped children's (Linux RUSAGE_BOTH)
};

// Collect one child report (tasklist_lock held). Returns the child's pid, 0 when no matching
// child has anything to report, -ECHILD when there is no matching child at all.
// A reaped zombie is unlinked and returned through *reaped for freeing outside the lock;
// its usage (and its children's) joins ours, as Linux's cutime/cstime.
static pid_t wait_collect_locked(pid_t pid, int options, struct wait_result *r,
				 struct task **reaped)
{
	struct task *c;
	bool any = false;

	list_for_each_entry(c, &current->group_leader->children, sibling_link) {
		if (!wait_matches(c, pid))
			continue;
		any = true;
		r->pid = c->pid;
		r->uid = 0;
		rusage_collect_locked(c, RUSAGE_BOTH, &r->usage);
		if (c->state == TASK_ZOMBIE && (options & WEXITED) &&
		    thread_group_empty_locked(c, c)) {
			r->status = c->exit_code;
			r->code = (c->exit_code & 0x7f) == 0 ? CLD_EXITED :
				  (c->exit_code & 0x80) ? CLD_DUMPED : CLD_KILLED;
			if (!(options & WNOWAIT)) {
				rusage_reap_locked(current, c);
				list_del(&c->sibling_link);
				c->state = TASK_DEAD;
				*reaped = c;
			}
			return c->pid;
		}
		if (c->stop_report && (options & WUNTRACED)) {
			r->status = (c->stop_signal << 8) | 0x7f;
			r->code = CLD_STOPPED;
			if (!(options & WNOWAIT))
				c->stop_report = false;
			return c->pid;
		}
		if (c->continue_report && (options & WCONTINUED)) {
			r->status = 0xffff;
			r->code = CLD_CONTINUED;
			if (!(options & WNOWAIT))
				c->continue_report = false;
			return c->pid;
		}
	}
	return any ? 0 : -ECHILD;
}

// The wait loop shared by wait4 and waitid. options use WEXITED/WUNTRACED(=WSTOPPED)/...
static pid_t do_wait(pid_t pid, int options, struct wait_result *r)
{
	reap_deferred();
	for (;;) {
		unsigned long seen = __atomic_load_n(&child_events, __ATOMIC_SEQ_CST);
		struct task *reaped = NULL;
		uint64_t flags = spin_lock_irqsave(&tasklist_lock);
		pid_t found = wait_collect_locked(pid, options, r, &reaped);
		int err;

		spin_unlock_irqrestore(&tasklist_lock, flags);
		if (reaped)
			task_free(reaped);
		if (found != 0 || (options & WNOHANG))
			return found;
		err = wait_event_interruptible(child_wait,
					       __atomic_load_n(&child_events, __ATOMIC_SEQ_CST) !=
						       seen);
		if (err)
			return err;
	}
}

long sys_wait4(pid_t pid, int __user *status, int options, void __user *rusage)
{
	struct wait_result r;
	pid_t found;

	if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE))
		return -EINVAL;
	if (pid == INT32_MIN)
		return -ESRCH;
	found = do_wait(pid, (options & (WNOHANG | WUNTRACED | WCONTINUED)) | WEXITED, &r);
	if (found <= 0)
		return found;
	if (status && put_user(r.status, status))
		return -EFAULT;
	if (rusage && rusage_copy_to_user(rusage, &r.usage))
		return -EFAULT;
	return found;
}

long sys_waitid(int idtype, int id, struct linux_siginfo __user *infop, int options,
		void __user *rusage)
{
	struct wait_result r;
	struct linux_siginfo info = { 0 };
	pid_t pid, found;

	if (options & ~(WNOHANG | WEXITED | WSTOPPED | WCONTINUED | WNOWAIT | __WNOTHREAD | __WALL |
			__WCLONE))
		return -EINVAL;
	if (!(options & (WEXITED | WSTOPPED | WCONTINUED)))
		return -EINVAL;
	switch (idtype) {
	case P_ALL:
		pid = -1;
		break;
	case P_PID:
		if (id <= 0)
			return -EINVAL;
		pid = id;
		break;
	case P_PGID:
		if (id < 0)
			return -EINVAL;
		pid = id ? -id : 0;
		break;
	default:
		return -EINVAL;
	}
	found = do_wait(pid, options, &r);
	if (found < 0)
		return found;
	if (found > 0) {
		info.si_signo = SIGCHLD;
		info.si_code = r.code;
		info.si_pid = r.pid;
		info.si_uid = r.uid;
		info.si_status = r.code == CLD_EXITED ? (r.status >> 8) & 0xff :
				 r.code == CLD_STOPPED ? r.status >> 8 :
				 r.code == CLD_CONTINUED ? SIGCONT : r.status & 0x7f;
	}
	// Linux zeroes the siginfo when WNOHANG finds nothing.
	if (infop && copy_to_user(infop, &info, sizeof(info)))
		return -EFAULT;
	// Linux leaves the rusage alone when WNOHANG finds nothing.
	if (found > 0 && rusage && rusage_copy_to_user(rusage, &r.usage))
		return -EFAULT;
	return 0;
}
