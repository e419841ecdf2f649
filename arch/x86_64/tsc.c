// Time: the TSC is the clock, the PIT measures its frequency once at boot, and the CMOS
// RTC gives the wall-clock time at that moment.
//
// time_ns() = (rdtsc() - tsc_base) * tsc_ns_mult >> TSC_NS_SHIFT, with a 128-bit product so
// any 64-bit cycle count converts without overflow (at 3 GHz, 2^64 cycles is 195 years).
// The TSC is assumed constant-rate (true under QEMU TCG, where it follows the host clock,
// and on every CPU with the invariant-TSC bit).
//
// The calibration variables are written once by tsc_calibrate() at boot, before interrupts
// are enabled, and only read afterwards: no lock. The CMOS index/data port pair is shared
// state: cmos_lock serialises it.

#include <asm/acpi.h>
#include <asm/apic.h>
#include <asm/irq.h>
#include <asm/x86.h>
#include <trapeze/panic.h>
#include <trapeze/printk.h>
#include <trapeze/spinlock.h>
#include <trapeze/string.h>
#include <uapi/errno.h>

#define PIT_CH2_DATA 0x42
#define PIT_CMD 0x43
#define PIT_CMD_CH2 (2 << 6)
#define PIT_CMD_LOHI (3 << 4)   // write the count low byte, then high byte
#define PIT_CMD_MODE0 (0 << 1) // interrupt on terminal count: OUT rises when it reaches 0
#define PIT_CMD_LATCH (0 << 4) // access bits 00: latch the count for reading
#define PIT_COUNT_START 0xffff // counting down from here takes 55 ms
#define PIT_MAX_MEASURE_TICKS 0xf000 // leaves margin before the count reaches 0
#define PIT_SAMPLES 8

// Port 0x61 (NMI status and control): bit 0 gates PIT channel 2, bit 1 connects it to the
// speaker (kept off), bit 5 reads channel 2's OUT; bits 2-3 are NMI enables to be preserved.
#define PORT_B 0x61
#define PORT_B_GATE2 0x01
#define PORT_B_KEEP 0x0c
#define PORT_B_OUT2 0x20

// One measurement of at least 10 ms, repeated (up to 4 times) only if its two samples were
// uncertain by more than 1/2000 of it; the least uncertain one wins. Each sample is read to
// one PIT tick (838 ns), so the result is good to about 100 ppm; calibration costs about
// 10 ms of boot.
#define TSC_CAL_PIT_TICKS (PIT_HZ / 100)
#define TSC_CAL_MAX_RUNS 4
#define TSC_CAL_SLACK_DIV 2000
// Give up on the PIT after 2^32 cycles: over 0.4 s even at 10 GHz.
#define PIT_TIMEOUT_CYCLES (1ULL << 32)
// All calibration runs together stop after this many cycles (about 1.5 s at 3 GHz): a
// host so loaded that no run succeeds by then gets the best run so far, or CPUID's figure.
#define TSC_CAL_BUDGET_CYCLES (1ULL << 32)

#define TSC_NS_SHIFT 40 // (10^6 << 40) / tsc_khz fits in 64 bits for any tsc_khz >= 1
#define NSEC_PER_SEC 1000000000ULL

uint64_t tsc_khz;
static uint64_t tsc_ns_mult; // nanoseconds per cycle, scaled by 2^TSC_NS_SHIFT
static uint64_t tsc_base;    // the TSC value time_ns() counts from
static uint64_t realtime_base_ns; // Unix time in ns when the TSC read tsc_base

// One latched reading of PIT channel 2.
struct pit_sample {
	uint64_t tsc;   // when the count was latched (midpoint of the latch write)
	uint64_t slack; // TSC cycles the latch write took: the uncertainty of tsc
	uint16_t count;
};

// Latch channel 2's count. The count is captured by the latch command's write, so tsc is
// the midpoint of that one write and slack its width; reading the bytes takes no part.
static struct pit_sample pit_sample_once(void)
{
	struct pit_sample ps;
	uint64_t t0, t1;

	t0 = rdtsc();
	outb(PIT_CMD, PIT_CMD_CH2 | PIT_CMD_LATCH);
	t1 = rdtsc();
	ps.count = inb(PIT_CH2_DATA);
	ps.count |= inb(PIT_CH2_DATA) << 8;
	ps.tsc = t0 + (t1 - t0) / 2;
	ps.slack = t1 - t0;
	return ps;
}

// The tightest of a few samples: under TCG a port write can wait milliseconds for QEMU's
// global lock, and such a sample says little about when the count was taken.
static struct pit_sample pit_sample_best(void)
{
	struct pit_sample best = pit_sample_once();

	for (int i = 1; i < PIT_SAMPLES; i++) {
		struct pit_sample ps = pit_sample_once();

		if (ps.slack < best.slack)
			best = ps;
	}
	return best;
}

