// Errors carried in pointers: ERR_PTR(-ENOENT) and back. The top 4095 addresses are never
// valid kernel pointers, so they can hold an errno.
#pragma once

#include <trapeze/types.h>
#include <uapi/errno.h>

static inline void *ERR_PTR(long err)
{
	return (void *)err;
}

static inline long PTR_ERR(const void *p)
{
	return (long)p;
}

static inline bool IS_ERR(const void *p)
{
	return (unsigned long)p >= (unsigned long)-MAX_ERRNO;
}

static inline bool IS_ERR_OR_NULL(const void *p)
{
	return !p || IS_ERR(p);
}
