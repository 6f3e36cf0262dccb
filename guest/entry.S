/*
 * entry.S — the first instructions of amend.bin. The host starts the vCPU
 * here (GUEST_IMAGE_GPA) in 64-bit long mode with paging, a flat GDT and
 * no IDT. We set up the stack, zero .bss, call guest_main() and, should
 * it ever return, halt forever with interrupts off.
 *
 * Trust: the host's CPU state (long mode, identity map); nothing else.
 */
#include "sandbox/guest_abi.h"

	.section .text.entry, "ax"
	.code64
	.globl	_start
	.type	_start, @function
_start:
	cli
	movabsq	$GUEST_STACK_TOP, %rsp
	xorl	%ebp, %ebp
	cld

	/* Zero .bss: rdi = start, rcx = byte count. */
	leaq	__bss_start(%rip), %rdi
	leaq	__bss_end(%rip), %rcx
	subq	%rdi, %rcx
	xorl	%eax, %eax
	rep stosb

	call	guest_main

1:	hlt
	jmp	1b
	.size	_start, . - _start

	.section .note.GNU-stack, "", @progbits
