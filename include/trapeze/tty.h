// The console terminal (drivers/tty.c): one tty on COM1, reachable as /dev/console,
// /dev/tty and /dev/ttyS0. It keeps a Linux struct termios and runs the line discipline:
// canonical line editing, echo, ISIG signals to the foreground process group, and the
// output processing (OPOST/ONLCR) in front of serial_write().
#pragma once

#include <trapeze/types.h>

// Device numbers as Linux uses them.
#define TTY_MAJOR 4        // ttyS0 is 4:64
#define TTYAUX_MAJOR 5     // /dev/tty is 5:0, /dev/console 5:1
#define TTYS0_MINOR 64

// Feed one received byte into the line discipline. Called by the serial interrupt handler.
// Context: interrupt context (or any context with interrupts enabled or not); never sleeps.
void tty_receive_char(char c);

// Register the console devices under /dev. Context: boot, from vfs_init().
void tty_init(void);
