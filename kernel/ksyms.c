// Address-to-symbol lookup over the table tools/genksyms emits into .ksyms (see
// include/trapeze/ksyms.h). The table is sorted by address, so a binary search finds
// the enclosing function in log2(count) steps, fast enough for a panic backtrace.

#include <trapeze/ksyms.h>
#include <trapeze/mm.h>

// Emitted by tools/genksyms (build/kernel/ksyms.S or ksyms_empty.S).
extern const uint64_t ksyms_count;
extern const uint64_t ksyms_addrs[];
extern const uint32_t ksyms_names[];
extern const char ksyms_strings[];

// Index of the last symbol whose address is <= addr, or -1 if every symbol lies above it.
// Symbols sharing an address (aliases) resolve to the last of them in nm's order.
static long ksym_find(uint64_t addr)
{
	uint64_t lo = 0, hi = ksyms_count; // answer is in [lo - 1, hi - 1]

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (ksyms_addrs[mid] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

const char *ksym_lookup(uint64_t addr, uint64_t *offset)
{
	long i;

	if (addr < (uintptr_t)__text_start || addr >= (uintptr_t)__text_end)
		return NULL;
	i = ksym_find(addr);
	if (i < 0)
		return NULL;
	if (offset)
		*offset = addr - ksyms_addrs[i];
	return &ksyms_strings[ksyms_names[i]];
}
