// The only way the kernel touches user memory. Each routine checks that the whole range
// lies in the user half, then copies inside a SMAP window; a fault in the copy is caught
// through the exception table (arch/x86_64/uaccess.S) and turned into -EFAULT. A fault on a
// valid but not-yet-present page is served by the page-fault handler as usual.
// Context: process context (a fault may sleep to bring a page in).
#pragma once

#include <trapeze/types.h>
#include <trapeze/mm.h>
#include <uapi/errno.h>

// True if [addr, addr + n) lies entirely in user space (no wrap-around).
static inline bool access_ok(const void __user *addr, size_t n)
{
	uintptr_t a = (uintptr_t)addr;

	return a <= USER_END && n <= USER_END - a;
}

// 0 on success, -EFAULT if any byte could not be copied.
int copy_from_user(void *dst, const void __user *src, size_t n);
int copy_to_user(void __user *dst, const void *src, size_t n);
int clear_user(void __user *dst, size_t n);
// Copy a NUL-terminated string of at most max bytes including the NUL. Returns its length
// (without the NUL), -EFAULT, or -ENAMETOOLONG if no NUL was found within max bytes.
long strncpy_from_user(char *dst, const char __user *src, size_t max);

// Copy as much as can be copied and say how much that was (n when everything was): the
// read and write paths return such short counts, as Linux does for a buffer that runs into
// an unmapped page. Bytes beyond the end of user space count as faulting.
size_t copy_to_user_partial(void __user *dst, const void *src, size_t n);
size_t copy_from_user_partial(void *dst, const void __user *src, size_t n);
size_t clear_user_partial(void __user *dst, size_t n);

#define get_user(x, ptr) copy_from_user(&(x), (ptr), sizeof(*(ptr)))
#define put_user(x, ptr)                                                               \
	({                                                                             \
		__typeof__(*(ptr)) __pu_v = (x);                                       \
		copy_to_user((ptr), &__pu_v, sizeof(__pu_v));                          \
	})
