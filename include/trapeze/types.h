// Fixed-width and kernel-wide scalar types. Freestanding: only compiler headers.
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <trapeze/compiler.h>

typedef uint64_t phys_addr_t;
typedef int64_t ssize_t;
typedef int64_t off_t;
typedef int pid_t;
typedef unsigned int uid_t;
typedef unsigned int gid_t;
typedef unsigned int mode_t;
typedef uint64_t dev_t;
typedef uint64_t ino_t;
