// Range checks around the raw user-copy routines in arch/x86_64/uaccess.S. A pointer is
// never checked and then dereferenced elsewhere: the copy itself is the check, and any
// fault inside it becomes -EFAULT through the exception table.
#include <trapeze/sched.h>
#include <trapeze/uaccess.h>

size_t raw_copy_user(void *dst, const void *src, size_t n);
size_t raw_clear_user(void *dst, size_t n);
long raw_strncpy_user(char *dst, const char *src, size_t max);

int copy_from_user(void *dst, const void __user *src, size_t n)
{
	if (!access_ok(src, n))
		return -EFAULT;
	return raw_copy_user(dst, (__force const void *)src, n) ? -EFAULT : 0;
}

int copy_to_user(void __user *dst, const void *src, size_t n)
{
	if (!access_ok(dst, n))
		return -EFAULT;
	return raw_copy_user((__force void *)dst, src, n) ? -EFAULT : 0;
}

int clear_user(void __user *dst, size_t n)
{
	if (!access_ok(dst, n))
		return -EFAULT;
	return raw_clear_user((__force void *)dst, n) ? -EFAULT : 0;
}

long strncpy_from_user(char *dst, const char __user *src, size_t max)
{
	long len;
	uintptr_t a = (uintptr_t)src;

	if (a >= USER_END)
		return -EFAULT;
	// Never read past the end of user space, even when max would allow it.
	if (max > USER_END - a)
		max = USER_END - a;
	len = raw_strncpy_user(dst, (__force const char *)src, max);
	if (len < 0)
		return -EFAULT;
	if ((size_t)len == max)
		return -ENAMETOOLONG;
	return len;
}

// The part of [addr, addr + n) that lies in user space.
static size_t user_span(const void __user *addr, size_t n)
{
	uintptr_t a = (uintptr_t)addr;

	if (a >= USER_END)
		return 0;
	return MIN(n, USER_END - a);
}

size_t copy_to_user_partial(void __user *dst, const void *src, size_t n)
{
	size_t span = user_span(dst, n);

	return span - raw_copy_user((__force void *)dst, src, span);
}

size_t copy_from_user_partial(void *dst, const void __user *src, size_t n)
{
	size_t span = user_span(src, n);

	return span - raw_copy_user(dst, (__force const void *)src, span);
}

size_t clear_user_partial(void __user *dst, size_t n)
{
	size_t span = user_span(dst, n);

	return span - raw_clear_user((__force void *)dst, span);
}
