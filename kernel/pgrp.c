// Process groups and sessions: setpgid, getpgid, getpgrp, setsid, getsid, and signals to a
// whole group (kill with pid <= 0, the tty's ^C).
//
// A process group is not an object here: it is the set of tasks whose pgid is equal, and
// it exists while one task (zombies included, as on Linux) carries that pgid. Likewise
// a session is the set of tasks with one sid; its leader is the task whose pid is the sid.
// Every task starts in its parent's group and session (fork) and init in its own.
//
// Lock: tasklist_lock protects pgid and sid of every task (task.h).
#include <trapeze/signal.h>
#include <trapeze/task.h>
#include <asm/cpu.h>
#include <uapi/errno.h>

bool pgrp_exists_locked(pid_t pgrp, pid_t sid)
{
	struct task *t;

	assert_held(&tasklist_lock);
	list_for_each_entry(t, &task_list, all_link)
		if (t->state != TASK_DEAD && t->pgid == pgrp && (!sid || t->sid == sid))
			return true;
	return false;
}

int pgrp_signal(pid_t pgrp, int sig, const struct signal_info *info)
{
	struct task *t;
	bool found = false;
	uint64_t flags;

	if (pgrp <= 0)
		return -ESRCH; // kernel tasks have pgid 0 and take no signals
	flags = spin_lock_irqsave(&tasklist_lock);
	list_for_each_entry(t, &task_list, all_link) {
		if (t->state == TASK_DEAD || t->pgid != pgrp || t != t->group_leader)
			continue;
		found = true;
		if (sig)
			signal_send_info(signal_process_target_locked(t, sig), sig, info);
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return found ? 0 : -ESRCH;
}

bool pgrp_is_orphaned_locked(pid_t pgrp, pid_t sid, const struct task *ignore)
{
	struct task *t;

	assert_held(&tasklist_lock);
	list_for_each_entry(t, &task_list, all_link) {
		if (t == ignore || t->pgid != pgrp || t->state == TASK_ZOMBIE ||
		    t->state == TASK_DEAD)
			continue;
		if (t->parent && t->parent != ignore && t->parent->pgid != pgrp &&
		    t->parent->sid == sid)
			return false;
	}
	return true;
}

static bool pgrp_has_stopped_locked(pid_t pgrp)
{
	struct task *t;

	list_for_each_entry(t, &task_list, all_link)
		if (t->pgid == pgrp && t->state != TASK_ZOMBIE && t->state != TASK_DEAD &&
		    signal_task_stopped(t))
			return true;
	return false;
}

// POSIX: a process group that an exit leaves orphaned while some member is stopped would
// stay stopped forever (no job-control shell can reach it), so each member gets SIGHUP and
// then SIGCONT. Called by the exiting task for its own group and for each child's group,
// with the exiting task as ignore (it no longer links anyone). tasklist_lock held.
static void pgrp_hangup_if_orphaned_locked(pid_t pgrp, pid_t sid, const struct task *ignore)
{
	struct signal_info info = { .code = SI_KERNEL };
	struct task *t;

	if (pgrp <= 0 || !pgrp_has_stopped_locked(pgrp) ||
	    !pgrp_is_orphaned_locked(pgrp, sid, ignore))
		return;
	list_for_each_entry(t, &task_list, all_link) {
		if (t->pgid != pgrp || t->state == TASK_ZOMBIE || t->state == TASK_DEAD)
			continue;
		signal_send_info(t, SIGHUP, &info);
		signal_send_info(t, SIGCONT, &info);
	}
}

void pgrp_exit_orphans_locked(struct task *dying)
{
	assert_held(&tasklist_lock);
	if (dying->parent && dying->parent->pgid != dying->pgid &&
	    dying->parent->sid == dying->sid)
		pgrp_hangup_if_orphaned_locked(dying->pgid, dying->sid, dying);
}

void pgrp_reparent_orphans_locked(struct task *dying, struct task *child)
{
	assert_held(&tasklist_lock);
	if (child->pgid != dying->pgid && child->sid == dying->sid)
		pgrp_hangup_if_orphaned_locked(child->pgid, child->sid, dying);
}

void signal_send_pgrp(int pgrp, int sig)
{
	struct signal_info info = { .code = SI_KERNEL };

	if (sig >= 1 && sig <= NSIG)
		pgrp_signal(pgrp, sig, &info);
}

// The process pid names for getpgid/getsid/setpgid (its thread-group leader): the
// caller's for 0. Caller holds tasklist_lock. NULL if there is none.
static struct task *pgrp_task_locked(pid_t pid)
{
	struct task *t;

	if (pid == 0)
		return current->group_leader;
	if (pid < 0)
		return NULL;
	t = task_find(pid);
	return t ? t->group_leader : NULL;
}

// Move every thread of leader's process into group pgid of session sid (tasklist_lock
// held): the group and session belong to the process.
static void pgrp_move_process_locked(struct task *leader, pid_t pgid, pid_t sid)
{
	struct task *t;

	assert_held(&tasklist_lock);
	list_for_each_entry(t, &task_list, all_link) {
		if (t->tgid == leader->tgid && t->state != TASK_DEAD) {
			t->pgid = pgid;
			t->sid = sid;
		}
	}
}

// setpgid's checks (Linux rules; the "child has already exec'd" EACCES is not tracked):
// the target is the caller or one of its children in the caller's session, is not a
// session leader, and a group it joins must already exist in the session.
static int pgrp_set_locked(struct task *p, pid_t pgid)
{
	struct task *self = current->group_leader;

	if (p != self && p->parent != self)
		return -ESRCH;
	if (p->sid != self->sid)
		return -EPERM;
	if (p->sid == p->pid)
		return -EPERM;
	if (pgid != p->pid && !pgrp_exists_locked(pgid, self->sid))
		return -EPERM;
	pgrp_move_process_locked(p, pgid, p->sid);
	return 0;
}

long sys_setpgid(pid_t pid, pid_t pgid)
{
	struct task *p;
	uint64_t flags;
	int err;

	if (pid < 0 || pgid < 0)
		return -EINVAL;
	flags = spin_lock_irqsave(&tasklist_lock);
	p = pgrp_task_locked(pid);
	if (!p || p->state == TASK_ZOMBIE)
		err = -ESRCH;
	else
		err = pgrp_set_locked(p, pgid ? pgid : p->pid);
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return err;
}

long sys_getpgid(pid_t pid)
{
	struct task *p;
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	long ret;

	p = pgrp_task_locked(pid);
	ret = p ? p->pgid : -ESRCH;
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return ret;
}

long sys_getpgrp(void)
{
	return sys_getpgid(0);
}

long sys_getsid(pid_t pid)
{
	struct task *p;
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	long ret;

	p = pgrp_task_locked(pid);
	ret = p ? p->sid : -ESRCH;
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return ret;
}

// A new session and group led by the caller. A group leader cannot do this: its group
// would then span two sessions.
long sys_setsid(void)
{
	struct task *self = current->group_leader;
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	long ret;

	if (pgrp_exists_locked(self->pid, 0)) {
		ret = -EPERM;
	} else {
		pgrp_move_process_locked(self, self->pid, self->pid);
		ret = self->sid;
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return ret;
}
