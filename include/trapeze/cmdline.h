// The kernel command line (kernel/cmdline.c): space-separated words, each "name=value" or a
// bare "name"; values cannot contain spaces. The boot loader may put the kernel's own path
// first; it is just another bare word. cmdline_get() is declared in <trapeze/boot.h>.
#pragma once

#include <trapeze/boot.h>
#include <trapeze/types.h>

// Copy cmdline (at most BOOT_CMDLINE_MAX - 1 bytes of it) and split it into options.
// Call once during boot, before any cmdline_get(); a second call replaces the options.
// Context: boot, single-threaded; no locks, so the options are read-only afterwards.
void cmdline_parse(const char *cmdline);

// True if the option is present, bare or with a value.
bool cmdline_has(const char *name);
