// The legacy 8259A interrupt controllers: a master (IRQ 0-7) and a slave cascaded on the
// master's IRQ 2 (IRQ 8-15). Trapeze takes device interrupts through the I/O APIC, so
// the PICs are only reprogrammed away from the CPU exception vectors (their power-on
// vectors 0x08-0x0f collide with #DF, #GP, #PF...) and then fully masked. The local
// APIC's LINT0, where the PIC output arrives, is masked too (apic.c), so even a spurious
// PIC interrupt cannot reach the CPU.
// Context: boot only, interrupts off.

#include <asm/apic.h>
#include <asm/x86.h>

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1

#define ICW1_INIT 0x10 // start the initialisation sequence
#define ICW1_ICW4 0x01 // an ICW4 follows
#define ICW3_MASTER_SLAVE_ON_IRQ2 (1 << 2)
#define ICW3_SLAVE_ID 2
#define ICW4_8086 0x01

#define PIC1_VECTOR 0x20
#define PIC2_VECTOR 0x28
#define PIC_MASK_ALL 0xff

#define POST_PORT 0x80 // unused port: writing it gives the old PIC time to settle

static void pic_write(uint16_t port, uint8_t v)
{
	outb(port, v);
	outb(POST_PORT, 0);
}

void pic_disable(void)
{
	pic_write(PIC1_DATA, PIC_MASK_ALL);
	pic_write(PIC2_DATA, PIC_MASK_ALL);

	pic_write(PIC1_CMD, ICW1_INIT | ICW1_ICW4);
	pic_write(PIC2_CMD, ICW1_INIT | ICW1_ICW4);
	pic_write(PIC1_DATA, PIC1_VECTOR); // ICW2: vector base
	pic_write(PIC2_DATA, PIC2_VECTOR);
	pic_write(PIC1_DATA, ICW3_MASTER_SLAVE_ON_IRQ2);
	pic_write(PIC2_DATA, ICW3_SLAVE_ID);
	pic_write(PIC1_DATA, ICW4_8086);
	pic_write(PIC2_DATA, ICW4_8086);

	// OCW1: initialisation leaves the mask cleared, so mask every line again.
	pic_write(PIC1_DATA, PIC_MASK_ALL);
	pic_write(PIC2_DATA, PIC_MASK_ALL);
}
