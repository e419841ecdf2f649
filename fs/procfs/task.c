// Reading other tasks for procfs: snapshots of a task's fields, references to its address
// space, descriptor table and directories, and copies of its memory.
//
// procfs never keeps a task pointer: every file names its task by pid and finds it again
// with task_find() under tasklist_lock, which keeps the task structure from being freed
// (task_free unlinks it under the same lock). Whatever outlives the lock is taken as a
// reference: the mm (mm_get), the descriptor table and the fs context (their counts).
//
// Lock: tasklist_lock (irqsave) around every look at a task; then, with it dropped, the mm
// lock for the address space, files->lock and fs->lock (leaves) for the tables. The mm
// lock is the target's own sleeping lock: reading an address space never switches CR3.
//
// Exit unhooks t->files, t->fs and t->mm under tasklist_lock before it drops them
// (kernel/exit.c release_resources), so a pointer found here under that lock still holds
// the reference exit is about to drop, and taking one more there is safe. exec swaps t->mm
// with only preemption off (kernel/exec.c exec_commit): on one CPU it cannot run while we
// hold tasklist_lock with interrupts off, so the mm seen here still has its reference; SMP
// needs exec to swap it under tasklist_lock too.

#include <trapeze/err.h>
#include <trapeze/kmalloc.h>
#include <trapeze/page_alloc.h>
#include <trapeze/procfs.h>
#include <trapeze/signal.h>
#include <trapeze/string.h>
#include <trapeze/task.h>
#include <trapeze/vm.h>

// --- task fields -----------------------------------------------------------------------------

char proc_state_char(int state)
{
	switch (state) {
	case TASK_RUNNING:
		return 'R';
	case TASK_INTERRUPTIBLE:
		return 'S';
	case TASK_UNINTERRUPTIBLE:
		return 'D';
	case TASK_STOPPED:
		return 'T';
	case TASK_ZOMBIE:
		return 'Z';
	default:
		return 'X';
	}
}

bool proc_task_exists(pid_t pid)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	bool found = task_find(pid) != NULL;

	spin_unlock_irqrestore(&tasklist_lock, flags);
	return found;
}

// Copy t's fields into *pt. tasklist_lock held.
static void proc_task_copy_locked(struct task *t, struct proc_task *pt)
{
	struct fs_context *fs;

	assert_held(&tasklist_lock);
	memset(pt, 0, sizeof(*pt));
	pt->pid = t->pid;
	pt->tgid = t->tgid;
	pt->ppid = t->group_leader->parent ? t->group_leader->parent->tgid : 0;
	pt->pgid = t->pgid;
	pt->sid = t->sid;
	memcpy(pt->comm, t->comm, sizeof(pt->comm));
	pt->comm[sizeof(pt->comm) - 1] = '\0';
	pt->state = READ_ONCE(t->state);
	pt->exit_code = pt->state == TASK_ZOMBIE ? t->exit_code : 0;
	pt->exit_signal = t->exit_signal;
	pt->start_ns = t->start_ns;
	pt->utime_ticks = READ_ONCE(t->utime_ticks);
	pt->stime_ticks = READ_ONCE(t->stime_ticks);
	pt->sig_pending = READ_ONCE(t->sig_pending);
	pt->sig_blocked = READ_ONCE(t->sig_blocked);
	fs = READ_ONCE(t->fs);
	pt->umask = fs && __atomic_load_n(&fs->count, __ATOMIC_RELAXED) > 0 ?
		    (int)READ_ONCE(fs->umask) : -1;
	pt->has_files = READ_ONCE(t->files) != NULL;
	pt->mm = READ_ONCE(t->mm);
	// A task without an address space that is not a zombie has never had one.
	pt->kthread = !pt->mm && pt->state != TASK_ZOMBIE && pt->state != TASK_DEAD;
	if (pt->mm)
		mm_get(pt->mm);
}

// The signals t ignores and catches, as SigIgn and SigCgt show them. tasklist_lock held
// (signal_action_get takes t->sig_lock, which comes after it).
static void proc_task_sigactions_locked(struct task *t, struct proc_task *pt)
{
	for (int sig = 1; sig <= NSIG; sig++) {
		struct sigaction act;

		signal_action_get(t, sig, &act);
		if (act.sa_handler == SIG_IGN)
			pt->sig_ignored |= 1ULL << (sig - 1);
		else if (act.sa_handler != SIG_DFL)
			pt->sig_caught |= 1ULL << (sig - 1);
	}
}

int proc_task_get(pid_t pid, struct proc_task *pt)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	struct task *t = task_find(pid);

	if (t) {
		proc_task_copy_locked(t, pt);
		proc_task_sigactions_locked(t, pt);
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return t ? 0 : -ENOENT;
}

void proc_task_release(struct proc_task *pt)
{
	if (pt->mm)
		mm_put(pt->mm);
	pt->mm = NULL;
}

