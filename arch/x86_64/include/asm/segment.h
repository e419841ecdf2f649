// GDT layout and segment selectors, the same slots as Linux x86-64 so that user programs
// see the selectors they expect (CS 0x33, SS 0x2b, and 0x23 for 32-bit code). The order
// is fixed by SYSCALL/SYSRET: STAR[47:32] gives the kernel CS (SS = CS + 8); STAR[63:48]
// + 16 gives the 64-bit user CS and STAR[63:48] + 8 the user SS, so user data must sit
// just below 64-bit user code, and the 32-bit user code just below that.
#pragma once

#define GDT_NULL 0
#define GDT_KERNEL_CODE32 1 // unused, kept so the selectors match Linux's
#define GDT_KERNEL_CODE 2
#define GDT_KERNEL_DATA 3
#define GDT_USER_CODE32 4 // SYSRET's 32-bit slot; loaded by nothing (no 32-bit programs)
#define GDT_USER_DATA 5
#define GDT_USER_CODE 6
#define GDT_TSS 7 // a TSS descriptor takes two slots: 7 and 8
#define GDT_ENTRIES 9

#define KERNEL_CS (GDT_KERNEL_CODE * 8)
#define KERNEL_DS (GDT_KERNEL_DATA * 8)
#define USER_DS (GDT_USER_DATA * 8 + 3)
#define USER_CS (GDT_USER_CODE * 8 + 3)
#define TSS_SEL (GDT_TSS * 8)
