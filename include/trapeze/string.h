// Freestanding string and memory routines (lib/string.c). GCC may also emit calls
// to memcpy, memset, memmove and memcmp on its own, so these names are fixed.
#pragma once

#include <trapeze/types.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
// Copy at most size-1 bytes and always NUL-terminate (when size > 0); returns strlen(src).
size_t strlcpy(char *dst, const char *src, size_t size);
// Parse an unsigned number in base 10, 16 (0x prefix) or 8 (0 prefix) when base is 0.
// *end, if not NULL, gets the first character not used.
unsigned long strtoul(const char *s, char **end, int base);
long strtol(const char *s, char **end, int base);
