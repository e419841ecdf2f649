// GDT layout and segment selectors. The order is fixed by SYSCALL/SYSRET: STAR[47:32]
// gives the kernel CS (SS = CS + 8); STAR[63:48] + 16 gives the 64-bit user CS and
// STAR[63:48] + 8 the user SS, so user data must sit just below user code.
#pragma once

#define GDT_NULL 0
#define GDT_KERNEL_CODE 1
#define GDT_KERNEL_DATA 2
#define GDT_USER_CODE32 3 // placeholder for SYSRET's 32-bit slot; never loaded
#define GDT_USER_DATA 4
#define GDT_USER_CODE 5
#define GDT_TSS 6 // a TSS descriptor takes two slots: 6 and 7
#define GDT_ENTRIES 8

#define KERNEL_CS (GDT_KERNEL_CODE * 8)
#define KERNEL_DS (GDT_KERNEL_DATA * 8)
#define USER_DS (GDT_USER_DATA * 8 + 3)
#define USER_CS (GDT_USER_CODE * 8 + 3)
#define TSS_SEL (GDT_TSS * 8)
