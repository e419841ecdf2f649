// The local APIC (one per CPU: timer, end-of-interrupt, NMI and ExtINT inputs) and the
// I/O APIC(s) that turn device interrupt lines (GSIs) into messages to a local APIC.
// Both are memory-mapped and found through ACPI (acpi_info). The local APIC runs in xAPIC
// mode: its registers are 32-bit MMIO words at 16-byte strides (Intel SDM vol. 3, 11.4).
// An I/O APIC is reached through an index register and a data window, so every access is
// a pair of writes that must not interleave: ioapic_lock covers them.
//
// Vector plan (asm/irq.h): ISA IRQ n -> IRQ_BASE_VECTOR + n, LAPIC timer TIMER_VECTOR,
// spurious SPURIOUS_VECTOR. Every routed interrupt goes to the boot CPU for now.

#include <asm/acpi.h>
#include <asm/apic.h>
#include <asm/irq.h>
#include <asm/msr.h>
#include <asm/paging.h>
#include <asm/x86.h>
#include <trapeze/mm.h>
#include <trapeze/panic.h>
#include <trapeze/printk.h>
#include <trapeze/spinlock.h>
#include <uapi/errno.h>

#define APIC_TIMER_CAL_MS 5 // TSC time over which the LAPIC timer is counted
#define APIC_TIMER_SAMPLES 8
#define LAPIC_TIMER_MAX 0xffffffffU

struct ioapic {
	volatile uint32_t *regs;
	uint32_t gsi_base;
	unsigned int nr_inputs;
	uint8_t id;
};

// The local APIC's MMIO page. Each CPU sees its own local APIC at the same address, so this
// one mapping serves every CPU; no lock is needed (nothing is shared).
static volatile uint32_t *lapic;

static struct ioapic ioapics[ACPI_MAX_IOAPICS];
static int nr_ioapics;
// Serialises the select-then-access register pairs of every I/O APIC.
static DEFINE_SPINLOCK(ioapic_lock);

uint32_t boot_apic_id;
uint64_t apic_timer_freq_hz;

static inline uint32_t lapic_read(unsigned int reg)
{
	return lapic[reg / 4];
}

static inline void lapic_write(unsigned int reg, uint32_t v)
{
	lapic[reg / 4] = v;
}

uint32_t apic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

void apic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

// Turn the local APIC on in the APIC_BASE MSR (in xAPIC mode) and return its physical base.
static phys_addr_t lapic_enable_msr(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);
	phys_addr_t pa;

	// Leaving x2APIC mode is only allowed through the disabled state (SDM 11.12.5).
	if (base & MSR_APIC_BASE_X2APIC) {
		base &= ~(MSR_APIC_BASE_X2APIC | MSR_APIC_BASE_ENABLE);
		wrmsr(MSR_APIC_BASE, base);
	}
	wrmsr(MSR_APIC_BASE, base | MSR_APIC_BASE_ENABLE);
	pa = base & MSR_APIC_BASE_ADDR_MASK;
	if (pa != acpi_info.lapic_addr)
		pr_warn("apic: MSR says local APIC at %#lx, ACPI %#lx; using the MSR\n",
			(unsigned long)pa, (unsigned long)acpi_info.lapic_addr);
	return pa;
}

// LINT0 carries the 8259's ExtINT on a PC and stays masked (the PICs are not used);
// the LINT the MADT names as NMI (LINT1 by PC convention) delivers NMIs. NMIs are always
// edge-triggered, so only the polarity comes from the MADT.
static uint32_t lapic_lint_config(int lint)
{
	int nmi_lint = acpi_info.nmi_lint >= 0 ? acpi_info.nmi_lint : 1;
	uint32_t v = LAPIC_LVT_DELIVERY_NMI;

	if (lint != nmi_lint)
		return LAPIC_LVT_MASKED;
	if (acpi_info.nmi_lint >= 0 && acpi_info.nmi_active_low)
		v |= LAPIC_LVT_ACTIVE_LOW;
	return v;
}

