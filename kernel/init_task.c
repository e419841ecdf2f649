// The first user process. The kernel creates task 1 as a kernel task running
// init_task_main, which gives it a descriptor table and filesystem context, opens
// /dev/console as descriptors 0, 1 and 2, and execs the init program (init= on the command
// line, /sbin/init by default). When init_task_main returns, task 1 leaves the kernel for
// the new program through the pt_regs exec prepared at the top of its stack.
#include <trapeze/boot.h>
#include <trapeze/err.h>
#include <trapeze/exec.h>
#include <trapeze/fs.h>
#include <trapeze/panic.h>
#include <trapeze/printk.h>
#include <trapeze/signal.h>
#include <trapeze/task.h>
#include <trapeze/vfs.h>
#include <asm/cpu.h>
#include <uapi/fcntl.h>

#define DEFAULT_INIT "/sbin/init"

static void open_console(void)
{
	struct file *f = file_open("/dev/console", O_RDWR, 0);

	if (IS_ERR(f)) {
		pr_err("init: cannot open /dev/console: %ld\n", PTR_ERR(f));
		return;
	}
	// Three descriptors sharing one open file, as after dup(0) twice.
	for (int fd = 0; fd < 3; fd++) {
		if (fd > 0)
			file_get(f);
		if (fd_install(f) != fd)
			panic("init: console is not descriptor %d", fd);
	}
}

void init_task_main(void *arg)
{
	const char *path = cmdline_get("init");
	const char *argv[] = { NULL, NULL };
	const char *envp[] = { "HOME=/", "TERM=vt100", "PATH=/bin:/sbin:/usr/bin", NULL };
	int err;

	if (!path || !*path)
		path = DEFAULT_INIT;
	argv[0] = path;
	current->files = files_alloc();
	current->fs = fs_context_alloc();
	current->sighand = signal_handlers_alloc();
	if (!current->files || !current->fs || !current->sighand)
		panic("init: out of memory");
	current->pgid = current->sid = current->pid;
	open_console();
	err = exec_kernel(path, argv, envp);
	if (err)
		panic("cannot run init program %s: error %d", path, err);
}
