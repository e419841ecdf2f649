// The interrupt descriptor table: 256 interrupt gates pointing at the stubs in entry.S.
// All gates are interrupt gates (IF cleared on entry) so C code decides when to re-enable
// interrupts. int3 and into are callable from user mode (DPL 3); NMI, double fault and
// machine check run on their own IST stacks, so a broken kernel stack cannot hide them.
#include <trapeze/panic.h>
#include <asm/irq.h>
#include <asm/segment.h>

#define IRQ_STUB_SIZE 16
#define GATE_INTERRUPT 0x8e // present, DPL 0, 64-bit interrupt gate
#define GATE_DPL3 0x60

#define IST_DOUBLE_FAULT 1
#define IST_NMI 2
#define IST_MACHINE_CHECK 3

struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __packed;
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate layout");

extern const uint64_t exception_stub_table[32];
extern char irq_stubs[];

static struct idt_gate idt[256] __aligned(16);

// Registered interrupt handlers; written at boot before the vector is unmasked.
static struct {
	irq_handler_t fn;
	void *data;
} irq_table[256];

static void idt_set(int vector, uint64_t handler, uint8_t ist, uint8_t type_attr)
{
	struct idt_gate *g = &idt[vector];

	g->offset_low = handler & 0xffff;
	g->selector = KERNEL_CS;
	g->ist = ist;
	g->type_attr = type_attr;
	g->offset_mid = (handler >> 16) & 0xffff;
	g->offset_high = handler >> 32;
	g->reserved = 0;
}

void idt_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed ptr = { sizeof(idt) - 1, (uint64_t)idt };

	for (int v = 0; v < 32; v++)
		idt_set(v, exception_stub_table[v], 0, GATE_INTERRUPT);
	for (int v = 32; v < 256; v++)
		idt_set(v, (uint64_t)irq_stubs + (v - 32) * IRQ_STUB_SIZE, 0, GATE_INTERRUPT);
	idt[2].ist = IST_NMI;
	idt[8].ist = IST_DOUBLE_FAULT;
	idt[18].ist = IST_MACHINE_CHECK;
	idt[3].type_attr |= GATE_DPL3;
	idt[4].type_attr |= GATE_DPL3;
	__asm__ volatile("lidt %0" : : "m"(ptr));
}

void irq_register(int vector, irq_handler_t fn, void *data)
{
	assert(vector >= IRQ_BASE_VECTOR && vector < 256);
	irq_table[vector].data = data;
	irq_table[vector].fn = fn;
}

// Context: interrupt, on the interrupt stack. Returns false for a vector nobody claimed.
bool irq_call_handler(struct pt_regs *regs, int vector)
{
	if (!irq_table[vector].fn)
		return false;
	irq_table[vector].fn(regs, irq_table[vector].data);
	return true;
}