static void lapic_setup(void)
{
	unsigned int max_lvt;

	lapic = ioremap(lapic_enable_msr(), PAGE_SIZE);
	lapic_write(LAPIC_TPR, 0); // accept every priority class
	// While software-disabled, the LVT mask bits cannot be cleared: enable first.
	lapic_write(LAPIC_SVR, SPURIOUS_VECTOR | LAPIC_SVR_ENABLE);

	max_lvt = (lapic_read(LAPIC_VERSION) >> 16) & 0xff;
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | TIMER_VECTOR);
	lapic_write(LAPIC_LVT_LINT0, lapic_lint_config(0));
	lapic_write(LAPIC_LVT_LINT1, lapic_lint_config(1));
	lapic_write(LAPIC_LVT_ERROR, LAPIC_LVT_MASKED);
	if (max_lvt >= 4)
		lapic_write(LAPIC_LVT_PERF, LAPIC_LVT_MASKED);
	if (max_lvt >= 5)
		lapic_write(LAPIC_LVT_THERMAL, LAPIC_LVT_MASKED);
	// The error status register latches on a write; two writes clear stale errors.
	lapic_write(LAPIC_ESR, 0);
	lapic_write(LAPIC_ESR, 0);
	boot_apic_id = apic_id();
}

static uint32_t ioapic_read(struct ioapic *io, uint32_t reg)
{
	io->regs[IOAPIC_REGSEL / 4] = reg;
	return io->regs[IOAPIC_WIN / 4];
}

static void ioapic_write(struct ioapic *io, uint32_t reg, uint32_t v)
{
	io->regs[IOAPIC_REGSEL / 4] = reg;
	io->regs[IOAPIC_WIN / 4] = v;
}

// Map every I/O APIC the MADT lists and mask all its inputs: nothing is delivered until a
// driver routes its IRQ. Context: boot, one CPU, so no lock yet.
static void ioapics_setup(void)
{
	for (int i = 0; i < acpi_info.nr_ioapics; i++) {
		struct ioapic *io = &ioapics[i];

		io->regs = ioremap(acpi_info.ioapics[i].addr, PAGE_SIZE);
		io->gsi_base = acpi_info.ioapics[i].gsi_base;
		io->id = acpi_info.ioapics[i].id;
		io->nr_inputs = ((ioapic_read(io, IOAPIC_REG_VERSION) >> 16) & 0xff) + 1;
		for (unsigned int n = 0; n < io->nr_inputs; n++) {
			ioapic_write(io, IOAPIC_REDTBL(n), IOAPIC_RTE_MASKED);
			ioapic_write(io, IOAPIC_REDTBL(n) + 1, 0);
		}
	}
	nr_ioapics = acpi_info.nr_ioapics;
}

void apic_init(void)
{
	assert(acpi_info.nr_ioapics > 0); // acpi_init() has run
	pic_disable();
	lapic_setup();
	ioapics_setup();
}

// The I/O APIC that has input gsi, and the input's index there; NULL if none.
static struct ioapic *ioapic_for_gsi(uint32_t gsi, unsigned int *pin)
{
	for (int i = 0; i < nr_ioapics; i++) {
		struct ioapic *io = &ioapics[i];

		if (gsi >= io->gsi_base && gsi - io->gsi_base < io->nr_inputs) {
			*pin = gsi - io->gsi_base;
			return io;
		}
	}
	return NULL;
}

int ioapic_route_gsi(uint32_t gsi, int vector, bool active_low, bool level)
{
	uint32_t low = vector; // fixed delivery, physical destination
	unsigned int pin;
	struct ioapic *io;
	uint64_t flags;

	if (vector < IRQ_BASE_VECTOR || vector >= SPURIOUS_VECTOR)
		return -EINVAL;
	io = ioapic_for_gsi(gsi, &pin);
	if (!io)
		return -ENODEV;
	if (active_low)
		low |= IOAPIC_RTE_ACTIVE_LOW;
	if (level)
		low |= IOAPIC_RTE_LEVEL;

	// Masked while the destination changes, so no half-written entry can fire.
	flags = spin_lock_irqsave(&ioapic_lock);
	ioapic_write(io, IOAPIC_REDTBL(pin), low | IOAPIC_RTE_MASKED);
	ioapic_write(io, IOAPIC_REDTBL(pin) + 1, boot_apic_id << IOAPIC_RTE_DEST_SHIFT);
	ioapic_write(io, IOAPIC_REDTBL(pin), low);
	spin_unlock_irqrestore(&ioapic_lock, flags);
	return 0;
}

