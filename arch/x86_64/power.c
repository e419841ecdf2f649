// Turning the machine off. Under QEMU the isa-debug-exit device (port 0xf4) ends the
// emulator with status (value << 1) | 1: the test tools boot with it and read value 0 as
// "powered off normally" and 1 as "panicked". Without that device, the PIIX4 ACPI power
// management block of QEMU's pc machine powers off; on anything else, halt.
#include <trapeze/printk.h>
#include <asm/arch.h>
#include <asm/x86.h>

#define DEBUG_EXIT_PORT 0xf4
#define DEBUG_EXIT_POWEROFF 0
#define DEBUG_EXIT_PANIC 1
#define QEMU_PIIX4_PM1A_CNT 0x604
#define PM1_SLP_EN_S5 0x2000 // SLP_EN with SLP_TYP 0 (S5 on QEMU's DSDT)

static __noreturn void halt_forever(void)
{
	local_irq_disable();
	for (;;)
		halt();
}

// status is what init reported (the exit status a shell would show); it is logged for the
// test tools, which read it from the log.
void machine_power_off(int status)
{
	pr_notice("trapeze: power off\n");
	outl(DEBUG_EXIT_PORT, DEBUG_EXIT_POWEROFF);
	outw(QEMU_PIIX4_PM1A_CNT, PM1_SLP_EN_S5);
	halt_forever();
}

void machine_halt_on_panic(void)
{
	outl(DEBUG_EXIT_PORT, DEBUG_EXIT_PANIC);
	halt_forever();
}
