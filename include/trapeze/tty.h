// The console terminal (drivers/tty.c): one tty on COM1, reachable as /dev/console,
// /dev/tty and /dev/ttyS0. It keeps a Linux struct termios and runs the line discipline:
// canonical line editing, echo, ISIG signals to the foreground process group, and the
// output processing (OPOST/ONLCR) in front of serial_write(); drivers/tty_jobctrl.c adds
// job control (the controlling session, SIGTTIN for background reads). The first section
// is what the rest of the kernel calls; the second is shared by the two driver files only.
#pragma once

#include <trapeze/sched.h>
#include <trapeze/spinlock.h>
#include <trapeze/types.h>
#include <uapi/termios.h>

// Device numbers as Linux uses them.
#define TTY_MAJOR 4        // ttyS0 is 4:64
#define TTYAUX_MAJOR 5     // /dev/tty is 5:0, /dev/console 5:1
#define TTYS0_MINOR 64

// Feed one received byte into the line discipline. Called by the serial interrupt handler.
// Context: interrupt context (or any context with interrupts enabled or not); never sleeps.
void tty_receive_char(char c);

// Register the console devices under /dev. Context: boot, from vfs_init().
void tty_init(void);

// --- inside the tty driver (drivers/tty.c, drivers/tty_jobctrl.c) ---------------------------

#define TTY_BUF_SIZE 4096 // read queue and edit line, as Linux's N_TTY_BUF_SIZE

// A terminal. Lock: lock, taken with interrupts off (the receive interrupt shares it); a
// leaf: tasklist_lock is taken only with it released.
struct tty {
	struct spinlock lock;
	// under lock:
	struct termios termios;
	struct winsize winsize;
	pid_t pgrp;                 // foreground process group; 0 until one is set
	pid_t sid;                  // the session whose controlling terminal it is; 0: none
	char rbuf[TTY_BUF_SIZE];    // read queue
	uint8_t rflag[TTY_BUF_SIZE]; // enum tty_flag per queued byte
	size_t rhead, rtail;        // bytes ever queued / taken; rhead - rtail are waiting
	int lines;                  // complete lines (delimiters and EOF markers) queued
	char line[TTY_BUF_SIZE];    // canonical mode: the line being edited
	size_t line_len;
	struct wait_queue read_wait;
};

// Job control (drivers/tty_jobctrl.c). Context: process context, on the caller's behalf.
// Before a read: 0 when the caller may read t, else -ERESTARTSYS (SIGTTIN went to its
// group, which is in the background) or -EIO (nobody would be stopped).
int tty_read_job_check(struct tty *t);
// TIOCSCTTY and TIOCSPGRP; arg is the ioctl's argument. 0 or -errno.
long tty_set_ctty(struct tty *t, unsigned long arg);
long tty_set_pgrp(struct tty *t, unsigned long arg);
