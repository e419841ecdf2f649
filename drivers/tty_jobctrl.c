// Job control for the console tty, as Linux's tty_jobctrl.c: which session the terminal
// belongs to, which of its process groups is in the foreground, and what a read from a
// background group does.
//
// The tty is the controlling terminal of at most one session: the one whose leader called
// TIOCSCTTY, or, for a program that never does, the first to set a foreground group with
// TIOCSPGRP. It stops being that session's when the leader exits (Linux disassociates it
// then). A read by a process of that session outside the foreground group raises SIGTTIN
// for the reader's group, or fails with EIO when the signal would stop nobody.
// Not done: SIGTTOU (background writes with TOSTOP, tcsetpgrp from the background),
// TIOCNOTTY, SIGHUP when the session leader exits.
//
// Lock: tasklist_lock for tasks' groups and sessions; tty->lock (a leaf) for the tty's
// fields, never held together with tasklist_lock.

#include <asm/cpu.h>
#include <trapeze/signal.h>
#include <trapeze/task.h>
#include <trapeze/tty.h>
#include <trapeze/uaccess.h>
#include <uapi/errno.h>

// Whether session sid can still own the tty: its leader exists and has not exited (Linux
// takes the terminal from a session whose leader exits). tasklist_lock held.
static bool tty_session_alive_locked(pid_t sid)
{
	struct task *leader = sid > 0 ? task_find(sid) : NULL;

	return leader && leader->sid == sid && leader->state != TASK_ZOMBIE &&
	       leader->state != TASK_DEAD;
}

// A read by a background group of the tty's session, as Linux's job_control(): SIGTTIN to
// the reader's group and -ERESTARTSYS (the read starts over once the group is continued),
// or -EIO when that would stop nobody, because the reader ignores or blocks SIGTTIN or its
// group is orphaned. 0 when the reader may read. Context: process context.
int tty_read_job_check(struct tty *t)
{
	struct task *me = current;
	uint64_t flags = spin_lock_irqsave(&t->lock);
	pid_t fg = t->pgrp, sid = t->sid, pgrp;
	bool background = false, orphaned = false;
	struct sigaction act;

	spin_unlock_irqrestore(&t->lock, flags);
	if (sid == 0 || fg <= 0)
		return 0;
	flags = spin_lock_irqsave(&tasklist_lock);
	pgrp = me->pgid;
	if (me->sid == sid && pgrp != fg && tty_session_alive_locked(sid)) {
		background = true;
		orphaned = pgrp_is_orphaned_locked(pgrp, sid, NULL);
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	if (!background)
		return 0;
	signal_action_get(me, SIGTTIN, &act);
	if (orphaned || act.sa_handler == SIG_IGN ||
	    (READ_ONCE(me->sig_blocked) & (1ULL << (SIGTTIN - 1))))
		return -EIO;
	signal_send_pgrp(pgrp, SIGTTIN);
	return -ERESTARTSYS;
}

// The session the tty belongs to (0: none), read under its lock.
static pid_t tty_owner(struct tty *t)
{
	uint64_t flags = spin_lock_irqsave(&t->lock);
	pid_t sid = t->sid;

	spin_unlock_irqrestore(&t->lock, flags);
	return sid;
}

// Make the tty session sid's controlling terminal with pgrp in the foreground. Concurrent
// callers: the last one wins.
static void tty_set_owner(struct tty *t, pid_t sid, pid_t pgrp)
{
	uint64_t flags = spin_lock_irqsave(&t->lock);

	t->sid = sid;
	t->pgrp = pgrp;
	spin_unlock_irqrestore(&t->lock, flags);
}

// Does the tty belong to a live session other than sid? tasklist_lock held.
static bool tty_owned_by_other_locked(pid_t owner, pid_t sid)
{
	return owner && owner != sid && tty_session_alive_locked(owner);
}

// TIOCSCTTY: the calling session leader makes the tty its controlling terminal, and its
// group the foreground group. Another live session's terminal is taken only with arg 1
// (Linux lets root steal it so).
long tty_set_ctty(struct tty *t, unsigned long arg)
{
	struct task *me = current;
	pid_t owner = tty_owner(t), sid, pgrp;
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	long err = 0;

	sid = me->sid;
	pgrp = me->pgid;
	if (me->pid != sid)
		err = -EPERM; // only a session leader acquires a terminal
	else if (arg != 1 && tty_owned_by_other_locked(owner, sid))
		err = -EPERM;
	spin_unlock_irqrestore(&tasklist_lock, flags);
	if (!err)
		tty_set_owner(t, sid, pgrp);
	return err;
}

// TIOCSPGRP (tcsetpgrp): pgrp, a group of the caller's session, becomes the foreground
// group. A tty that is no live session's terminal yet becomes the caller's session's, so
// that a shell started without TIOCSCTTY still gets job control; another session's
// terminal is -ENOTTY, as on Linux.
long tty_set_pgrp(struct tty *t, unsigned long arg)
{
	struct task *me = current;
	pid_t owner = tty_owner(t), sid;
	uint64_t flags;
	long err = 0;
	int pgrp;

	if (get_user(pgrp, (int __user *)arg))
		return -EFAULT;
	if (pgrp < 0)
		return -EINVAL;
	flags = spin_lock_irqsave(&tasklist_lock);
	sid = me->sid;
	if (tty_owned_by_other_locked(owner, sid))
		err = -ENOTTY;
	else if (pgrp == 0 || !pgrp_exists_locked(pgrp, 0))
		err = -ESRCH;
	else if (!pgrp_exists_locked(pgrp, sid))
		err = -EPERM;
	spin_unlock_irqrestore(&tasklist_lock, flags);
	if (!err)
		tty_set_owner(t, sid, pgrp);
	return err;
}
