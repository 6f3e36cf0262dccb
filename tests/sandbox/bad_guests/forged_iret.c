/* forged_iret.c — test-only bad guest: tries to reach CPL0 by iretq
 * through a forged frame naming a DPL 0 code selector (0x08, the slot the
 * old CPL0 guests used). iret cannot raise the privilege level: #GP, a
 * triple fault. */
#include "tests/sandbox/bad_guests/report.h"

void guest_main(void)
{
	__asm__ volatile(
		"movq %%rsp, %%rax\n\t"
		"pushq $0x13\n\t"          /* ss: our data selector */
		"pushq %%rax\n\t"          /* rsp */
		"pushq $0x2\n\t"           /* rflags */
		"pushq $0x08\n\t"          /* cs: selector 1, RPL 0 */
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"          /* rip */
		"iretq\n"
		"1:"
		: : : "rax", "memory");
	bad_report(AMEND_NOOP, GUEST_ACTION_NOOP, 3, 0, 0, 0, 0);
}
