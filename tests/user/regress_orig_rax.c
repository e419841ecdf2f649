// Regression: an interrupt that finds a signal pending must not "restart" a system call
// that never happened. Trapeze once left orig_rax at 0 for interrupts, so a program
// spinning with -ERESTARTSYS (-512) in RAX had RAX rewritten to -EINTR when a timer signal
// arrived. Linux leaves RAX alone.
#include "tap.h"

#include <signal.h>
#include <sys/time.h>

static volatile sig_atomic_t ticks;

static void on_alarm(int sig)
{
	ticks++;
}

// Spin with value in RAX (and a copy in RBX) until `want` signals have arrived; return
// the RAX value seen at the end.
static long spin_with_rax(long value, int want)
{
	long rax = value;

	while (ticks < want)
		__asm__ volatile("" : "+a"(rax));
	return rax;
}

static void check_rax_survives(long value)
{
	struct sigaction sa = { .sa_handler = on_alarm }; // no SA_RESTART
	struct itimerval it = { { 0, 10000 }, { 0, 10000 } };

	sigaction(SIGALRM, &sa, NULL);
	ticks = 0;
	TAP_REQUIRE(setitimer(ITIMER_REAL, &it, NULL) == 0);
	TAP_CHECK_EQ(spin_with_rax(value, 5), value);
	it.it_value.tv_usec = it.it_interval.tv_usec = 0;
	setitimer(ITIMER_REAL, &it, NULL);
}

static void test_erestartsys(void)
{
	check_rax_survives(-512); // -ERESTARTSYS
}

static void test_erestartnohand(void)
{
	check_rax_survives(-514); // -ERESTARTNOHAND
}

static void test_erestartnointr(void)
{
	check_rax_survives(-513); // -ERESTARTNOINTR
}

static const struct tap_test tests[] = {
	{ "RAX = -ERESTARTSYS survives a timer signal outside any system call", test_erestartsys },
	{ "RAX = -ERESTARTNOHAND survives a timer signal", test_erestartnohand },
	{ "RAX = -ERESTARTNOINTR survives a timer signal", test_erestartnointr },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
