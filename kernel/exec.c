// execve: replace the current program with a static x86-64 ELF executable (ET_EXEC, or
// ET_DYN static-PIE loaded at ELF_ET_DYN_BASE), or run a "#!" script's interpreter.
//
// Everything that can fail happens before the point of no return, on a new mm built off
// to the side: the file is opened and checked, the segments become demand-paged VMAs,
// and the argument and environment strings are copied from the caller's memory straight
// onto the new stack (through the new mm's pages, in the kernel's direct map). Only then
// does the task switch to the new mm (exec_commit), so a failed exec returns its errno to
// an untouched caller.
//
// The program's file cannot be written while it runs (ETXTBSY, as on Linux): exec denies
// writes from the moment it opens the file, and the new mm keeps that deny with its
// exe_file (/proc/<pid>/exe) until the last user of the mm exits or execs again.
//
// The initial stack, from STACK_TOP down (Linux x86-64 ABI; rsp points at argc and is
// 16-byte aligned there):
//	16 random bytes (AT_RANDOM)      "x86_64" (AT_PLATFORM)
//	envp strings, argv strings (argv[0] lowest)     the path given to execve (AT_EXECFN)
//	padding to 16 bytes
//	auxv pairs up to AT_NULL    envp[] NULL    argv[] NULL    argc  <- rsp
//
// Context: process context of the calling task; sleeps (file I/O, the mm lock).
#include <trapeze/elf.h>
#include <trapeze/err.h>
#include <trapeze/exec.h>
#include <trapeze/fs.h>
#include <trapeze/kmalloc.h>
#include <trapeze/random.h>
#include <trapeze/rlimit.h>
#include <trapeze/signal.h>
#include <trapeze/string.h>
#include <trapeze/syscall.h>
#include <trapeze/task.h>
#include <trapeze/uaccess.h>
#include <trapeze/vfs.h>
#include <trapeze/vm.h>
#include <asm/cpu.h>
#include <asm/process.h>

#define MAX_ARG_STRLEN (32 * PAGE_SIZE) // one string with its NUL (Linux)
#define ARG_MAX_BYTES (STACK_LIMIT / 4) // all strings plus their pointers (Linux)
#define BINPRM_BUF_SIZE 256             // the part of a script holding its "#!" line
#define EXEC_PLATFORM "x86_64"
#define USER_HZ 100                     // AT_CLKTCK: times() ticks per second
#define AUXV_PAIRS 19                   // entries exec_write_tables puts, with AT_NULL


// The strings of argv or envp: a NULL-terminated array of pointers in user or kernel
// memory. A NULL array counts as empty, as on Linux.
struct exec_strv {
	bool user;
	union {
		const char *const *k;
		const char __user *const __user *u;
	};
	long count; // set by strv_count
};

// Writes the new stack through the new mm's pages (the mm is not loaded yet).
struct exec_stack {
	struct mm *mm;      // locked by us
	uintptr_t sp;       // lowest byte written so far
	size_t charged;     // bytes of strings and pointers, against ARG_MAX_BYTES
	char *bounce;       // one page for strings on their way from user memory
};

struct exec_ctx {
	const char *path;        // as given to execve (a kernel copy)
	struct exec_strv argv, envp;
	struct file *file;       // the ELF file (the interpreter, for a script)
	char *hdr;               // its first page
	size_t hdr_len;
	struct elf_info elf;
	bool script;
	char interp[BINPRM_BUF_SIZE]; // a script's "#!" line, split in place:
	char *interp_arg;        // its optional argument inside interp[], or NULL
	struct mm *mm;           // the new address space, until exec_commit installs it
};

// --- the file --------------------------------------------------------------------------------

// Close a file exec_open opened, giving back its deny-write.
static void exec_file_put(struct file *f)
{
	inode_write_allow(f->f_inode);
	file_put(f);
}

