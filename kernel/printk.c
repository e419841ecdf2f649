// The kernel log: printk formats one message, prefixes it with the time since boot, turns
// "\n" into "\r\n" for the serial line, and writes it to the log port in one piece.
// Context: any; formatting happens on the caller's stack, output busy-waits.
#include <trapeze/boot.h>
#include <trapeze/format.h>
#include <trapeze/printk.h>
#include <trapeze/serial.h>
#include <trapeze/string.h>
#include <asm/irq.h>

#define PRINTK_LINE_MAX 512

int console_loglevel = LOG_INFO;

void printk_init(void)
{
	const char *level = cmdline_get("loglevel");

	if (cmdline_get("quiet"))
		console_loglevel = LOG_WARNING;
	if (level && *level)
		console_loglevel = (int)strtol(level, NULL, 10);
}

// Turn each "\n" of the n bytes at buf into "\r\n", in place; buf has room for 2 * n bytes.
// Returns the new length.
static size_t printk_crlf(char *buf, size_t n)
{
	size_t end = n;

	for (size_t i = 0; i < n; i++)
		end += buf[i] == '\n';
	for (size_t i = n, dst = end; i-- > 0;) {
		buf[--dst] = buf[i];
		if (buf[i] == '\n')
			buf[--dst] = '\r';
	}
	return end;
}

void vprintk(int level, const char *fmt, va_list ap)
{
	// Room for the "\r\n" expansion: the message goes out in one serial_log_write, one
	// hold of the port lock, so that a printk from an interrupt handler or another task
	// cannot land inside it.
	char line[2 * PRINTK_LINE_MAX];
	uint64_t ns = tsc_khz ? time_ns() : 0;
	int n, body;

	if (level > console_loglevel)
		return;
	n = snprintf(line, PRINTK_LINE_MAX, "[%5lu.%06lu] ", (unsigned long)(ns / 1000000000),
		     (unsigned long)(ns / 1000 % 1000000));
	body = vsnprintf(line + n, PRINTK_LINE_MAX - n, fmt, ap);
	if (body >= PRINTK_LINE_MAX - n) {
		// Cut: still end the line, or the next message (a TAP line, say) would
		// continue it and no longer start a line of its own.
		n = PRINTK_LINE_MAX - 1;
		line[n - 1] = '\n';
	} else {
		n += body;
	}
	serial_log_write(line, printk_crlf(line, n));
}

void printk(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(level, fmt, ap);
	va_end(ap);
}
