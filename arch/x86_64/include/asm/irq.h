// Interrupt vectors and handler registration.
//	0..31    CPU exceptions (traps.c)
//	32..47   legacy ISA IRQs routed through the I/O APIC (IRQ n -> vector 32 + n)
//	0xef     local APIC timer
//	0xff     spurious
#pragma once

#include <trapeze/types.h>

struct pt_regs;

#define IRQ_BASE_VECTOR 32
#define TIMER_VECTOR 0xef
#define SPURIOUS_VECTOR 0xff

// An interrupt handler runs in interrupt context on the per-CPU interrupt stack with
// interrupts off; it must not sleep. The end-of-interrupt is sent by the caller.
typedef void (*irq_handler_t)(struct pt_regs *regs, void *data);

void irq_register(int vector, irq_handler_t fn, void *data);
void idt_init(void);

// Local and I/O APIC (apic.c), found through ACPI (acpi.c).
void acpi_init(void);
void apic_init(void);
void apic_eoi(void);
// Route ISA IRQ irq (after MADT overrides) to vector on this CPU, unmasked.
void ioapic_route_isa(int irq, int vector);
void apic_timer_start(unsigned int hz);

// Time (tsc.c): nanoseconds since boot from the calibrated TSC.
void tsc_calibrate(void);
uint64_t time_ns(void);
extern uint64_t tsc_khz;
