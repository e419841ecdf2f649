// Tests for the clocks in arch/x86_64/tsc.c: the calibrated TSC frequency, time_ns() and
// its conversion arithmetic, the PIT cross-check, and the CMOS RTC wall clock.
// The timed tests run with interrupts off so a timer tick or a reschedule cannot stretch
// the interval being measured; each one busy-waits at most about 20 ms.

#include <asm/apic.h>
#include <asm/irq.h>
#include <asm/x86.h>
#include <trapeze/ktest.h>
#include <uapi/errno.h>

#define NS_PER_MS 1000000ULL
#define NS_PER_SEC 1000000000ULL
#define UNIX_2024 1704067200LL // 2024-01-01T00:00:00Z
#define UNIX_2200 7258118400LL // 2200-01-01T00:00:00Z

KTEST(tsc_khz_sane, "TSC frequency is between 100 MHz and 20 GHz")
{
	KT_EXPECT(t, tsc_khz >= 100000);
	KT_EXPECT(t, tsc_khz <= 20000000);
}

KTEST(time_ns_monotonic, "time_ns never goes backwards and does advance")
{
	uint64_t first = time_ns(), prev = first;
	bool backwards = false;

	for (int i = 0; i < 10000; i++) {
		uint64_t now = time_ns();

		if (now < prev)
			backwards = true;
		prev = now;
	}
	KT_EXPECT(t, !backwards);
	KT_EXPECT(t, prev > first);
}

// Plain arithmetic, independent of tsc.c's multiply-and-shift (exact for short intervals).
static uint64_t cycles_to_ns_slow(uint64_t cycles)
{
	return cycles * 1000000 / tsc_khz;
}

// Each time_ns() is bracketed by two TSC reads, so a stall anywhere (QEMU's vCPU thread being
// descheduled) only widens the bracket instead of failing the test.
KTEST(time_ns_busy_wait, "time_ns advances by 20 ms over 20 ms worth of TSC cycles")
{
	uint64_t cycles = tsc_khz * 20, c0, c0_end, c1, c1_end, t0, t1;

	c0 = rdtsc();
	t0 = time_ns();
	c0_end = rdtsc();
	while (rdtsc() - c0_end < cycles)
		cpu_relax();
	c1 = rdtsc();
	t1 = time_ns();
	c1_end = rdtsc();
	KT_EXPECT(t, t1 - t0 >= 20 * NS_PER_MS - 20 * NS_PER_MS / 1000);
	// Within the bracket, allowing 0.01% for the conversion's rounding.
	KT_EXPECT(t, t1 - t0 >= cycles_to_ns_slow(c1 - c0_end) * 9999 / 10000);
	KT_EXPECT(t, t1 - t0 <= cycles_to_ns_slow(c1_end - c0) * 10001 / 10000);
}

// The PIT is an independent clock: this catches a wrong tsc_khz or a wrong conversion.
// A stall at an end of the interval (see pit_measure_tsc) makes a sample useless, so take
// the first of up to 4 whose ends are known to 0.1%.
KTEST(time_ns_matches_pit, "10 ms on the PIT is 10 ms of time_ns, within 1%")
{
	struct pit_measurement m = { 0 };
	uint64_t flags, t0 = 0, t1 = 0, pit_ns;
	int err = 0;

	for (int i = 0; i < 4; i++) {
		flags = local_irq_save();
		t0 = time_ns();
		err = pit_measure_tsc(PIT_HZ / 100, &m);
		t1 = time_ns();
		local_irq_restore(flags);
		if (err == -EIO || (!err && m.slack <= m.cycles / 1000))
			break;
	}
	KT_EXPECT(t, err == 0);
	if (err)
		return;
	pit_ns = (uint64_t)m.ticks * NS_PER_SEC / PIT_HZ;
	KT_EXPECT(t, m.ticks >= PIT_HZ / 100);
	KT_EXPECT(t, m.slack <= m.cycles / 1000);
	KT_EXPECT(t, tsc_cycles_to_ns(m.cycles) >= pit_ns * 99 / 100);
	KT_EXPECT(t, tsc_cycles_to_ns(m.cycles) <= pit_ns * 101 / 100);
	KT_EXPECT(t, t1 - t0 >= pit_ns * 99 / 100);
}

// Bug guarded against: a 64-bit cycles * ns-per-cycle product overflows after hours.
KTEST(tsc_ns_no_overflow, "cycle-to-ns conversion is exact for days and centuries")
{
	uint64_t days30 = 30ULL * 86400 * NS_PER_SEC;
	uint64_t got = tsc_cycles_to_ns(tsc_khz * 1000 * 30 * 86400);
	uint64_t huge = 1ULL << 62, expect = huge / tsc_khz * 1000000;

	KT_EXPECT(t, got >= days30 - days30 / 1000000 && got <= days30 + days30 / 1000000);
	got = tsc_cycles_to_ns(huge);
	KT_EXPECT(t, got >= expect - expect / 1000000 && got <= expect + expect / 1000000);
	KT_EXPECT(t, tsc_cycles_to_ns(0) == 0);
}

KTEST(rtc_time_to_unix_known_dates, "calendar to Unix time on known dates")
{
	struct rtc_time epoch = { 1970, 1, 1, 0, 0, 0 };
	struct rtc_time y2k_march = { 2000, 3, 1, 0, 0, 0 };      // after a 400-year leap day
	struct rtc_time leap_day = { 2024, 2, 29, 12, 34, 56 };
	struct rtc_time no_leap_2100 = { 2100, 3, 1, 0, 0, 0 };   // 2100 has no Feb 29
	struct rtc_time y2038 = { 2038, 1, 19, 3, 14, 8 };
	struct rtc_time before_epoch = { 1969, 12, 31, 23, 59, 59 };

	KT_EXPECT(t, rtc_time_to_unix(&epoch) == 0);
	KT_EXPECT(t, rtc_time_to_unix(&y2k_march) == 951868800);
	KT_EXPECT(t, rtc_time_to_unix(&leap_day) == 1709210096);
	KT_EXPECT(t, rtc_time_to_unix(&no_leap_2100) == 4107542400LL);
	KT_EXPECT(t, rtc_time_to_unix(&y2038) == 2147483648LL);
	KT_EXPECT(t, rtc_time_to_unix(&before_epoch) == -1);
}

KTEST(rtc_plausible, "the RTC reads a plausible date (2024 or later)")
{
	struct rtc_time tm;
	int err = rtc_read(&tm);
	int64_t rtc_now, wall_now = time_realtime_ns() / NS_PER_SEC;

	KT_EXPECT(t, err == 0);
	if (err)
		return;
	KT_EXPECT(t, tm.year >= 2024 && tm.year < 2200);
	rtc_now = rtc_time_to_unix(&tm);
	KT_EXPECT(t, wall_now >= UNIX_2024 && wall_now < UNIX_2200);
	// The wall clock is the boot-time RTC plus time_ns(): it must still agree with the RTC
	// to within the RTC's 1-second resolution (and a second of slack for the read).
	KT_EXPECT(t, wall_now - rtc_now <= 2 && rtc_now - wall_now <= 2);
}
