// Per-CPU setup: CPU feature detection, the GDT and TSS, the per-CPU area reached through
// GS, control-register hardening (NX, WP, SMEP, SMAP, UMIP) and the SSE state the user
// programs need. Runs once on the boot CPU with interrupts off.
#include <trapeze/panic.h>
#include <trapeze/printk.h>
#include <trapeze/string.h>
#include <trapeze/task.h>
#include <asm/cpu.h>
#include <asm/msr.h>
#include <asm/segment.h>
#include <asm/x86.h>

// The 64-bit task-state segment (Intel SDM vol. 3, 8.7): only stack pointers remain.
struct tss {
	uint32_t reserved0;
	uint64_t rsp[3]; // rsp[0]: kernel stack loaded on an interrupt from user mode
	uint64_t reserved1;
	uint64_t ist[7]; // ist[n-1]: stack for IDT entries with IST index n
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base; // past the limit: no I/O permission bitmap, all ports trap
} __packed;
_Static_assert(sizeof(struct tss) == 104, "TSS layout");

_Static_assert(__builtin_offsetof(struct cpu, self) == CPU_SELF, "cpu.self");
_Static_assert(__builtin_offsetof(struct cpu, kernel_rsp) == CPU_KERNEL_RSP, "cpu.kernel_rsp");
_Static_assert(__builtin_offsetof(struct cpu, user_rsp) == CPU_USER_RSP, "cpu.user_rsp");
_Static_assert(__builtin_offsetof(struct cpu, running) == CPU_CURRENT, "cpu.running");

#define IST_STACK_SIZE 8192
#define IRQ_STACK_SIZE 16384

struct cpu boot_cpu;
struct cpu_features cpu_features;
static struct tss boot_tss __aligned(16);
// Early-boot stacks, until cpu_guarded_stacks_init() replaces them with guarded ones.
static uint8_t ist_stacks[3][IST_STACK_SIZE] __aligned(16);
static uint8_t irq_stack[IRQ_STACK_SIZE] __aligned(16);

// Segment descriptors (SDM vol. 3, 3.4.5). In long mode base and limit are ignored for
// code and data; what matters is L (64-bit), DPL and the type.
#define DESC_KERNEL_CODE64 0x00af9a000000ffffUL
#define DESC_KERNEL_DATA 0x00cf92000000ffffUL
#define DESC_USER_CODE32 0x00cffa000000ffffUL
#define DESC_USER_DATA 0x00cff2000000ffffUL
#define DESC_USER_CODE64 0x00affa000000ffffUL

static uint64_t gdt[GDT_ENTRIES] __aligned(16);

struct descriptor_ptr {
	uint16_t limit;
	uint64_t base;
} __packed;

