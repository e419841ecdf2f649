// Regression: when the kernel cannot build a handler's signal frame (the stack pointer is
// bad, or the action has no SA_RESTORER to return through), Linux raises SIGSEGV
// (force_sigsegv), which a SIGSEGV handler on the alternate stack can catch — how a program
// reports a stack overflow that a timer signal, not a fault, ran into. Trapeze killed the
// task outright. Only when SIGSEGV's own frame cannot be built does the task die of it.
#define _GNU_SOURCE
#include "tap.h"

#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define PAGE_SIZE 4096
#define ALTSTACK_SIZE (64 << 10)
#define CAUGHT_STATUS 42

static char altstack[ALTSTACK_SIZE] __attribute__((aligned(16)));

static void segv_exit(int sig)
{
	_exit(CAUGHT_STATUS);
}

static void nothing(int sig)
{
}

static void set_handler(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL))
		_exit(2);
}

static void segv_handler_on_altstack(void)
{
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };

	if (sigaltstack(&ss, NULL))
		_exit(2);
	set_handler(SIGSEGV, segv_exit, SA_ONSTACK);
}

// Send sig to ourselves with RSP at the top of an inaccessible page: the signal arrives on
// the way out of kill, where its frame cannot be written.
static void signal_with_bad_stack(int sig)
{
	char *bad = mmap(NULL, PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long ret;

	if (bad == MAP_FAILED)
		_exit(2);
	__asm__ volatile("mov %%rsp, %%r12\n\t"
			 "mov %[sp], %%rsp\n\t"
			 "syscall\n\t"
			 "mov %%r12, %%rsp"
			 : "=a"(ret)
			 : [sp] "r"(bad + PAGE_SIZE), "0"((long)SYS_kill), "D"((long)getpid()),
			   "S"((long)sig)
			 : "rcx", "r11", "r12", "memory");
}

static void bad_stack_child(void)
{
	segv_handler_on_altstack();
	set_handler(SIGUSR1, nothing, 0);
	signal_with_bad_stack(SIGUSR1);
	_exit(0); // not reached
}

// The kernel's struct sigaction, through the raw call: libc always adds SA_RESTORER.
struct kernel_sigaction {
	uint64_t handler, flags, restorer, mask;
};

static void no_restorer_child(void)
{
	struct kernel_sigaction ka = { (uint64_t)nothing, 0, 0, 0 };

	segv_handler_on_altstack();
	if (tap_syscall6(SYS_rt_sigaction, SIGUSR1, (long)&ka, 0, 8, 0, 0) != 0)
		_exit(2);
	raise(SIGUSR1);
	_exit(0);
}

// SIGSEGV's handler cannot run on the bad stack either: death by SIGSEGV, not a loop.
static void segv_frame_fails_child(void)
{
	set_handler(SIGSEGV, segv_exit, 0);
	signal_with_bad_stack(SIGSEGV);
	_exit(0);
}

static void test_bad_stack(void)
{
	int status = tap_fork_status(bad_stack_child);

	TAP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == CAUGHT_STATUS);
}

static void test_no_restorer(void)
{
	int status = tap_fork_status(no_restorer_child);

	TAP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == CAUGHT_STATUS);
}

static void test_segv_frame_fails(void)
{
	TAP_CHECK_KILLED_BY(segv_frame_fails_child, SIGSEGV);
}

static const struct tap_test tests[] = {
	{ "a frame on a bad stack raises SIGSEGV, caught on the alternate stack", test_bad_stack },
	{ "a handler without SA_RESTORER raises SIGSEGV, which can be caught", test_no_restorer },
	{ "SIGSEGV whose own frame cannot be built kills", test_segv_frame_fails },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
