// 4-level x86-64 page tables (Intel SDM vol. 3, 4.5). One PML4 per address space; the
// upper half (entries 256..511) is shared by all of them and never changes after boot,
// so kernel mappings need no cross-address-space updates.
// Lock: a user page table is changed only under its mm's lock (or before the mm is live).
#pragma once

#include <trapeze/types.h>

#define PTE_P (1UL << 0)   // present
#define PTE_W (1UL << 1)   // writable
#define PTE_U (1UL << 2)   // user accessible
#define PTE_PWT (1UL << 3)
#define PTE_PCD (1UL << 4) // cache disable (MMIO)
#define PTE_A (1UL << 5)   // accessed
#define PTE_D (1UL << 6)   // dirty
#define PTE_PS (1UL << 7)  // large page (in PDPT/PD entries)
#define PTE_G (1UL << 8)   // global: survives CR3 reloads (kernel only)
#define PTE_COW (1UL << 9) // software bit: read-only because copy-on-write
#define PTE_NX (1UL << 63) // no execute
#define PTE_ADDR_MASK 0x000ffffffffff000UL

#define PML4_INDEX(va) (((va) >> 39) & 511)
#define PDPT_INDEX(va) (((va) >> 30) & 511)
#define PD_INDEX(va) (((va) >> 21) & 511)
#define PT_INDEX(va) (((va) >> 12) & 511)

typedef uint64_t pte_t;

extern uint64_t *kernel_pml4; // the boot address space; kernel threads run on it

// Build the final kernel address space (direct map, kernel image with W^X) and switch to it.
void paging_init(void);
// A new PML4 with an empty user half and the shared kernel half. NULL when out of memory.
uint64_t *pgtable_alloc(void);
// Free every user-half page-table page (not the pages they map) and the PML4 itself.
void pgtable_free(uint64_t *pml4);
// The 4 KiB leaf entry for va, creating intermediate tables if create; NULL if absent or
// out of memory.
pte_t *pgtable_walk(uint64_t *pml4, uintptr_t va, bool create);
// Map one 4 KiB page. Returns 0 or -ENOMEM. Flushes the TLB entry if pml4 is loaded.
int pgtable_map(uint64_t *pml4, uintptr_t va, phys_addr_t pa, uint64_t flags);
// Remove the mapping of va; returns the old entry (0 if none). Flushes as above.
pte_t pgtable_unmap(uint64_t *pml4, uintptr_t va);
// Flush one TLB entry if pml4 is the current address space.
void pgtable_flush(uint64_t *pml4, uintptr_t va);
// Load pml4 into CR3 unless it is already there (CR3 writes are costly under TCG).
void pgtable_activate(uint64_t *pml4);
// An uncached kernel mapping of device memory. Never fails at boot (panics instead).
void *ioremap(phys_addr_t pa, size_t len);
