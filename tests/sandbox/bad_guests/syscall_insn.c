/* syscall_insn.c — test-only bad guest: tries the syscall instruction
 * (EFER.SCE is clear: #UD, a triple fault) to enter CPL0. */
#include "tests/sandbox/bad_guests/report.h"

void guest_main(void)
{
	__asm__ volatile("syscall" : : : "rcx", "r11", "memory");
	bad_report(AMEND_NOOP, GUEST_ACTION_NOOP, 3, 0, 0, 0, 0);
}
