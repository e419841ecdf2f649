// The in-kernel unit test runner: every KTEST in the .ktests section, in link order, as
// one TAP stream on the kernel log. Booted with `ktest`, the kernel runs this instead of
// init and powers off with the result.
#include <trapeze/ktest.h>
#include <trapeze/printk.h>

extern const struct ktest __ktests_start[], __ktests_end[];

void ktest_fail(struct ktest_ctx *t, const char *expr, const char *file, int line)
{
	t->failures++;
	printk(LOG_EMERG, "# %s:%d: %s\n", file, line, expr);
}

int ktest_run_all(void)
{
	int n = (int)(__ktests_end - __ktests_start), failed = 0;

	printk(LOG_EMERG, "1..%d\n", n);
	for (int i = 0; i < n; i++) {
		struct ktest_ctx ctx = { __ktests_start[i].name, 0 };

		__ktests_start[i].fn(&ctx);
		if (ctx.failures)
			failed++;
		printk(LOG_EMERG, "%s %d - %s\n", ctx.failures ? "not ok" : "ok", i + 1, ctx.name);
	}
	printk(LOG_EMERG, "# ktest: %d of %d failed\n", failed, n);
	return failed;
}
