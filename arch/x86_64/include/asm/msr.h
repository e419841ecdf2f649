// Model-specific register numbers (Intel SDM vol. 4).
#pragma once

#define MSR_APIC_BASE 0x0000001b
#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_FMASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102

#define EFER_SCE (1UL << 0)  // syscall/sysret enable
#define EFER_LME (1UL << 8)  // long mode enable
#define EFER_NXE (1UL << 11) // no-execute enable
