// In-kernel unit tests. Each KTEST is one TAP test point; the runner (kernel/ktest.c)
// runs them all when the kernel is booted with the `ktest` argument, before user space.
//
//	KTEST(buddy_coalesces, "page allocator coalesces buddies")
//	{
//		KT_EXPECT(t, x == 1);
//	}
//
// A failed expectation prints a TAP diagnostic ("# file:line: expr") and marks the test
// failed; the test keeps running, so write tests that survive their own failures.
// Context: process context of the boot task; tests may allocate and sleep.
#pragma once

#include <trapeze/types.h>

struct ktest_ctx {
	const char *name;
	int failures;
};

// Aligned to 16 because GCC aligns 16-byte static objects to 16 on x86-64: the linker
// script's table bounds must use the same stride or the walk reads padding.
struct ktest {
	const char *name;
	void (*fn)(struct ktest_ctx *t);
} __aligned(16);

#define KTEST(fn_name, desc)                                                           \
	static void fn_name(struct ktest_ctx *t);                                      \
	static const struct ktest __ktest_##fn_name __section(".ktests") __used = {   \
		desc, fn_name };                                                       \
	static void fn_name(struct ktest_ctx *t)

void ktest_fail(struct ktest_ctx *t, const char *expr, const char *file, int line);

#define KT_EXPECT(t, cond)                                                             \
	do {                                                                           \
		if (!(cond))                                                           \
			ktest_fail((t), #cond, __FILE__, __LINE__);                    \
	} while (0)

// Run every registered test, printing TAP to the console. Returns the failure count.
int ktest_run_all(void);
