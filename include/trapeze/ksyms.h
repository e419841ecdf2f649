// Kernel text symbols for backtraces (kernel/ksyms.c). The table is generated at link time
// by tools/genksyms from `nm -n` of a first link of the kernel: ksyms_count entries of an
// ascending address array (ksyms_addrs) and name offsets (ksyms_names) into ksyms_strings.
// The first link carries an empty table, so lookups must cope with zero symbols.
// Context: any (the table is read-only rodata; no locks), including panic and NMI.
#pragma once

#include <trapeze/types.h>

// The name of the function containing addr, i.e. the symbol with the greatest address
// <= addr, and addr's offset from it in *offset (if offset is not NULL). NULL if addr is
// outside kernel text [__text_start, __text_end) or no symbol lies at or below it.
const char *ksym_lookup(uint64_t addr, uint64_t *offset);
