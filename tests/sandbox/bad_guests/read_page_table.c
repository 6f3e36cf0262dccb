/* read_page_table.c — test-only bad guest: tries to read a page table
 * (supervisor-only: #PF, a triple fault). */
#include "tests/sandbox/bad_guests/report.h"

void guest_main(void)
{
	volatile uint64_t v = *(volatile uint64_t *)(uintptr_t)GUEST_PT_LOW_GPA;
	(void)v;
	bad_report(AMEND_NOOP, GUEST_ACTION_NOOP, 3, 0, 0, 0, 0);
}