// Stalls between the two samples cost nothing, since both clocks keep running, unless one
// outlasts the whole countdown and the count wraps: OUT2 going high reveals that.
int pit_measure_tsc(unsigned int min_ticks, struct pit_measurement *m)
{
	uint8_t port_b = inb(PORT_B) & PORT_B_KEEP;
	struct pit_sample a, b;
	uint64_t start = rdtsc();
	int err = -EIO;

	if (min_ticks == 0 || min_ticks > PIT_MAX_MEASURE_TICKS)
		return -EINVAL;
	outb(PORT_B, port_b | PORT_B_GATE2); // gate on, speaker off
	outb(PIT_CMD, PIT_CMD_CH2 | PIT_CMD_LOHI | PIT_CMD_MODE0);
	outb(PIT_CH2_DATA, 0xff);
	outb(PIT_CH2_DATA, 0xff);
	// A real 8254 loads the count on its next input clock: wait until it is counting.
	do {
		a = pit_sample_best();
		if (a.tsc - start > PIT_TIMEOUT_CYCLES)
			goto out;
	} while (a.count >= PIT_COUNT_START - 1);
	do {
		b = pit_sample_once();
		if (b.tsc - a.tsc > PIT_TIMEOUT_CYCLES)
			goto out;
	} while ((uint16_t)(a.count - b.count) < min_ticks);
	b = pit_sample_best();
	err = -EAGAIN;
	if (inb(PORT_B) & PORT_B_OUT2)
		goto out;
	m->ticks = a.count - b.count;
	m->cycles = b.tsc - a.tsc;
	m->slack = a.slack + b.slack;
	err = 0;
out:
	outb(PORT_B, port_b);
	return err;
}

uint64_t tsc_cycles_to_ns(uint64_t cycles)
{
	return (uint64_t)(((unsigned __int128)cycles * tsc_ns_mult) >> TSC_NS_SHIFT);
}

uint64_t time_ns(void)
{
	if (!tsc_ns_mult)
		return 0;
	return tsc_cycles_to_ns(rdtsc() - tsc_base);
}

uint64_t time_realtime_ns(void)
{
	return realtime_base_ns + time_ns();
}

void tsc_delay_us(uint64_t us)
{
	uint64_t t0 = rdtsc(), cycles = us * tsc_khz / 1000;

	while (rdtsc() - t0 < cycles)
		cpu_relax();
}

// The frequency from CPUID leaf 0x16 (processor base MHz), or 0 if the CPU does not say.
static uint64_t tsc_khz_from_cpuid(void)
{
	uint32_t max, b, c, d, mhz;

	cpuid(0, 0, &max, &b, &c, &d);
	if (max < 0x16)
		return 0;
	cpuid(0x16, 0, &mhz, &b, &c, &d);
	return (uint64_t)(mhz & 0xffff) * 1000;
}

static void realtime_init(void)
{
	struct rtc_time tm;
	int err = rtc_read(&tm);

	if (!err && rtc_time_to_unix(&tm) < 0)
		err = -ERANGE;
	if (err) {
		pr_warn("tsc: CMOS RTC unreadable (error %d); wall clock starts at 1970\n", err);
		realtime_base_ns = 0;
		return;
	}
	realtime_base_ns = (uint64_t)rtc_time_to_unix(&tm) * NSEC_PER_SEC - time_ns();
}

// Context: boot, interrupts off, after cpu_init() (rtc_read takes a spinlock).
void tsc_calibrate(void)
{
	struct pit_measurement best = { .slack = UINT64_MAX };
	uint64_t start = rdtsc();

	for (int i = 0; i < TSC_CAL_MAX_RUNS && rdtsc() - start < TSC_CAL_BUDGET_CYCLES; i++) {
		struct pit_measurement m;
		int err = pit_measure_tsc(TSC_CAL_PIT_TICKS, &m);

		if (err == -EIO)
			break; // the PIT does not count; retrying will not help
		if (err)
			continue;
		if (m.slack < best.slack)
			best = m;
		if (m.slack <= m.cycles / TSC_CAL_SLACK_DIV)
			break;
	}
	if (best.cycles) {
		tsc_khz = best.cycles * PIT_HZ / ((uint64_t)best.ticks * 1000);
	} else {
		tsc_khz = tsc_khz_from_cpuid();
		if (!tsc_khz)
			panic("tsc: PIT channel 2 unusable and CPUID gives no frequency");
		pr_warn("tsc: PIT unusable; taking %lu kHz from CPUID\n", (unsigned long)tsc_khz);
	}
	tsc_ns_mult = (1000000ULL << TSC_NS_SHIFT) / tsc_khz;
	tsc_base = rdtsc();
	realtime_init();
}

// --- CMOS real-time clock -------------------------------------------------------------------

