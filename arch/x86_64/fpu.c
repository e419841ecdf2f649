// Per-task FPU/SSE state. The kernel itself never touches FPU or SSE registers (it is built
// with -mgeneral-regs-only), so user state only needs saving when switching tasks:
// switch_to's caller saves prev's and restores next's (eager switching, simple and
// correct). The format is FXSAVE's 512-byte area, which is also what Linux puts in a
// signal frame's fpstate.
#include <trapeze/string.h>
#include <asm/arch.h>

// Default control words (as after FNINIT / Linux's fpu init): all exceptions masked.
#define FCW_DEFAULT 0x037f
#define MXCSR_DEFAULT 0x1f80

void fpu_init_state(void *area)
{
	uint8_t *a = area;

	memset(area, 0, FPU_STATE_SIZE);
	*(uint16_t *)(a + 0) = FCW_DEFAULT;
	*(uint32_t *)(a + 24) = MXCSR_DEFAULT;
}

void fpu_save(void *area)
{
	__asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

void fpu_restore(const void *area)
{
	__asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}
