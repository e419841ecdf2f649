// futex(2) (kernel/futex.c): the in-kernel half of thread-library locks.
#pragma once

#include <trapeze/types.h>

struct mm;

// Wake up to nr tasks waiting on the futex word at uaddr in mm. Returns how many woke.
// Context: any process context; does not sleep (exit uses it for CLONE_CHILD_CLEARTID).
int futex_wake(struct mm *mm, uintptr_t uaddr, int nr);
