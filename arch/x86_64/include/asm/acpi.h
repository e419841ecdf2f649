// What the kernel takes from the ACPI tables (acpi.c): where the local and I/O APICs
// are, which CPUs exist, how the ISA IRQs reach the I/O APIC inputs (global system
// interrupts, GSIs), and which CMOS register holds the century.
//
// acpi_init() fills acpi_info once at boot, before apic_init(); afterwards it is read-only
// and needs no lock. With no usable MADT it holds the PC defaults (one I/O APIC at
// 0xfec00000 with GSI base 0, local APIC at 0xfee00000, ISA IRQ n on GSI n).
#pragma once

#include <trapeze/types.h>

#define ACPI_MAX_IOAPICS 8
#define ACPI_MAX_CPUS 64
#define ACPI_ISA_IRQS 16

#define ACPI_DEFAULT_LAPIC_ADDR 0xfee00000UL
#define ACPI_DEFAULT_IOAPIC_ADDR 0xfec00000UL

struct acpi_ioapic {
	uint8_t id;
	phys_addr_t addr;
	uint32_t gsi_base; // its first input is this GSI
};

// Where one ISA IRQ arrives, after the MADT's interrupt source overrides. ISA lines are
// active-high and edge-triggered unless an override says otherwise.
struct acpi_isa_route {
	uint32_t gsi;
	bool active_low;
	bool level;
};

struct acpi_info {
	bool madt_found;
	phys_addr_t lapic_addr;
	bool pcat_compat; // MADT says dual 8259s are present (they must be masked)
	int nr_ioapics;
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	int nr_cpus;
	uint32_t cpu_apic_ids[ACPI_MAX_CPUS]; // enabled processors, boot CPU among them
	struct acpi_isa_route isa[ACPI_ISA_IRQS];
	// LAPIC NMI input (MADT type 4) for all processors, or -1 if the MADT names none.
	int nmi_lint;
	bool nmi_active_low, nmi_level;
	uint8_t rtc_century_reg; // FADT CENTURY: CMOS index of the century, 0 if absent
};

extern struct acpi_info acpi_info;

// void acpi_init(void) is declared in asm/irq.h.
