// Regression: a signal frame that does not fit on the alternate stack the task is already
// running on must not be written below that stack. Trapeze checked the room left only when
// it switched onto the alternate stack, so a nested frame (a handler whose signal arrives
// again while it runs there) went on below the stack's bottom, over whatever memory lay
// there — and once the frames had left the stack, the next signal "entered" it again at
// the top, over the live frames. Linux kills the task with SIGSEGV instead.
#define _GNU_SOURCE
#include "tap.h"

#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define PAGE_SIZE 4096
#define GUARD_PAGES 2 // below the alternate stack: must stay untouched
#define PATTERN 0x5a

// Shared with the parent, which inspects it after the child died.
struct nest_state {
	volatile int depth;
	int pid;
};

static struct nest_state *state;
static char *area; // GUARD_PAGES, then one page of alternate stack, then a page above

// The handler: count the level and send the signal again, using no stack at all, so every
// byte written on the alternate stack is the kernel's frames. The signal arrives on the
// way out of tgkill, so each level nests on the frame of the one before.
#define STR_(x) #x
#define STR(x) STR_(x)
void nest_handler(int sig);
__asm__(".text\n"
	"nest_handler:\n\t"
	"mov state(%rip), %rax\n\t"
	"lock incl (%rax)\n\t"		// state->depth
	"mov 4(%rax), %edi\n\t"		// state->pid: the tgid
	"mov %edi, %esi\n\t"		// and the tid, with one thread
	"mov $" STR(SIGUSR1) ", %edx\n\t"
	"mov $" STR(SYS_tgkill) ", %eax\n\t"
	"syscall\n\t"
	"ret\n");

static void nest_on_altstack(void)
{
	stack_t ss = { .ss_sp = area + GUARD_PAGES * PAGE_SIZE, .ss_size = PAGE_SIZE };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = nest_handler;
	sa.sa_flags = SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	state->pid = getpid();
	if (sigaltstack(&ss, NULL) || sigaction(SIGUSR1, &sa, NULL))
		_exit(2);
	raise(SIGUSR1);
	_exit(0); // not reached: the nesting never ends until a frame does not fit
}

static void test_nested_overflow(void)
{
	size_t size = (GUARD_PAGES + 2) * PAGE_SIZE;
	int dirty = 0;

	area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	TAP_REQUIRE(area != MAP_FAILED);
	state = (struct nest_state *)(area + size - PAGE_SIZE);
	memset(area, PATTERN, GUARD_PAGES * PAGE_SIZE);
	TAP_CHECK_KILLED_BY(nest_on_altstack, SIGSEGV);
	for (size_t i = 0; i < GUARD_PAGES * PAGE_SIZE; i++)
		dirty += (unsigned char)area[i] != PATTERN;
	TAP_CHECK_EQ(dirty, 0);
	TAP_CHECK(state->depth >= 1);
	tap_diag("handler levels before the overflow: %d", state->depth);
}

static const struct tap_test tests[] = {
	{ "a nested frame that does not fit on the alternate stack is SIGSEGV, nothing below "
	  "it is written", test_nested_overflow },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
