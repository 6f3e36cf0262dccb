/* write_page_table.c — test-only bad guest: tries to make its own page
 * tables writable (turn the PML4's entry into one mapping everything as
 * a writable user page). The page tables are supervisor-only: the write
 * faults (#PF, no IDT: a triple fault) and they stay as the host wrote
 * them (the host checks). */
#include "tests/sandbox/bad_guests/report.h"

void guest_main(void)
{
	*(volatile uint64_t *)(uintptr_t)GUEST_PML4_GPA = 0x87ULL;
	bad_report(AMEND_NOOP, GUEST_ACTION_NOOP, 3, 0, 0, 0, 0);
}