int ioapic_mask_gsi(uint32_t gsi)
{
	unsigned int pin;
	struct ioapic *io = ioapic_for_gsi(gsi, &pin);
	uint64_t flags;

	if (!io)
		return -ENODEV;
	flags = spin_lock_irqsave(&ioapic_lock);
	ioapic_write(io, IOAPIC_REDTBL(pin),
		     ioapic_read(io, IOAPIC_REDTBL(pin)) | IOAPIC_RTE_MASKED);
	spin_unlock_irqrestore(&ioapic_lock, flags);
	return 0;
}

// irq.h gives this no error return: a bad IRQ number or a missing I/O APIC input is
// reported on the console and the IRQ stays masked.
void ioapic_route_isa(int irq, int vector)
{
	const struct acpi_isa_route *r;
	int err;

	if (irq < 0 || irq >= ACPI_ISA_IRQS) {
		pr_err("apic: ISA IRQ %d does not exist\n", irq);
		return;
	}
	r = &acpi_info.isa[irq];
	err = ioapic_route_gsi(r->gsi, vector, r->active_low, r->level);
	if (err)
		pr_err("apic: cannot route ISA IRQ %d (GSI %u) to vector %#x: error %d\n", irq,
		       r->gsi, vector, err);
}

// One reading of the LAPIC timer's current count, with the TSC window of the read.
struct lapic_sample {
	uint64_t tsc;   // midpoint of the read
	uint64_t slack; // its width in TSC cycles
	uint32_t count;
};

// The tightest of a few reads: under TCG an MMIO access can wait a long time for QEMU's
// global lock, and such a read says little about when the count was taken.
static struct lapic_sample lapic_timer_sample(void)
{
	struct lapic_sample best = { .slack = UINT64_MAX };

	for (int i = 0; i < APIC_TIMER_SAMPLES; i++) {
		uint64_t t0 = rdtsc();
		uint32_t count = lapic_read(LAPIC_TIMER_CURRENT);
		uint64_t t1 = rdtsc();

		if (t1 - t0 < best.slack)
			best = (struct lapic_sample){ t0 + (t1 - t0) / 2, t1 - t0, count };
	}
	return best;
}

// Count LAPIC timer ticks (after the divide-by-16) over APIC_TIMER_CAL_MS of TSC time,
// between two samples of the free-running count. Returns the timer's input frequency in Hz.
static uint64_t apic_timer_calibrate(void)
{
	uint64_t window = tsc_khz * APIC_TIMER_CAL_MS;
	struct lapic_sample a, b;

	lapic_write(LAPIC_TIMER_DIVIDE, LAPIC_TIMER_DIV16);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | TIMER_VECTOR); // one-shot, silent
	lapic_write(LAPIC_TIMER_INIT, LAPIC_TIMER_MAX);
	a = lapic_timer_sample();
	while (rdtsc() - a.tsc < window)
		cpu_relax();
	b = lapic_timer_sample();
	lapic_write(LAPIC_TIMER_INIT, 0); // stop it
	// No overflow: in 5 ms a timer input below 200 MHz gives ticks < 2^20, and a TSC below
	// 16 GHz has tsc_khz < 2^24, so the product stays under 2^54.
	return (uint64_t)(a.count - b.count) * tsc_khz * 1000 / (b.tsc - a.tsc);
}

void apic_timer_start(unsigned int hz)
{
	uint64_t count;

	assert(lapic && tsc_khz && hz);
	apic_timer_freq_hz = apic_timer_calibrate();
	count = apic_timer_freq_hz / hz;
	if (count == 0)
		count = 1;
	if (count > LAPIC_TIMER_MAX)
		count = LAPIC_TIMER_MAX;
	lapic_write(LAPIC_LVT_TIMER, TIMER_VECTOR | LAPIC_TIMER_PERIODIC);
	lapic_write(LAPIC_TIMER_INIT, count);
	pr_info("apic: boot CPU APIC id %u, timer input %lu kHz, %u Hz tick, TSC %lu kHz\n",
		boot_apic_id, (unsigned long)(apic_timer_freq_hz / 1000), hz,
		(unsigned long)tsc_khz);
}
