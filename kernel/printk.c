// The kernel log: printk formats one message, prefixes it with the time since boot, turns
// "\n" into "\r\n" for the serial line, and writes it to the log port.
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

// Copy buf to the log, expanding each "\n" to "\r\n".
static void log_write_crlf(const char *buf, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i < n; i++) {
		if (buf[i] != '\n')
			continue;
		serial_log_write(buf + start, i - start);
		serial_log_write("\r\n", 2);
		start = i + 1;
	}
	serial_log_write(buf + start, n - start);
}

void vprintk(int level, const char *fmt, va_list ap)
{
	char line[PRINTK_LINE_MAX];
	uint64_t ns = tsc_khz ? time_ns() : 0;
	int n;

	if (level > console_loglevel)
		return;
	n = snprintf(line, sizeof(line), "[%5lu.%06lu] ", (unsigned long)(ns / 1000000000),
		     (unsigned long)(ns / 1000 % 1000000));
	n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (n >= (int)sizeof(line))
		n = sizeof(line) - 1;
	log_write_crlf(line, n);
}

void printk(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(level, fmt, ap);
	va_end(ap);
}
