/*
 * entry.S — the first instructions of a sandbox guest. The host starts
 * the vCPU here (GUEST_IMAGE_GPA) at CPL3, in 64-bit long mode with
 * paging, rsp at GUEST_STACK_TOP and interrupts off; nothing ever runs at
 * CPL0. We zero .bss and call guest_main(), which ends the run through
 * the doorbell. Should it return, ud2 ends the run with a fault (there
 * is no IDT: a triple fault, KVM_EXIT_SHUTDOWN).
 *
 * Trust: the host's CPU state (long mode, identity map); nothing else.
 */
#include "abi/guest_abi.h"

	.section .text.entry, "ax"
	.code64
	.globl	_start
	.type	_start, @function
_start:
	xorl	%ebp, %ebp
	cld

	/* Zero .bss: rdi = start, rcx = byte count. */
	leaq	__bss_start(%rip), %rdi
	leaq	__bss_end(%rip), %rcx
	subq	%rdi, %rcx
	xorl	%eax, %eax
	rep stosb

	call	guest_main
	ud2
	.size	_start, . - _start

	.section .note.GNU-stack, "", @progbits
