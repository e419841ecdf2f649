// Linux wait4/waitid options and codes, and the parts of siginfo waitid fills.
#pragma once

#include <trapeze/types.h>

#define WNOHANG 0x00000001
#define WUNTRACED 0x00000002
#define WSTOPPED WUNTRACED
#define WEXITED 0x00000004
#define WCONTINUED 0x00000008
#define WNOWAIT 0x01000000
#define __WCLONE 0x80000000
#define __WALL 0x40000000

#define P_ALL 0
#define P_PID 1
#define P_PGID 2

#define CLD_EXITED 1
#define CLD_KILLED 2
#define CLD_DUMPED 3
#define CLD_TRAPPED 4
#define CLD_STOPPED 5
#define CLD_CONTINUED 6

#define RUSAGE_SIZE 144 // struct rusage on x86-64: two timevals and 14 longs

// siginfo as waitid fills it (128 bytes; the SIGCHLD member of the union).
struct linux_siginfo {
	int si_signo;
	int si_errno;
	int si_code;
	int __pad0;
	int si_pid;
	uid_t si_uid;
	int si_status;
	int __pad1;
	int64_t si_utime, si_stime;
	uint8_t __rest[128 - 48];
};
_Static_assert(sizeof(struct linux_siginfo) == 128, "siginfo is 128 bytes");
