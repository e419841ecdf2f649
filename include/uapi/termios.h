// The Linux terminal ABI (include/uapi/asm-generic/termbits.h, termbits-common.h): the
// struct termios that TCGETS/TCSETS* move, its flag bits, the c_cc indices, and struct
// winsize for TIOCGWINSZ/TIOCSWINSZ.
#pragma once

#include <trapeze/types.h>

typedef unsigned char cc_t;
typedef unsigned int tcflag_t;

#define NCCS 19

// What the TCGETS family moves (not glibc's larger struct termios with speed fields).
struct termios {
	tcflag_t c_iflag;
	tcflag_t c_oflag;
	tcflag_t c_cflag;
	tcflag_t c_lflag;
	cc_t c_line;
	cc_t c_cc[NCCS];
};

_Static_assert(sizeof(struct termios) == 36, "kernel struct termios is 36 bytes");
_Static_assert(__builtin_offsetof(struct termios, c_cc) == 17, "c_cc at 17");

struct winsize {
	uint16_t ws_row;
	uint16_t ws_col;
	uint16_t ws_xpixel;
	uint16_t ws_ypixel;
};

// c_cc indices
#define VINTR 0
#define VQUIT 1
#define VERASE 2
#define VKILL 3
#define VEOF 4
#define VTIME 5
#define VMIN 6
#define VSWTC 7
#define VSTART 8
#define VSTOP 9
#define VSUSP 10
#define VEOL 11
#define VREPRINT 12
#define VDISCARD 13
#define VWERASE 14
#define VLNEXT 15
#define VEOL2 16

// c_iflag
#define IGNBRK 0x001
#define BRKINT 0x002
#define IGNPAR 0x004
#define PARMRK 0x008
#define INPCK 0x010
#define ISTRIP 0x020
#define INLCR 0x040
#define IGNCR 0x080
#define ICRNL 0x100
#define IUCLC 0x0200
#define IXON 0x0400
#define IXANY 0x0800
#define IXOFF 0x1000
#define IMAXBEL 0x2000
#define IUTF8 0x4000

// c_oflag
#define OPOST 0x01
#define OLCUC 0x02
#define ONLCR 0x04
#define OCRNL 0x08
#define ONOCR 0x10
#define ONLRET 0x20

// c_cflag
#define CBAUD 0x0000100f
#define B9600 0x0000000d
#define B38400 0x0000000f
#define B115200 0x00001002
#define CSIZE 0x00000030
#define CS8 0x00000030
#define CSTOPB 0x00000040
#define CREAD 0x00000080
#define PARENB 0x00000100
#define HUPCL 0x00000400
#define CLOCAL 0x00000800

// c_lflag
#define ISIG 0x00001
#define ICANON 0x00002
#define ECHO 0x00008
#define ECHOE 0x00010
#define ECHOK 0x00020
#define ECHONL 0x00040
#define NOFLSH 0x00080
#define TOSTOP 0x00100
#define ECHOCTL 0x00200
#define ECHOPRT 0x00400
#define ECHOKE 0x00800
#define FLUSHO 0x01000
#define PENDIN 0x04000
#define IEXTEN 0x08000

// TCFLSH arguments
#define TCIFLUSH 0
#define TCOFLUSH 1
#define TCIOFLUSH 2