// Open path for exec and read its first page into ctx->hdr. -EACCES unless it is a
// regular file with an execute bit; -ETXTBSY while it is open for writing. Writes stay
// denied while ctx->file holds it (then the new mm's exe_file holds the program), so
// the headers read here are what will run.
static int exec_open(struct exec_ctx *ctx, const char *path)
{
	struct file *f = file_open(path, O_RDONLY, 0);
	mode_t mode;
	ssize_t n;
	int err;

	if (IS_ERR(f))
		return (int)PTR_ERR(f);
	mode = file_mode(f);
	if (!S_ISREG(mode) || !(mode & 0111)) {
		file_put(f);
		return -EACCES;
	}
	err = inode_write_deny(f->f_inode);
	if (err) {
		file_put(f);
		return err;
	}
	n = kernel_read(f, ctx->hdr, PAGE_SIZE, 0);
	if (n < 0) {
		exec_file_put(f);
		return (int)n;
	}
	if (ctx->file)
		exec_file_put(ctx->file);
	ctx->file = f;
	ctx->hdr_len = (size_t)n;
	return 0;
}

static bool exec_is_script(const struct exec_ctx *ctx)
{
	return ctx->hdr_len >= 2 && ctx->hdr[0] == '#' && ctx->hdr[1] == '!';
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

// Split the "#!interpreter [argument]" line into ctx->interp and ctx->interp_arg. As on
// Linux, the argument is everything after the interpreter name up to the end of the
// line, with surrounding blanks removed; a line longer than BINPRM_BUF_SIZE is cut, but
// not inside the interpreter's name (-ENOEXEC).
static int exec_parse_script(struct exec_ctx *ctx)
{
	size_t n = MIN(ctx->hdr_len, (size_t)BINPRM_BUF_SIZE - 1) - 2;
	char *line = ctx->interp, *p, *end;
	bool cut;

	memcpy(line, ctx->hdr + 2, n);
	line[n] = '\0';
	end = memchr(line, '\n', n);
	cut = !end && ctx->hdr_len > n + 2;
	if (end)
		*end = '\0';
	for (p = line; is_blank(*p); p++)
		;
	memmove(line, p, strlen(p) + 1);
	for (p = line; *p && !is_blank(*p); p++)
		;
	if (p == line || (cut && !*p))
		return -ENOEXEC;
	ctx->interp_arg = NULL;
	if (*p) {
		*p++ = '\0';
		while (is_blank(*p))
			p++;
		end = p + strlen(p);
		while (end > p && is_blank(end[-1]))
			*--end = '\0';
		if (*p)
			ctx->interp_arg = p;
	}
	ctx->script = true;
	return 0;
}

// Open the program (and, for a script, its interpreter) and validate the ELF headers.
static int exec_prepare(struct exec_ctx *ctx)
{
	int err = exec_open(ctx, ctx->path);

	if (!err && exec_is_script(ctx)) {
		err = exec_parse_script(ctx);
		if (!err)
			err = exec_open(ctx, ctx->interp);
		// One level only: an interpreter that is itself a script is refused.
		if (!err && exec_is_script(ctx))
			err = -ELOOP;
	}
	if (err)
		return err;
	return elf_check(ctx->hdr, ctx->hdr_len, file_size(ctx->file), &ctx->elf);
}

// --- the address space -------------------------------------------------------------------------

static unsigned int vm_flags_from_pf(uint32_t pf)
{
	return (pf & PF_R ? VM_READ : 0) | (pf & PF_W ? VM_WRITE : 0) | (pf & PF_X ? VM_EXEC : 0);
}

// Whether the new mm may map [start, end) with flags: the checks mmap and brk make
// (RLIMIT_AS, RLIMIT_DATA, and the overcommit check for private writable memory), so that
// a program whose segments or .bss cannot be had fails here, before the point of no
// return, with ENOMEM (Linux, mapping after it, kills the process instead).
static int exec_may_map(struct exec_ctx *ctx, uintptr_t start, uintptr_t end, unsigned int flags)
{
	size_t len = end - start;

	if ((flags & VM_WRITE) && vm_enough_memory(len >> PAGE_SHIFT))
		return -ENOMEM;
	return vm_may_expand(ctx->mm, flags, len, start, end) ? 0 : -ENOMEM;
}

// A PT_LOAD becomes a private file-backed VMA for its file part and an anonymous VMA for
// the rest of p_memsz (.bss). In a writable segment the bytes past p_filesz read as zero
// (they start .bss); a read-only segment's last page shows the file as it is, as on Linux,
// so that page can be the file's own page, shared by every process running the program
// (and, under QEMU, translated once). A later segment sharing a page with this one
// replaces that page (as Linux's MAP_FIXED does).
static int exec_map_segment(struct exec_ctx *ctx, const Elf64_Phdr *ph)
{
	uintptr_t va = ph->p_vaddr + ctx->elf.load_bias;
	uintptr_t start = ALIGN_DOWN(va, PAGE_SIZE);
	uintptr_t file_end = ph->p_filesz ? ALIGN_UP(va + ph->p_filesz, PAGE_SIZE) : start;
	uintptr_t mem_end = ALIGN_UP(va + ph->p_memsz, PAGE_SIZE);
	unsigned int flags = vm_flags_from_pf(ph->p_flags);
	off_t limit = (ph->p_flags & PF_W) || ph->p_memsz > ph->p_filesz ?
			      (off_t)(ph->p_offset + ph->p_filesz) :
			      VMA_NO_LIMIT;
	int err;

	if (ph->p_memsz == 0)
		return 0;
	err = exec_may_map(ctx, start, mem_end, flags);
	if (!err && file_end > start)
		err = vm_map(ctx->mm, start, file_end, flags, ctx->file,
			     (off_t)ALIGN_DOWN(ph->p_offset, PAGE_SIZE), limit);
	if (!err && mem_end > file_end)
		err = vm_map(ctx->mm, file_end, mem_end, flags, NULL, 0, 0);
	return err;
}

static int exec_map_program(struct exec_ctx *ctx)
{
	struct mm *mm = ctx->mm;
	unsigned int stack_flags = VM_READ | VM_WRITE | VM_GROWSDOWN;
	int err;

	// The program must leave the stack room to grow to its limit.
	if (ctx->elf.load_end > STACK_TOP - STACK_LIMIT - STACK_GUARD_GAP)
		return -ENOEXEC;
	for (unsigned int i = 0; i < ctx->elf.phnum; i++) {
		Elf64_Phdr ph;

		elf_phdr_get(ctx->hdr, &ctx->elf, i, &ph);
		if (ph.p_type != PT_LOAD)
			continue;
		err = exec_map_segment(ctx, &ph);
		if (err)
			return err;
	}
	mm->start_brk = mm->brk = ALIGN_UP(ctx->elf.load_end, PAGE_SIZE);
	if (ctx->elf.stack_exec)
		stack_flags |= VM_EXEC;
	return vm_map(mm, STACK_TOP - STACK_INIT_SIZE, STACK_TOP, stack_flags, NULL, 0, 0);
}

// --- the new stack ---------------------------------------------------------------------------

// Copy n bytes to va in the new mm, making its pages present (and growing the stack VMA
// down) as needed. A stack that cannot grow that far means too many arguments.
static int stack_write(struct exec_stack *st, uintptr_t va, const void *src, size_t n)
{
	while (n) {
		size_t chunk = MIN(n, PAGE_SIZE - (va & ~PAGE_MASK));
		void *kva;
		int err = vm_page_kaddr(st->mm, va, &kva);

		if (err)
			return err == -EFAULT ? -E2BIG : err;
		memcpy(kva, src, chunk);
		va += chunk;
		src = (const char *)src + chunk;
		n -= chunk;
	}
	return 0;
}

static int stack_push(struct exec_stack *st, const void *src, size_t n)
{
	st->sp -= n;
	return stack_write(st, st->sp, src, n);
}

// The length of the user string s (at most MAX_ARG_STRLEN - 1). Its first page is left
// in st->bounce, which is the whole string when it is shorter than a page.
static int user_strlen(struct exec_stack *st, const char __user *s, size_t *len)
{
	size_t total = 0;

	for (;;) {
		long n = strncpy_from_user(st->bounce, s + total, PAGE_SIZE);

		if (n >= 0) {
			*len = total + (size_t)n;
			return 0;
		}
		if (n != -ENAMETOOLONG)
			return (int)n;
		total += PAGE_SIZE;
		if (total >= MAX_ARG_STRLEN)
			return -E2BIG;
	}
}

// Copy a user string of len bytes (found by user_strlen) to va, a page at a time.
static int stack_copy_user(struct exec_stack *st, uintptr_t va, const char __user *s,
			   size_t len)
{
	if (len < PAGE_SIZE)
		return stack_write(st, va, st->bounce, len);
	for (size_t off = 0; off < len; off += PAGE_SIZE) {
		size_t chunk = MIN(len - off, PAGE_SIZE);
		int err = copy_from_user(st->bounce, s + off, chunk);

		if (!err)
			err = stack_write(st, va + off, st->bounce, chunk);
		if (err)
			return err;
	}
	return 0;
}

// Push one string with its NUL and charge it (and its pointer) against ARG_MAX_BYTES.
static int stack_push_string(struct exec_stack *st, const char *s, bool user)
{
	size_t len = 0;
	int err = 0;

	if (user)
		err = user_strlen(st, (const char __user *)s, &len);
	else
		len = strnlen(s, MAX_ARG_STRLEN);
	if (err)
		return err;
	if (len >= MAX_ARG_STRLEN)
		return -E2BIG;
	st->charged += len + 1 + sizeof(void *);
	if (st->charged > ARG_MAX_BYTES)
		return -E2BIG;
	st->sp -= len + 1;
	if (user)
		err = stack_copy_user(st, st->sp, (const char __user *)s, len);
	else
		err = stack_write(st, st->sp, s, len);
	// Written separately: a user string may have changed since it was measured.
	return err ? err : stack_write(st, st->sp + len, "", 1);
}

static int strv_get(const struct exec_strv *v, long i, const char **s)
{
	const char __user *p;

	if (!v->user) {
		*s = v->k[i];
		return 0;
	}
	if (get_user(p, &v->u[i]))
		return -EFAULT;
	*s = (__force const char *)p;
	return 0;
}

static int strv_count(struct exec_strv *v)
{
	const char *s = NULL;
	long i;

	for (i = 0; v->k; i++) {
		if (strv_get(v, i, &s))
			return -EFAULT;
		if (!s)
			break;
		if (i >= (long)(ARG_MAX_BYTES / sizeof(void *)))
			return -E2BIG;
	}
	v->count = i;
	return 0;
}

// Push v's strings from the last down to index first.
static int stack_push_strv(struct exec_stack *st, const struct exec_strv *v, long first)
{
	for (long i = v->count - 1; i >= first; i--) {
		const char *s;
		int err = strv_get(v, i, &s);

		if (!err && !s)
			err = -EFAULT; // the array changed under us
		if (!err)
			err = stack_push_string(st, s, v->user);
		if (err)
			return err;
	}
	return 0;
}

// Push the argument strings; returns argc. A script gets [interp, arg, path, argv[1..]];
// an empty argv gets one empty string, as Linux (since 5.18) does.
static long exec_push_argv(struct exec_ctx *ctx, struct exec_stack *st)
{
	long argc = ctx->argv.count;
	int err;

	if (!ctx->script) {
		if (argc == 0) {
			err = stack_push_string(st, "", false);
			return err ? err : 1;
		}
		err = stack_push_strv(st, &ctx->argv, 0);
		return err ? err : argc;
	}
	argc = MAX(argc - 1, 0);
	err = stack_push_strv(st, &ctx->argv, 1);
	if (!err)
		err = stack_push_string(st, ctx->path, false);
	if (!err && ctx->interp_arg)
		err = stack_push_string(st, ctx->interp_arg, false);
	if (!err)
		err = stack_push_string(st, ctx->interp, false);
	return err ? err : argc + (ctx->interp_arg ? 3 : 2);
}

// The length of the string at va in the new stack, not looking at or past end.
static int stack_strlen(struct exec_stack *st, uintptr_t va, uintptr_t end, size_t *len)
{
	*len = 0;
	while (va < end) {
		size_t chunk = MIN(end - va, PAGE_SIZE - (va & ~PAGE_MASK));
		void *kva;
		char *nul;
		int err = vm_page_kaddr(st->mm, va, &kva);

		if (err)
			return err;
		nul = memchr(kva, '\0', chunk);
		if (nul) {
			*len += (size_t)(nul - (char *)kva);
			return 0;
		}
		*len += chunk;
		va += chunk;
	}
	return 0;
}

// Write n pointers to the consecutive strings starting at str (bounded by end), then a
// NULL, at *at.
static int stack_put_ptrs(struct exec_stack *st, uintptr_t *at, uintptr_t str, uintptr_t end,
			  long n)
{
	uint64_t zero = 0;
	int err = 0;

	for (long i = 0; i < n && !err; i++) {
		size_t len;

		err = stack_write(st, *at, &str, sizeof(str));
		if (!err)
			err = stack_strlen(st, str, end, &len);
		*at += sizeof(str);
		str = MIN(end, str + len + 1);
	}
	if (!err)
		err = stack_write(st, *at, &zero, sizeof(zero));
	*at += sizeof(zero);
	return err;
}

// Build everything below the strings: argc, argv[], envp[], auxv. Returns the final sp.
static int exec_write_tables(struct exec_ctx *ctx, struct exec_stack *st, long argc,
			     uintptr_t random_at, uintptr_t platform_at, uintptr_t execfn_at)
{
	const struct mm *mm = ctx->mm;
	const uint64_t auxv[AUXV_PAIRS][2] = {
		{ AT_PHDR, ctx->elf.phdr_addr }, { AT_PHENT, sizeof(Elf64_Phdr) },
		{ AT_PHNUM, ctx->elf.phnum },    { AT_PAGESZ, PAGE_SIZE },
		{ AT_BASE, 0 },                  { AT_FLAGS, 0 },
		{ AT_ENTRY, ctx->elf.entry },    { AT_UID, 0 },
		{ AT_EUID, 0 },                  { AT_GID, 0 },
		{ AT_EGID, 0 },                  { AT_PLATFORM, platform_at },
		{ AT_HWCAP, arch_hwcap() },      { AT_CLKTCK, USER_HZ },
		{ AT_SECURE, 0 },                { AT_RANDOM, random_at },
		{ AT_HWCAP2, 0 },                { AT_EXECFN, execfn_at },
		{ AT_NULL, 0 },
	};
	size_t words = 1 + (size_t)(argc + 1) + (size_t)(ctx->envp.count + 1);
	uintptr_t sp = ALIGN_DOWN(st->sp - words * 8 - sizeof(auxv), 16);
	uintptr_t at = sp + sizeof(uint64_t);
	uint64_t argc64 = (uint64_t)argc;
	int err;

	err = stack_write(st, sp, &argc64, sizeof(argc64));
	if (!err)
		err = stack_put_ptrs(st, &at, mm->arg_start, mm->arg_end, argc);
	if (!err)
		err = stack_put_ptrs(st, &at, mm->env_start, mm->env_end, ctx->envp.count);
	if (!err)
		err = stack_write(st, at, auxv, sizeof(auxv));
	st->sp = sp;
	return err;
}

// Fill the new stack; on success st->sp is the program's initial rsp.
static int exec_build_stack(struct exec_ctx *ctx, struct exec_stack *st)
{
	uintptr_t random_at, platform_at, execfn_at;
	uint8_t rnd[16];
	long argc;
	int err;

	get_random_bytes(rnd, sizeof(rnd));
	err = stack_push(st, rnd, sizeof(rnd));
	random_at = st->sp;
	if (!err)
		err = stack_push(st, EXEC_PLATFORM, sizeof(EXEC_PLATFORM));
	platform_at = st->sp;
	ctx->mm->env_end = st->sp;
	if (!err)
		err = stack_push_strv(st, &ctx->envp, 0);
	ctx->mm->env_start = ctx->mm->arg_end = st->sp;
	argc = err ? err : exec_push_argv(ctx, st);
	if (argc < 0)
		return (int)argc;
	ctx->mm->arg_start = st->sp;
	err = stack_push_string(st, ctx->path, false);
	execfn_at = st->sp;
	if (!err)
		err = exec_write_tables(ctx, st, argc, random_at, platform_at, execfn_at);
	ctx->mm->start_stack = st->sp;
	return err;
}

// Build the new address space: program segments, heap start, stack with its contents.
static int exec_build_mm(struct exec_ctx *ctx, uintptr_t *sp)
{
	struct exec_stack st = { .sp = STACK_TOP };
	int err;

	ctx->mm = mm_alloc();
	st.bounce = kmalloc(PAGE_SIZE);
	if (!ctx->mm || !st.bounce) {
		kfree(st.bounce);
		return -ENOMEM;
	}
	st.mm = ctx->mm;
	err = mm_exe_file_set(ctx->mm, ctx->file);
	if (err) {
		kfree(st.bounce);
		return err;
	}
	// Nobody else can see the new mm; the lock is for the helpers' assertions. User
	// faults while copying strings take the caller's mm lock, a different one.
	mm_lock(ctx->mm);
	err = exec_map_program(ctx);
	if (!err)
		err = exec_build_stack(ctx, &st);
	mm_unlock(ctx->mm);
	kfree(st.bounce);
	*sp = st.sp;
	return err;
}

// --- the point of no return ------------------------------------------------------------------

static void exec_set_comm(struct task *t, const char *path)
{
	const char *base = strrchr(path, '/');

	strlcpy(t->comm, base ? base + 1 : path, sizeof(t->comm));
}

static void exec_commit(struct exec_ctx *ctx, uintptr_t sp)
{
	struct task *t = current;
	struct mm *old;
	uint64_t irq;

	// Linux de_thread: the new program starts with one thread. A SIGKILL for us ends the
	// wait early; we then die on the way out, whatever the image.
	thread_group_kill_others();
	old = t->mm;
	// Readers of another task's mm (procfs, the OOM killer) take it under tasklist_lock,
	// as exit's unhooking does: swap under it, then drop the old one.
	irq = spin_lock_irqsave(&tasklist_lock);
	t->mm = ctx->mm;
	mm_activate(t->mm);
	spin_unlock_irqrestore(&tasklist_lock, irq);
	ctx->mm = NULL;
	if (old)
		mm_put(old);
	// A vfork parent waits until we stop using its memory: that is now.
	vfork_release(t);
	if (t->files)
		files_close_on_exec(t->files);
	exec_set_comm(t, ctx->path);
	signal_exec_reset();
	arch_setup_user_regs(current_user_regs(), ctx->elf.entry, sp);
}

static int do_execve(const char *path, const struct exec_strv *argv,
		     const struct exec_strv *envp)
{
	struct exec_ctx *ctx = kzalloc(sizeof(*ctx));
	uintptr_t sp;
	int err;

	if (!ctx)
		return -ENOMEM;
	ctx->path = path;
	ctx->argv = *argv;
	ctx->envp = *envp;
	ctx->hdr = kmalloc(PAGE_SIZE);
	err = ctx->hdr ? strv_count(&ctx->argv) : -ENOMEM;
	if (!err)
		err = strv_count(&ctx->envp);
	if (!err)
		err = exec_prepare(ctx);
	if (!err)
		err = exec_build_mm(ctx, &sp);
	if (!err)
		exec_commit(ctx, sp);
	if (ctx->mm)
		mm_put(ctx->mm);
	if (ctx->file)
		exec_file_put(ctx->file);
	kfree(ctx->hdr);
	kfree(ctx);
	return err;
}

long sys_execve(const char __user *path, const char __user *const __user *argv,
		const char __user *const __user *envp)
{
	struct exec_strv uargv = { .user = true, .u = argv };
	struct exec_strv uenvp = { .user = true, .u = envp };
	char *kpath = path_from_user(path);
	long err;

	if (IS_ERR(kpath))
		return PTR_ERR(kpath);
	err = do_execve(kpath, &uargv, &uenvp);
	kfree(kpath);
	return err;
}

int exec_kernel(const char *path, const char *const argv[], const char *const envp[])
{
	struct exec_strv kargv = { .user = false, .k = argv };
	struct exec_strv kenvp = { .user = false, .k = envp };

	return do_execve(path, &kargv, &kenvp);
}
