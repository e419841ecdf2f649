// Kernel random bytes: RDRAND when the CPU has it, otherwise a xorshift generator seeded
// from the TSC and stirred with it on every call. Not a vetted CSPRNG.
#include <trapeze/random.h>
#include <trapeze/spinlock.h>
#include <trapeze/string.h>
#include <asm/x86.h>

static DEFINE_SPINLOCK(random_lock);
static uint64_t xorshift_state; // under random_lock
static int rdrand_state;        // 0 unknown, 1 present, -1 absent

static bool rdrand64(uint64_t *v)
{
	uint8_t ok;

	if (rdrand_state == 0) {
		uint32_t a, b, c, d;

		cpuid(1, 0, &a, &b, &c, &d);
		rdrand_state = (c & (1u << 30)) ? 1 : -1;
	}
	if (rdrand_state < 0)
		return false;
	__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
	return ok;
}

static uint64_t xorshift_next_locked(void)
{
	uint64_t x = xorshift_state ^ rdtsc();

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	xorshift_state = x ? x : 0x9e3779b97f4a7c15ULL;
	return xorshift_state;
}

void get_random_bytes(void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n) {
		uint64_t v;
		size_t chunk = n < sizeof(v) ? n : sizeof(v);

		if (!rdrand64(&v)) {
			uint64_t flags = spin_lock_irqsave(&random_lock);

			v = xorshift_next_locked();
			spin_unlock_irqrestore(&random_lock, flags);
		}
		memcpy(p, &v, chunk);
		p += chunk;
		n -= chunk;
	}
}
