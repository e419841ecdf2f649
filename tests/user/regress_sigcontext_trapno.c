// Regression: a fault handler saw uc_mcontext.trapno and .err as 0 (or a guess) instead of
// the exception's vector and error code. Linux fills them from the trap; sanitizers and
// debuggers read REG_ERR's write bit to tell a faulting store from a load.
#define _GNU_SOURCE
#include "tap.h"

#include <setjmp.h>
#include <signal.h>
#include <ucontext.h>

#define PF_WRITE 0x2
#define PF_USER 0x4

static sigjmp_buf env;
static volatile long seen_trapno = -1, seen_err = -1, seen_cr2 = -1;

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;

	seen_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
	seen_err = uc->uc_mcontext.gregs[REG_ERR];
	seen_cr2 = (long)uc->uc_mcontext.gregs[REG_CR2];
	siglongjmp(env, 1);
}

static void catch(int sig)
{
	struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_NODEFER };

	sigaction(sig, &sa, NULL);
}

static void test_write_fault(void)
{
	catch(SIGSEGV);
	if (!sigsetjmp(env, 1))
		__asm__ volatile("movl $1, 16" ::: "memory");
	TAP_CHECK_EQ(seen_trapno, 14);
	TAP_CHECK((seen_err & (PF_WRITE | PF_USER)) == (PF_WRITE | PF_USER));
	TAP_CHECK_EQ(seen_cr2, 16);
}

static void test_read_fault(void)
{
	int v;

	catch(SIGSEGV);
	if (!sigsetjmp(env, 1))
		__asm__ volatile("movl 24, %0" : "=r"(v) : : "memory");
	TAP_CHECK_EQ(seen_trapno, 14);
	TAP_CHECK((seen_err & (PF_WRITE | PF_USER)) == PF_USER);
	TAP_CHECK_EQ(seen_cr2, 24);
}

static void test_divide_error(void)
{
	catch(SIGFPE);
	if (!sigsetjmp(env, 1))
		__asm__ volatile("xorl %%ecx, %%ecx; movl $1, %%eax; cltd; idivl %%ecx"
				 ::: "eax", "ecx", "edx");
	TAP_CHECK_EQ(seen_trapno, 0);
}

static void test_invalid_opcode(void)
{
	catch(SIGILL);
	if (!sigsetjmp(env, 1))
		__asm__ volatile("ud2");
	TAP_CHECK_EQ(seen_trapno, 6);
}

static const struct tap_test tests[] = {
	{ "a store to an unmapped page: trapno 14, err has the write and user bits", test_write_fault },
	{ "a load from an unmapped page: trapno 14, err without the write bit", test_read_fault },
	{ "divide error: trapno 0", test_divide_error },
	{ "ud2: trapno 6", test_invalid_opcode },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