static void tss_descriptor(uint64_t *slot, const struct tss *tss)
{
	uint64_t base = (uint64_t)tss, limit = sizeof(*tss) - 1;

	// Type 9: available 64-bit TSS, present, DPL 0. The upper half holds base[63:32].
	slot[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89UL << 40) |
		  (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	slot[1] = base >> 32;
}

static void gdt_load(void)
{
	struct descriptor_ptr ptr = { sizeof(gdt) - 1, (uint64_t)gdt };

	gdt[GDT_NULL] = 0;
	gdt[GDT_KERNEL_CODE32] = 0;
	gdt[GDT_KERNEL_CODE] = DESC_KERNEL_CODE64;
	gdt[GDT_KERNEL_DATA] = DESC_KERNEL_DATA;
	gdt[GDT_USER_CODE32] = DESC_USER_CODE32;
	gdt[GDT_USER_DATA] = DESC_USER_DATA;
	gdt[GDT_USER_CODE] = DESC_USER_CODE64;
	tss_descriptor(&gdt[GDT_TSS], &boot_tss);
	__asm__ volatile("lgdt %0" : : "m"(ptr));
	// Reload CS with a far return, then the data segments; GS/FS bases are set by MSRs.
	__asm__ volatile("pushq %0\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w1, %%ds\n\t"
			 "movw %w1, %%es\n\t"
			 "movw %w1, %%ss\n\t"
			 :
			 : "i"(KERNEL_CS), "r"(KERNEL_DS)
			 : "rax", "memory");
	__asm__ volatile("ltr %w0" : : "r"(TSS_SEL));
}

static void detect_features(void)
{
	uint32_t a, b, c, d, max_ext;

	cpuid(0, 0, &a, &b, &c, &d);
	memcpy(cpu_features.vendor, &b, 4);
	memcpy(cpu_features.vendor + 4, &d, 4);
	memcpy(cpu_features.vendor + 8, &c, 4);
	cpuid(1, 0, &a, &b, &c, &d);
	cpu_features.pge = d & (1u << 13);
	cpu_features.xsave = c & (1u << 26);
	if (!(d & (1u << 24)) || !(d & (1u << 25)))
		panic("CPU lacks FXSR/SSE, which x86-64 guarantees");
	cpuid(7, 0, &a, &b, &c, &d);
	cpu_features.fsgsbase = b & (1u << 0);
	cpu_features.smep = b & (1u << 7);
	cpu_features.smap = b & (1u << 20);
	cpu_features.umip = c & (1u << 2);
	cpuid(0x80000000, 0, &max_ext, &b, &c, &d);
	cpuid(0x80000001, 0, &a, &b, &c, &d);
	cpu_features.nx = d & (1u << 20);
	cpu_features.pdpe1gb = d & (1u << 26);
	if (max_ext >= 0x80000007) {
		cpuid(0x80000007, 0, &a, &b, &c, &d);
		cpu_features.invariant_tsc = d & (1u << 8);
	}
}

// Read by uaccess.S: whether stac/clac exist (they fault without SMAP).
bool smap_enabled;

static void control_registers_init(void)
{
	uint64_t cr0 = read_cr0(), cr4 = read_cr4();

	cr0 |= X86_CR0_MP | X86_CR0_NE | X86_CR0_WP;
	cr0 &= ~(X86_CR0_EM | X86_CR0_TS);
	write_cr0(cr0);
	cr4 |= X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	if (cpu_features.pge)
		cr4 |= X86_CR4_PGE;
	if (cpu_features.smep)
		cr4 |= X86_CR4_SMEP;
	if (cpu_features.smap)
		cr4 |= X86_CR4_SMAP;
	if (cpu_features.umip)
		cr4 |= X86_CR4_UMIP;
	write_cr4(cr4);
	smap_enabled = cpu_features.smap;
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE | (cpu_features.nx ? EFER_NXE : 0));
}

// Make GS point at the boot CPU's area and current at the boot task. Must run before any
// spinlock or printk, since both read current through GS.
void cpu_early_init(struct task *boot_task)
{
	boot_cpu.self = &boot_cpu;
	boot_cpu.running = boot_task;
	boot_cpu.id = 0;
	boot_cpu.irq_stack_top = (uintptr_t)irq_stack + IRQ_STACK_SIZE;
	boot_cpu.tss = &boot_tss;
	wrmsr(MSR_GS_BASE, (uint64_t)&boot_cpu);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
}

void cpu_init(void)
{
	detect_features();
	control_registers_init();
	for (int i = 0; i < 3; i++)
		boot_tss.ist[i] = (uint64_t)ist_stacks[i] + IST_STACK_SIZE;
	boot_tss.iomap_base = sizeof(boot_tss);
	gdt_load();
	pr_info("cpu: %s, nx %d smep %d smap %d umip %d 1g-pages %d\n", cpu_features.vendor,
		cpu_features.nx, cpu_features.smep, cpu_features.smap, cpu_features.umip,
		cpu_features.pdpe1gb);
}

// Move the interrupt stack and the IST stacks (NMI, double fault, machine check) from the
// small .bss arrays used during early boot to guarded stacks in the kernel-stack area, so
// that an overflow of any of them faults on a guard page (and, through the double-fault
// handler on its own stack, panics) instead of overwriting whatever lies next to it.
// Context: boot, after the page allocator, interrupts off.
void cpu_guarded_stacks_init(void)
{
	uintptr_t irq = kstack_alloc();

	if (!irq)
		panic("cpu: no memory for the interrupt stack");
	boot_cpu.irq_stack_top = irq;
	for (int i = 0; i < 3; i++) {
		uintptr_t top = kstack_alloc();

		if (!top)
			panic("cpu: no memory for IST stack %d", i + 1);
		boot_tss.ist[i] = top;
	}
}

// Point the CPU at t's kernel stack for entries from user mode (TSS.RSP0 for interrupts,
// the per-CPU slot for syscall). Called by the scheduler on every switch.
void cpu_set_kernel_stack(uintptr_t top)
{
	boot_tss.rsp[0] = top;
	boot_cpu.kernel_rsp = top;
}

uint64_t arch_hwcap(void)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	return d;
}
