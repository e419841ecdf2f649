// Kernel random numbers (kernel/random.c): RDRAND where the CPU has it, mixed with the TSC.
// Good enough for AT_RANDOM, getrandom and stack canaries; not a vetted CSPRNG.
#pragma once

#include <trapeze/types.h>

void get_random_bytes(void *buf, size_t n);
