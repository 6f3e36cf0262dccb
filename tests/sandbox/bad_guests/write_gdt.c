/* write_gdt.c — test-only bad guest: tries to turn its code segment
 * into a DPL 0 one by writing the GDT (supervisor-only: #PF). */
#include "tests/sandbox/bad_guests/report.h"

void guest_main(void)
{
	*(volatile uint64_t *)(uintptr_t)(GUEST_GDT_GPA + 8u) = 0x00af9b000000ffffULL;
	bad_report(AMEND_NOOP, GUEST_ACTION_NOOP, 3, 0, 0, 0, 0);
}
