// The interrupt hardware and clocks behind asm/irq.h: the local APIC (xAPIC, MMIO), the
// I/O APIC, the legacy 8259 PICs (masked), and the TSC, PIT and CMOS RTC used for time.
// Hardware formats: Intel SDM vol. 3 ch. 11 (APIC), 82093AA datasheet (I/O APIC).
//
// Boot order (interrupts off throughout):
//	acpi_init() -> apic_init() -> tsc_calibrate() -> apic_timer_start(hz)
// then ioapic_route_isa() for each device IRQ, and sti.
#pragma once

#include <trapeze/types.h>

// Local APIC registers: byte offsets from its MMIO base; each is 32 bits wide.
#define LAPIC_ID 0x020
#define LAPIC_VERSION 0x030
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_ESR 0x280
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_THERMAL 0x330
#define LAPIC_LVT_PERF 0x340
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CURRENT 0x390
#define LAPIC_TIMER_DIVIDE 0x3e0

#define LAPIC_SVR_ENABLE (1U << 8)
#define LAPIC_LVT_MASKED (1U << 16)
#define LAPIC_LVT_LEVEL (1U << 15)
#define LAPIC_LVT_ACTIVE_LOW (1U << 13)
#define LAPIC_LVT_DELIVERY_NMI (4U << 8)
#define LAPIC_TIMER_PERIODIC (1U << 17)
#define LAPIC_TIMER_DIV16 0x3 // divide configuration encoding for "divide by 16"

#define MSR_APIC_BASE_ENABLE (1UL << 11) // xAPIC global enable
#define MSR_APIC_BASE_X2APIC (1UL << 10)
#define MSR_APIC_BASE_ADDR_MASK 0x000ffffffffff000UL

// I/O APIC: an index register and a data window; redirection entry n is the 64-bit pair
// of registers IOAPIC_REDTBL(n) (low half) and IOAPIC_REDTBL(n) + 1 (high half).
#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN 0x10
#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VERSION 0x01 // bits 23:16 hold the highest redirection entry index
#define IOAPIC_REDTBL(n) (0x10 + 2 * (n))

#define IOAPIC_RTE_MASKED (1U << 16)
#define IOAPIC_RTE_LEVEL (1U << 15)
#define IOAPIC_RTE_ACTIVE_LOW (1U << 13)
#define IOAPIC_RTE_LOGICAL (1U << 11) // clear: physical destination mode
#define IOAPIC_RTE_DEST_SHIFT 24      // in the high half: destination APIC id

// Remap the two 8259 PICs to vectors 0x20-0x2f and mask all their lines (pic.c).
// Called by apic_init(). Context: boot, interrupts off.
void pic_disable(void);

// The APIC id of the CPU running this (read from its local APIC).
// Context: any, after apic_init().
uint32_t apic_id(void);
// The boot CPU's APIC id, the destination of every routed ISA interrupt.
extern uint32_t boot_apic_id;

// Program I/O APIC input gsi to deliver vector to the boot CPU with the given polarity and
// trigger mode, unmasked. Returns 0, -EINVAL for a vector outside IRQ_BASE_VECTOR..0xfe, or
// -ENODEV if no I/O APIC has that input. ioapic_route_isa() is this after the MADT overrides.
// Context: any; takes ioapic_lock with interrupts saved.
int ioapic_route_gsi(uint32_t gsi, int vector, bool active_low, bool level);
// Mask I/O APIC input gsi again. Returns 0 or -ENODEV.
int ioapic_mask_gsi(uint32_t gsi);

// LAPIC timer input frequency after the divide-by-16, in Hz (0 until apic_timer_start).
extern uint64_t apic_timer_freq_hz;

// --- time (tsc.c) -------------------------------------------------------------------------

#define PIT_HZ 1193182 // the 8254's input clock

// Convert a TSC cycle count to nanoseconds with the calibrated frequency. Exact to the
// calibration for any 64-bit count (128-bit intermediate), so no overflow for years.
uint64_t tsc_cycles_to_ns(uint64_t cycles);
// Busy-wait at least us microseconds. Context: any, after tsc_calibrate().
void tsc_delay_us(uint64_t us);
// A measurement of the TSC against PIT channel 2: cycles elapsed over ticks of PIT_HZ,
// with slack the TSC cycles by which its two ends are uncertain (add +-1 tick of reading).
struct pit_measurement {
	uint64_t cycles;
	uint32_t ticks;
	uint64_t slack;
};

// Measure the TSC over at least min_ticks (1..0xf000) PIT ticks. Returns 0; -EINVAL for a
// bad min_ticks; -EIO if the PIT does not count; -EAGAIN if a stall longer than the PIT's
// 55 ms countdown spoiled the measurement (try again).
// Context: boot or tests, interrupts off; uses PIT channel 2 and port 0x61, owned by nobody else.
int pit_measure_tsc(unsigned int min_ticks, struct pit_measurement *m);

// Wall clock: nanoseconds since the Unix epoch (UTC), the CMOS RTC read at tsc_calibrate()
// plus time_ns() since. 1-second resolution at the origin. Context: any.
uint64_t time_realtime_ns(void);

// A calendar time as the CMOS RTC holds it, converted to binary, 24-hour, full year.
struct rtc_time {
	int year, month, day; // month 1..12, day 1..31
	int hour, min, sec;
};

// Read the CMOS RTC (waits out an update in progress). Returns 0, or -EIO if the clock
// never became readable or gave values out of range. Context: boot or process context;
// not reentrant (ports 0x70/0x71 are an index/data pair).
int rtc_read(struct rtc_time *tm);
// Seconds since 1970-01-01T00:00:00Z for a valid tm (proleptic Gregorian calendar).
int64_t rtc_time_to_unix(const struct rtc_time *tm);