#define CMOS_INDEX 0x70 // bit 7 of the index would disable NMIs: kept clear
#define CMOS_DATA 0x71

#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS 0x04
#define RTC_DAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_STATUS_A 0x0a
#define RTC_STATUS_B 0x0b

#define RTC_A_UPDATING 0x80 // an update is in progress or starts within 244 us
#define RTC_B_24H 0x02
#define RTC_B_BINARY 0x04
#define RTC_HOUR_PM 0x80 // in 12-hour mode

#define RTC_READY_SPINS 1000000 // an update lasts under 2 ms; this is far longer
#define RTC_READ_TRIES 5

static DEFINE_SPINLOCK(cmos_lock);

// The raw register values, in the RTC's own format (BCD or binary, 12 or 24 hour).
struct rtc_raw {
	uint8_t sec, min, hour, day, month, year, century;
};

static uint8_t cmos_read(uint8_t reg)
{
	outb(CMOS_INDEX, reg);
	return inb(CMOS_DATA);
}

static int rtc_read_raw(struct rtc_raw *r)
{
	int spins = 0;

	while (cmos_read(RTC_STATUS_A) & RTC_A_UPDATING)
		if (++spins == RTC_READY_SPINS)
			return -EIO;
	r->sec = cmos_read(RTC_SECONDS);
	r->min = cmos_read(RTC_MINUTES);
	r->hour = cmos_read(RTC_HOURS);
	r->day = cmos_read(RTC_DAY);
	r->month = cmos_read(RTC_MONTH);
	r->year = cmos_read(RTC_YEAR);
	r->century = acpi_info.rtc_century_reg ? cmos_read(acpi_info.rtc_century_reg) : 0;
	return 0;
}

// A register in the RTC's number format: binary, or two BCD digits.
static int rtc_field(uint8_t v, bool binary)
{
	return binary ? v : (v >> 4) * 10 + (v & 0xf);
}

static void rtc_decode(const struct rtc_raw *r, uint8_t status_b, struct rtc_time *tm)
{
	bool binary = status_b & RTC_B_BINARY, h24 = status_b & RTC_B_24H;
	int century = rtc_field(r->century, binary);

	tm->sec = rtc_field(r->sec, binary);
	tm->min = rtc_field(r->min, binary);
	tm->hour = rtc_field(r->hour & ~RTC_HOUR_PM, binary);
	tm->day = rtc_field(r->day, binary);
	tm->month = rtc_field(r->month, binary);
	// 12-hour mode counts 12, 1, ..., 11 AM, then 12, 1, ..., 11 PM.
	if (!h24)
		tm->hour = tm->hour % 12 + ((r->hour & RTC_HOUR_PM) ? 12 : 0);
	// Without a believable century register, two-digit years are 20xx.
	if (century < 19 || century > 99)
		century = 20;
	tm->year = century * 100 + rtc_field(r->year, binary);
}

static bool rtc_time_valid(const struct rtc_time *tm)
{
	return tm->month >= 1 && tm->month <= 12 && tm->day >= 1 && tm->day <= 31 &&
	       tm->hour >= 0 && tm->hour < 24 && tm->min >= 0 && tm->min < 60 &&
	       tm->sec >= 0 && tm->sec < 60;
}

// Two identical reads in a row guarantee no update happened in the middle of one.
int rtc_read(struct rtc_time *tm)
{
	struct rtc_raw a, b;
	uint8_t status_b;
	uint64_t flags;
	int err, tries;

	flags = spin_lock_irqsave(&cmos_lock);
	err = rtc_read_raw(&a);
	for (tries = 0; !err; tries++) {
		if (tries == RTC_READ_TRIES) {
			err = -EIO;
			break;
		}
		err = rtc_read_raw(&b);
		if (err || memcmp(&a, &b, sizeof(a)) == 0)
			break;
		a = b;
	}
	status_b = cmos_read(RTC_STATUS_B);
	spin_unlock_irqrestore(&cmos_lock, flags);
	if (err)
		return err;
	rtc_decode(&a, status_b, tm);
	return rtc_time_valid(tm) ? 0 : -EIO;
}

static bool is_leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int64_t rtc_time_to_unix(const struct rtc_time *tm)
{
	static const int days_before_month[12] = { 0,   31,  59,  90,  120, 151,
						   181, 212, 243, 273, 304, 334 };
	int64_t days = 0;

	for (int y = 1970; y < tm->year; y++)
		days += is_leap_year(y) ? 366 : 365;
	for (int y = tm->year; y < 1970; y++)
		days -= is_leap_year(y) ? 366 : 365;
	days += days_before_month[tm->month - 1] + tm->day - 1;
	if (tm->month > 2 && is_leap_year(tm->year))
		days++;
	return ((days * 24 + tm->hour) * 60 + tm->min) * 60 + tm->sec;
}
