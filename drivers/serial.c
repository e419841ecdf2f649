// 16550 UART driver for the two PC serial ports. COM1 is the console (/dev/console and,
// by default, the kernel log); COM2 takes the kernel log alone with klog=ttyS1, so that a
// program's output on the console never interleaves with kernel messages.
// Output busy-waits on the transmit-holding-register-empty bit: usable from any context.
#include <trapeze/boot.h>
#include <trapeze/panic.h>
#include <trapeze/serial.h>
#include <trapeze/spinlock.h>
#include <trapeze/string.h>
#include <trapeze/tty.h>
#include <asm/irq.h>
#include <asm/x86.h>

#define COM1 0x3f8
#define COM2 0x2f8
#define COM1_IRQ 4

// Register offsets from the port base.
#define UART_DATA 0
#define UART_IER 1 // interrupt enable
#define UART_FCR 2 // FIFO control
#define UART_LCR 3 // line control
#define UART_MCR 4 // modem control
#define UART_LSR 5 // line status
#define UART_LSR_DATA_READY 0x01
#define UART_LSR_THR_EMPTY 0x20
#define UART_IER_RX 0x01
#define UART_LCR_DLAB 0x80
#define UART_LCR_8N1 0x03
#define UART_MCR_DTR_RTS_OUT2 0x0b // OUT2 gates the IRQ line on PCs

static uint16_t log_port = COM1;
// One lock per port, held for a whole write so that writes from different CPUs and
// contexts do not interleave. The log shares COM1's lock unless it has COM2 to itself.
static DEFINE_SPINLOCK(com1_lock);
static DEFINE_SPINLOCK(com2_lock);

static struct spinlock *serial_port_lock(uint16_t port)
{
	return port == COM1 ? &com1_lock : &com2_lock;
}

static void uart_init(uint16_t port)
{
	outb(port + UART_IER, 0);
	outb(port + UART_LCR, UART_LCR_DLAB);
	outb(port + UART_DATA, 1); // divisor 1: 115200 baud
	outb(port + UART_IER, 0);
	outb(port + UART_LCR, UART_LCR_8N1);
	outb(port + UART_FCR, 0xc7); // enable and clear FIFOs, 14-byte threshold
	outb(port + UART_MCR, UART_MCR_DTR_RTS_OUT2);
}

void serial_init(void)
{
	const char *klog = cmdline_get("klog");

	uart_init(COM1);
	if (klog && !strcmp(klog, "ttyS1")) {
		uart_init(COM2);
		log_port = COM2;
	}
}

static void uart_write(uint16_t port, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		while (!(inb(port + UART_LSR) & UART_LSR_THR_EMPTY))
			cpu_relax();
		outb(port + UART_DATA, (uint8_t)buf[i]);
	}
}

void serial_write(const char *buf, size_t n)
{
	uint64_t flags = spin_lock_irqsave(&com1_lock);

	uart_write(COM1, buf, n);
	spin_unlock_irqrestore(&com1_lock, flags);
}

// A panic may have interrupted a holder of the port's lock; once panicking, write without it.
void serial_log_write(const char *buf, size_t n)
{
	struct spinlock *lock = serial_port_lock(log_port);
	uint64_t flags;

	if (panic_in_progress) {
		uart_write(log_port, buf, n);
		return;
	}
	flags = spin_lock_irqsave(lock);
	uart_write(log_port, buf, n);
	spin_unlock_irqrestore(lock, flags);
}

// Context: interrupt (COM1 receive). Drains the FIFO into the console tty.
static void serial_rx_irq(struct pt_regs *regs, void *data)
{
	while (inb(COM1 + UART_LSR) & UART_LSR_DATA_READY)
		tty_receive_char((char)inb(COM1 + UART_DATA));
}

void serial_enable_rx_irq(void)
{
	irq_register(IRQ_BASE_VECTOR + COM1_IRQ, serial_rx_irq, NULL);
	ioapic_route_isa(COM1_IRQ, IRQ_BASE_VECTOR + COM1_IRQ);
	outb(COM1 + UART_IER, UART_IER_RX);
}
