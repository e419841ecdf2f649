// The 16550 UARTs (drivers/serial.c). COM1 carries the console; the kernel log goes to
// COM1 too, or only to COM2 when booted with klog=ttyS1.
#pragma once

#include <trapeze/types.h>

void serial_init(void);
// Start the COM1 receive interrupt; received bytes go to tty_receive_char().
void serial_enable_rx_irq(void);
// Write raw bytes to the console port (COM1). Context: any; busy-waits, never sleeps.
void serial_write(const char *buf, size_t n);
// Write raw bytes to the port the kernel log uses.
void serial_log_write(const char *buf, size_t n);
