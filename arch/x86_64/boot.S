/*
 * The boot trampoline: from a Multiboot (version 1) loader in 32-bit protected mode to
 * 64-bit long mode running the kernel in the higher half.
 *
 * Register contract at boot_entry32 (Multiboot spec, section 3.2):
 *	eax = 0x2BADB002 (loader magic), ebx = physical address of the multiboot info,
 *	paging off, interrupts off, flat 4 GiB segments, no usable stack.
 *
 * Steps: build a minimal set of page tables (identity map of the first GiB, the same GiB at
 * the direct map base and at -2 GiB), enable PAE + long mode + paging, far-jump into 64-bit
 * code, jump to the higher-half address of boot_entry64_high, switch to the boot stack and
 * call kernel_main(magic, mbi). paging_init() later replaces these tables.
 *
 * This file runs at physical addresses (section .boot.*); symbols of the higher-half
 * kernel are converted with "- KERNEL_IMAGE_BASE".
 */
#include <asm/segment.h>

#define KERNEL_IMAGE_BASE 0xffffffff80000000
#define PHYS(sym) ((sym) - KERNEL_IMAGE_BASE)

#define MB_MAGIC 0x1BADB002
#define MB_FLAG_ALIGN (1 << 0)      /* modules page aligned */
#define MB_FLAG_MEMINFO (1 << 1)    /* give us the memory map */
#define MB_FLAG_ADDRESSES (1 << 16) /* load by the address fields below, not as ELF */
#define MB_FLAGS (MB_FLAG_ALIGN | MB_FLAG_MEMINFO | MB_FLAG_ADDRESSES)

#define PTE_P 0x1
#define PTE_W 0x2
#define PTE_PS 0x80

	.section .multiboot, "a"
	.balign 4
multiboot_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
	.long multiboot_header	/* header_addr: where this header lands */
	.long __load_start_phys	/* load_addr: first byte of the flat image */
	.long __load_end_phys	/* load_end_addr: end of text + data */
	.long __bss_end_phys	/* bss_end_addr: the loader zeroes up to here */
	.long boot_entry32	/* entry_addr */

	.section .boot.text, "ax"
	.code32
	.globl boot_entry32
boot_entry32:
	cli
	movl %eax, %edi			/* keep magic and mbi for kernel_main (rdi, rsi) */
	movl %ebx, %esi
	movl $PHYS(boot_stack_top), %esp

	/* Long mode is required: CPUID 0x80000001 EDX bit 29. */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc no_long_mode

	/* One page directory of 2 MiB pages maps physical [0, 1 GiB). */
	movl $PHYS(boot_pd), %ebx
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $21, %eax
	orl $(PTE_P | PTE_W | PTE_PS), %eax
	movl %eax, (%ebx, %ecx, 8)
	movl $0, 4(%ebx, %ecx, 8)
	incl %ecx
	cmpl $512, %ecx
	jne 1b

	/* PDPT slot 0 (identity and direct map) and slot 510 (-2 GiB) both use it. */
	movl $(PHYS(boot_pd) + PTE_P + PTE_W), %eax
	movl %eax, PHYS(boot_pdpt_low)
	movl %eax, PHYS(boot_pdpt_high) + 510 * 8
	movl $(PHYS(boot_pdpt_low) + PTE_P + PTE_W), %eax
	movl %eax, PHYS(boot_pml4)		/* 0x0000000000000000 identity */
	movl %eax, PHYS(boot_pml4) + 256 * 8	/* 0xffff800000000000 direct map */
	movl $(PHYS(boot_pdpt_high) + PTE_P + PTE_W), %eax
	movl %eax, PHYS(boot_pml4) + 511 * 8	/* 0xffffffff80000000 kernel image */

	movl %cr4, %eax
	orl $0x20, %eax			/* CR4.PAE */
	movl %eax, %cr4
	movl $PHYS(boot_pml4), %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx		/* EFER */
	rdmsr
	orl $0x100, %eax		/* EFER.LME */
	wrmsr
	movl %cr0, %eax
	orl $0x80010001, %eax		/* CR0.PG | CR0.WP | CR0.PE */
	movl %eax, %cr0

	lgdt boot_gdt_ptr
	ljmp $KERNEL_CS, $boot_entry64

no_long_mode:
	/* Say so on COM1 and stop: nothing else can run. */
	movl $no_long_mode_msg, %esi
2:	lodsb
	testb %al, %al
	jz 3f
	movw $0x3f8, %dx
	outb %al, %dx
	jmp 2b
3:	hlt
	jmp 3b

	.code64
boot_entry64:
	movw $KERNEL_DS, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorl %eax, %eax
	movw %ax, %fs
	movw %ax, %gs
	movabsq $boot_entry64_high, %rax
	jmp *%rax

	.section .boot.data, "a"
	.balign 8
boot_gdt:				/* the same slots as asm/segment.h */
	.quad 0
	.quad 0				/* GDT_KERNEL_CODE32: unused */
	.quad 0x00af9a000000ffff	/* KERNEL_CS: 64-bit code, ring 0 */
	.quad 0x00cf92000000ffff	/* KERNEL_DS: data, ring 0 */
boot_gdt_end:
boot_gdt_ptr:
	.word boot_gdt_end - boot_gdt - 1
	.long boot_gdt
no_long_mode_msg:
	.asciz "Trapeze: this CPU has no long mode (x86-64); halting.\r\n"

	.text
boot_entry64_high:
	movabsq $boot_stack_top, %rsp
	xorl %ebp, %ebp			/* terminates backtraces */
	/* edi = magic, esi = mbi physical address: kernel_main's two arguments. */
	call kernel_main
4:	hlt
	jmp 4b

	.bss
	.balign 4096
boot_pml4:	.skip 4096
boot_pdpt_low:	.skip 4096
boot_pdpt_high:	.skip 4096
boot_pd:	.skip 4096
	.globl boot_stack, boot_stack_top
boot_stack:	.skip 16384		/* the boot task's (later idle task's) kernel stack */
boot_stack_top:
