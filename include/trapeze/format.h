// printf-style formatting into a buffer (lib/format.c). No kernel state.
// Supports: %d %i %u %x %X %o %c %s %p %% with flags '-', '0', ' ', '+', '#', a width and a
// precision (number or '*'), and length modifiers hh h l ll z t j.
// %p prints 0x followed by 16 hex digits. A NULL %s prints "(null)".
#pragma once

#include <trapeze/types.h>

// Like C's vsnprintf: writes at most size bytes including the NUL, returns the length the
// whole output would have had.
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
