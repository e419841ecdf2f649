/*
 * The user-copy primitives: the only instructions in the kernel allowed to touch user
 * memory. Each access that may fault is listed in __ex_table with a fixup address; the
 * page-fault and #GP handlers resume there, so a bad pointer yields a short count instead
 * of a kernel fault. The C wrappers (mm/uaccess.c) check the range and turn short counts
 * into -EFAULT.
 *
 * With SMAP on, the kernel may touch user pages only while RFLAGS.AC is set: stac opens
 * that window, clac closes it. Both are #UD without SMAP, hence the smap_enabled test.
 */

.macro EX_ENTRY insn, fixup
	.pushsection __ex_table, "a"
	.balign 8
	.quad \insn, \fixup
	.popsection
.endm

.macro SMAP_OPEN
	cmpb $0, smap_enabled(%rip)
	je 91f
	stac
91:
.endm

.macro SMAP_CLOSE
	cmpb $0, smap_enabled(%rip)
	je 92f
	clac
92:
.endm

	.text

/*
 * size_t raw_copy_user(void *dst, const void *src, size_t n)
 * rdi = dst, rsi = src, rdx = n. Returns the number of bytes NOT copied (0 on success).
 *
 * The bulk moves 8 bytes per step (rep movsq: under QEMU's TCG each rep iteration costs
 * the same whatever its width), the tail one byte per step. A quadword that straddles a
 * bad page faults as a whole, so after a fault in the bulk the rest is retried a byte at
 * a time: the count returned is then exact to the byte, as callers that return short
 * reads rely on. rep movsb leaves the remaining count in rcx when it faults.
 */
	.globl raw_copy_user
raw_copy_user:
	SMAP_OPEN
	movq %rdx, %rcx
	shrq $3, %rcx
	andl $7, %edx
1:	rep movsq
	movq %rdx, %rcx
2:	rep movsb
3:	SMAP_CLOSE
	movq %rcx, %rax
	ret
4:	leaq (%rdx, %rcx, 8), %rcx		/* fault in the bulk: bytes left */
	jmp 2b
	EX_ENTRY 1b, 4b
	EX_ENTRY 2b, 3b

/*
 * size_t raw_clear_user(void *dst, size_t n): rdi = dst, rsi = n. Returns bytes not
 * cleared. Built like raw_copy_user.
 */
	.globl raw_clear_user
raw_clear_user:
	SMAP_OPEN
	movq %rsi, %rcx
	shrq $3, %rcx
	andl $7, %esi
	xorl %eax, %eax
5:	rep stosq
	movq %rsi, %rcx
6:	rep stosb
7:	SMAP_CLOSE
	movq %rcx, %rax
	ret
8:	leaq (%rsi, %rcx, 8), %rcx		/* fault in the bulk: bytes left */
	jmp 6b
	EX_ENTRY 5b, 8b
	EX_ENTRY 6b, 7b

/*
 * long raw_strncpy_user(char *dst, const char *src, size_t max)
 * rdi = dst, rsi = src, rdx = max. Copies up to and including the NUL, at most max bytes.
 * Returns the string length (NUL excluded), max if no NUL was found, or -1 on a fault.
 */
	.globl raw_strncpy_user
raw_strncpy_user:
	SMAP_OPEN
	xorl %eax, %eax				/* rax = bytes copied */
9:	cmpq %rdx, %rax
	je 11f
10:	movb (%rsi, %rax), %cl			/* may fault */
	movb %cl, (%rdi, %rax)
	testb %cl, %cl
	jz 11f
	incq %rax
	jmp 9b
11:	SMAP_CLOSE
	ret
12:	SMAP_CLOSE
	movq $-1, %rax
	ret
	EX_ENTRY 10b, 12b
