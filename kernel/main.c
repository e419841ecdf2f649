// kernel_main: the boot sequence after boot.S has entered long mode. Each step depends on
// the ones before it (see docs/boot.md); the boot task becomes the idle task at the end.
#include <trapeze/boot.h>
#include <trapeze/cmdline.h>
#include <trapeze/err.h>
#include <trapeze/ktest.h>
#include <trapeze/kmalloc.h>
#include <trapeze/page_alloc.h>
#include <trapeze/panic.h>
#include <trapeze/printk.h>
#include <trapeze/sched.h>
#include <trapeze/serial.h>
#include <trapeze/task.h>
#include <trapeze/vfs.h>
#include <asm/arch.h>
#include <asm/cpu.h>
#include <asm/irq.h>
#include <asm/paging.h>
#include <asm/pt_regs.h>
#include <asm/x86.h>

extern char boot_stack[], boot_stack_top[];
void printk_init(void);
void paging_use_page_alloc(void);
void init_task_main(void *arg);
void page_alloc_release_range(phys_addr_t start, phys_addr_t end);

static struct task boot_task = {
	.comm = "idle",
	.state = TASK_RUNNING,
};

// Context: interrupt (LAPIC timer, HZ times a second). Each tick is charged to what it
// interrupted: user code, kernel code of a task, or the idle task (pid 0); then the task's
// RLIMIT_CPU is checked against its new total.
static void timer_irq(struct pt_regs *regs, void *data)
{
	struct cpu *cpu = this_cpu();
	struct task *t = current;

	cpu->ticks++;
	if (user_mode(regs)) {
		t->utime_ticks++;
		cpu->user_ticks++;
	} else if (t->pid == 0) {
		cpu->idle_ticks++;
	} else {
		t->stime_ticks++;
		cpu->system_ticks++;
	}
	if (t->pid != 0)
		rlimit_cpu_tick(t);
	sched_tick();
}

static void memory_init(void)
{
	paging_init();
	page_alloc_init(&boot_info);
	paging_use_page_alloc();
	kmalloc_init();
	cpu_guarded_stacks_init();
}

static void interrupts_init(void)
{
	acpi_init();
	apic_init();
	tsc_calibrate();
	irq_register(TIMER_VECTOR, timer_irq, NULL);
	apic_timer_start(HZ);
	serial_enable_rx_irq();
}

// Unpack every boot module (cpio archives) into the root, in order, then give their
// memory to the page allocator.
static void initramfs_init(void)
{
	vfs_init();
	for (int i = 0; i < boot_info.nr_modules; i++) {
		const struct boot_module *m = &boot_info.modules[i];
		int err = initramfs_unpack(phys_to_virt(m->start), m->end - m->start);

		if (err)
			pr_err("initramfs: module %d (%s) is malformed: %d\n", i, m->name, err);
		page_alloc_release_range(m->start, m->end);
	}
	if (!boot_info.nr_modules)
		pr_warn("initramfs: no boot module: the root filesystem is empty\n");
}

// The unit tests run in a task of their own, not in the idle task, so that they may sleep
// and be preempted like any kernel code.
static void ktest_task_main(void *arg)
{
	int failed = ktest_run_all();

	pr_notice("trapeze: init exited with status %d\n", failed ? 1 : 0);
	machine_power_off(failed ? 1 : 0);
}

void kernel_main(uint32_t magic, uint32_t mbi_phys)
{
	boot_task.kstack_base = (uintptr_t)boot_stack;
	boot_task.kstack_top = (uintptr_t)boot_stack_top;
	list_init(&boot_task.run_link);
	rlimit_init_default(boot_task.rlim); // it unpacks the initramfs: RLIMIT_FSIZE applies
	cpu_early_init(&boot_task);
	multiboot_parse(magic, mbi_phys);
	cmdline_parse(boot_info.cmdline);
	serial_init();
	printk_init();
	pr_info("Trapeze booting, command line: %s\n", boot_info.cmdline);
	cpu_init();
	idt_init();
	syscall_init();
	memory_init();
	interrupts_init();
	sched_init(&boot_task);
	initramfs_init();
	local_irq_enable();
	if (cmdline_has("ktest")) {
		if (!kthread_create("ktest", ktest_task_main, NULL))
			panic("cannot create the ktest task");
		idle_loop();
	}

	init_task = task_create("init", init_task_main, NULL);
	if (IS_ERR(init_task))
		panic("cannot create the init task: error %ld", PTR_ERR(init_task));
	task_start(init_task);
	idle_loop();
}