// Take a reference on a count that may be dropping to zero: only if it is not zero yet.
static bool ref_get_unless_zero(long *count)
{
	long old = __atomic_load_n(count, __ATOMIC_RELAXED);

	while (old > 0) {
		if (__atomic_compare_exchange_n(count, &old, old + 1, false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return true;
	}
	return false;
}

struct files *proc_task_files(pid_t pid)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	struct task *t = task_find(pid);
	struct files *files = t ? READ_ONCE(t->files) : NULL;

	if (files && !ref_get_unless_zero(&files->count))
		files = NULL;
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return files;
}

struct file *proc_task_fd(pid_t pid, int fd)
{
	struct files *files = proc_task_files(pid);
	struct file *f = NULL;

	if (!files)
		return NULL;
	if (fd >= 0 && fd < FILES_MAX) {
		spin_lock(&files->lock);
		f = files->fd[fd];
		if (f)
			file_get(f);
		spin_unlock(&files->lock);
	}
	files_put(files);
	return f;
}

struct dentry *proc_task_dir(pid_t pid, bool root)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	struct task *t = task_find(pid);
	struct fs_context *fs = t ? READ_ONCE(t->fs) : NULL;
	struct dentry *d = NULL;

	if (fs && !ref_get_unless_zero(&fs->count))
		fs = NULL;
	spin_unlock_irqrestore(&tasklist_lock, flags);
	if (!fs)
		return NULL;
	spin_lock(&fs->lock);
	d = dentry_get(root ? fs->root : fs->cwd);
	spin_unlock(&fs->lock);
	fs_context_put(fs);
	return d;
}

// --- address spaces -----------------------------------------------------------------------

struct rss_walk {
	unsigned long present; // pages with a PTE
	unsigned long written; // of those, writable ones (private copies in a private area)
};

static int rss_count_pte(pte_t *pte, uintptr_t va, void *arg)
{
	struct rss_walk *w = arg;

	w->present++;
	if (*pte & PTE_W)
		w->written++;
	return 0;
}

// Count vma's resident pages into file, anon and shmem as Linux's RssFile, RssAnon and
// RssShmem do. A private file area's pages are the file's own until written; a written
// (PTE_W) page is the area's private copy. Copies made copy-on-write again by a fork
// count as file pages: there is no per-page owner to tell them apart.
static void proc_mm_count_vma(struct mm *mm, struct vma *v, struct proc_mm *pm)
{
	struct rss_walk w = { 0, 0 };

	vm_pte_walk(mm->pml4, v->start, v->end, rss_count_pte, &w);
	if (!v->file && (v->flags & VM_SHARED)) {
		pm->rss_shmem += w.present;
	} else if (!v->file) {
		pm->rss_anon += w.present;
	} else if (v->flags & VM_SHARED) {
		pm->rss_file += w.present;
	} else {
		pm->rss_file += w.present - w.written;
		pm->rss_anon += w.written;
	}
}

// The sizes Linux's status and statm report, by the kind of area (mm/mmap.c vm_stat_account).
static void proc_mm_account_vma(struct vma *v, struct proc_mm *pm)
{
	unsigned long pages = (v->end - v->start) >> PAGE_SHIFT;

	pm->total_vm += pages;
	if (v->flags & VM_GROWSDOWN)
		pm->stack_vm += pages;
	else if ((v->flags & (VM_WRITE | VM_SHARED)) == VM_WRITE)
		pm->data_vm += pages;
	else if ((v->flags & (VM_EXEC | VM_WRITE)) == VM_EXEC)
		pm->exec_vm += pages;
}

// The program's areas: its text is the lowest executable mapping of mm->exe_file (what
// exec loaded), its data the first writable mapping of the same file above that. Linux
// records start_code and friends at exec; Trapeze's mm has no such fields, so they are
// found again from the areas. The mm lock is held.
static void proc_mm_note_program(struct mm *mm, struct vma *v, struct proc_mm *pm)
{
	if (!v->file || !mm->exe_file || v->file->f_inode != mm->exe_file->f_inode)
		return;
	if (!pm->start_code && (v->flags & VM_EXEC)) {
		pm->start_code = v->start;
		pm->end_code = v->end;
	} else if (pm->start_code && !pm->start_data && (v->flags & VM_WRITE)) {
		pm->start_data = v->start;
		pm->end_data = v->end;
	}
}

void proc_mm_collect(struct mm *mm, struct proc_mm *pm, bool rss)
{
	struct vma *v;

	memset(pm, 0, sizeof(*pm));
	mm_lock(mm);
	for (v = vma_first(&mm->vmas); v; v = vma_next(&mm->vmas, v)) {
		proc_mm_account_vma(v, pm);
		if (rss)
			proc_mm_count_vma(mm, v, pm);
		proc_mm_note_program(mm, v, pm);
	}
	pm->rss = mm->rss;
	pm->start_brk = mm->start_brk;
	pm->brk = mm->brk;
	pm->start_stack = mm->start_stack;
	pm->arg_start = mm->arg_start;
	pm->arg_end = mm->arg_end;
	pm->env_start = mm->env_start;
	pm->env_end = mm->env_end;
	mm_unlock(mm);
}

size_t proc_mm_read(struct mm *mm, uintptr_t addr, void *buf, size_t n)
{
	size_t done = 0;

	mm_lock(mm);
	while (done < n) {
		uintptr_t va = addr + done;
		size_t off = va & (PAGE_SIZE - 1), c = MIN(PAGE_SIZE - off, n - done);
		pte_t *pte;

		if (va < addr || va >= VM_USER_TOP)
			break;
		pte = pgtable_walk(mm->pml4, va & PAGE_MASK, false);
		if (!pte || (*pte & (PTE_P | PTE_U)) != (PTE_P | PTE_U))
			break;
		memcpy((char *)buf + done, (char *)phys_to_virt(*pte & PTE_ADDR_MASK) + off, c);
		done += c;
	}
	mm_unlock(mm);
	return done;
}
