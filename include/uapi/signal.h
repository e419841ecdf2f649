// The Linux x86-64 signal ABI: numbers, si_code values, the kernel's struct sigaction (what
// rt_sigaction moves, not libc's), siginfo, stack_t, and the signal frame a handler sees:
// struct rt_sigframe = { return address, ucontext (with sigcontext), siginfo }, with the
// 512-byte FXSAVE area it points to above it. Layouts follow Linux's
// arch/x86/include/uapi/asm/{signal,sigcontext}.h, asm/sigframe.h, asm/ucontext.h and
// include/uapi/asm-generic/siginfo.h; the _Static_asserts at the end pin every offset that
// libc (musl, glibc) and programs read.
#pragma once

#include <trapeze/types.h>

#define SIGHUP 1
#define SIGINT 2
#define SIGQUIT 3
#define SIGILL 4
#define SIGTRAP 5
#define SIGABRT 6
#define SIGBUS 7
#define SIGFPE 8
#define SIGKILL 9
#define SIGUSR1 10
#define SIGSEGV 11
#define SIGUSR2 12
#define SIGPIPE 13
#define SIGALRM 14
#define SIGTERM 15
#define SIGSTKFLT 16
#define SIGCHLD 17
#define SIGCONT 18
#define SIGSTOP 19
#define SIGTSTP 20
#define SIGTTIN 21
#define SIGTTOU 22
#define SIGURG 23
#define SIGXCPU 24
#define SIGXFSZ 25
#define SIGVTALRM 26
#define SIGPROF 27
#define SIGWINCH 28
#define SIGIO 29
#define SIGPWR 30
#define SIGSYS 31
#define SIGRTMIN 32
#define NSIG 64 // signals 1..64
#define SIGRTMAX NSIG

// si_code values
#define SI_USER 0
#define SI_KERNEL 0x80
#define SI_QUEUE (-1)
#define SI_TIMER (-2)
#define SI_TKILL (-6)
#define ILL_ILLOPC 1
#define ILL_ILLOPN 2
#define FPE_INTDIV 1
#define FPE_FLTDIV 3
#define SEGV_MAPERR 1
#define SEGV_ACCERR 2
#define BUS_ADRALN 1
#define BUS_ADRERR 2
#define TRAP_BRKPT 1
#define TRAP_TRACE 2
// SIGCHLD codes (also in uapi/wait.h, same values).
#ifndef CLD_EXITED
#define CLD_EXITED 1
#define CLD_KILLED 2
#define CLD_DUMPED 3
#define CLD_TRAPPED 4
#define CLD_STOPPED 5
#define CLD_CONTINUED 6
#endif

// Dispositions: sa_handler values that are not handler addresses.
#define SIG_DFL 0UL
#define SIG_IGN 1UL

// sa_flags
#define SA_NOCLDSTOP 0x00000001UL // no SIGCHLD when a child stops or continues
#define SA_NOCLDWAIT 0x00000002UL // children do not become zombies
#define SA_SIGINFO 0x00000004UL   // the handler takes (sig, siginfo *, ucontext *)
#define SA_RESTORER 0x04000000UL  // sa_restorer holds the return trampoline (libc sets it)
#define SA_ONSTACK 0x08000000UL   // run on the sigaltstack
#define SA_RESTART 0x10000000UL   // restart interrupted system calls
#define SA_NODEFER 0x40000000UL   // do not block the signal while its handler runs
#define SA_RESETHAND 0x80000000UL // reset to SIG_DFL on delivery
// Flag bits the kernel reports back as set only when it knows them (Linux >= 5.11).
#define SA_UNSUPPORTED 0x00000400UL
#define SA_EXPOSE_TAGBITS 0x00000800UL

// rt_sigprocmask's how
#define SIG_BLOCK 0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2

// sigaltstack
#define SS_ONSTACK 1
#define SS_DISABLE 2
#define SS_AUTODISARM (1U << 31) // disarm while a handler runs on it
#define MINSIGSTKSZ 2048
#define SIGSTKSZ 8192

// getitimer/setitimer
#define ITIMER_REAL 0
#define ITIMER_VIRTUAL 1
#define ITIMER_PROF 2

// The kernel's struct sigaction on x86-64 (rt_sigaction). sa_mask is the kernel's 8-byte
// sigset: rt_sigaction's sigsetsize must be 8.
struct sigaction {
	uint64_t sa_handler; // user address, SIG_DFL or SIG_IGN (also sa_sigaction)
	uint64_t sa_flags;
	uint64_t sa_restorer; // user address of the code that calls rt_sigreturn
	uint64_t sa_mask;
};

// stack_t
struct sigaltstack {
	uint64_t ss_sp;
	int32_t ss_flags;
	int32_t __pad;
	uint64_t ss_size;
};

// siginfo_t: 128 bytes; which union member is meaningful depends on the signal and si_code.
struct siginfo {
	int32_t si_signo;
	int32_t si_errno;
	int32_t si_code;
	int32_t __pad0;
	union {
		struct { // SI_USER, SI_TKILL, SI_QUEUE, SI_KERNEL
			int32_t pid;
			uint32_t uid;
			uint64_t value; // sigval of rt_sigqueueinfo
		} kill;
		struct { // SI_TIMER
			int32_t tid;
			int32_t overrun;
			uint64_t value;
		} timer;
		struct { // SIGCHLD
			int32_t pid;
			uint32_t uid;
			int32_t status;
			int32_t __pad;
			int64_t utime, stime;
		} chld;
		struct { // SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP
			uint64_t addr;
		} fault;
		uint8_t __size[112];
	} u;
};

// The FXSAVE area (struct _fpstate). Bytes 464..511 are free for software; Linux puts the
// XSAVE magic there when the frame holds an XSAVE area, so Trapeze keeps them zero.
#define FPSTATE_SIZE 512
#define FPSTATE_MXCSR 24      // offset of MXCSR
#define FPSTATE_MXCSR_MASK 28 // offset of the MXCSR bits the CPU supports (0: 0xffbf)
#define FPSTATE_SW_RESERVED 464

// struct sigcontext (sigcontext_64): the registers at the moment of the signal.
struct sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip;
	uint64_t eflags;
	uint16_t cs, gs, fs, ss; // ss: valid with UC_SIGCONTEXT_SS
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate; // user address of the FXSAVE area, 0 if none
	uint64_t reserved1[8];
};

// uc_flags
#define UC_FP_XSTATE 0x1         // fpstate is an XSAVE area (never set by Trapeze)
#define UC_SIGCONTEXT_SS 0x2     // sigcontext.ss is saved
#define UC_STRICT_RESTORE_SS 0x4 // rt_sigreturn restores ss as saved

// The kernel's struct ucontext (libc's ucontext_t is a prefix-compatible superset).
struct ucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	struct sigaltstack uc_stack;
	struct sigcontext uc_mcontext;
	uint64_t uc_sigmask; // the mask to restore on rt_sigreturn
};

// What the handler finds at its stack pointer: the return address (sa_restorer), then the
// context and the siginfo its second and third arguments point to.
struct rt_sigframe {
	uint64_t pretcode;
	struct ucontext uc;
	struct siginfo info;
};

_Static_assert(sizeof(struct sigaction) == 32, "kernel sigaction is 32 bytes");
_Static_assert(sizeof(struct sigaltstack) == 24, "stack_t is 24 bytes");
_Static_assert(sizeof(struct siginfo) == 128, "siginfo is 128 bytes");
_Static_assert(__builtin_offsetof(struct siginfo, u) == 16, "siginfo union at 16");
_Static_assert(__builtin_offsetof(struct siginfo, u.chld.status) == 24, "si_status at 24");
_Static_assert(__builtin_offsetof(struct siginfo, u.chld.utime) == 32, "si_utime at 32");
_Static_assert(__builtin_offsetof(struct sigcontext, rdi) == 64, "sigcontext.rdi");
_Static_assert(__builtin_offsetof(struct sigcontext, rip) == 128, "sigcontext.rip");
_Static_assert(__builtin_offsetof(struct sigcontext, eflags) == 136, "sigcontext.eflags");
_Static_assert(__builtin_offsetof(struct sigcontext, cs) == 144, "sigcontext.cs");
_Static_assert(__builtin_offsetof(struct sigcontext, err) == 152, "sigcontext.err");
_Static_assert(__builtin_offsetof(struct sigcontext, cr2) == 176, "sigcontext.cr2");
_Static_assert(__builtin_offsetof(struct sigcontext, fpstate) == 184, "sigcontext.fpstate");
_Static_assert(sizeof(struct sigcontext) == 256, "sigcontext is 256 bytes");
_Static_assert(__builtin_offsetof(struct ucontext, uc_stack) == 16, "uc_stack");
_Static_assert(__builtin_offsetof(struct ucontext, uc_mcontext) == 40, "uc_mcontext");
_Static_assert(__builtin_offsetof(struct ucontext, uc_sigmask) == 296, "uc_sigmask");
_Static_assert(sizeof(struct ucontext) == 304, "ucontext is 304 bytes");
_Static_assert(__builtin_offsetof(struct rt_sigframe, uc) == 8, "rt_sigframe.uc");
_Static_assert(__builtin_offsetof(struct rt_sigframe, info) == 312, "rt_sigframe.info");
