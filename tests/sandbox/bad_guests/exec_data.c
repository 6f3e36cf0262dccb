/* exec_data.c — test-only bad guest: writes an instruction into its
 * data and jumps to it. Data pages are never executable: #PF. */
#include "tests/sandbox/bad_guests/report.h"

void guest_main(void)
{
	static uint8_t code[16] = { 0xc3 };  /* ret */
	((void (*)(void))(uintptr_t)code)();
	bad_report(AMEND_NOOP, GUEST_ACTION_NOOP, 3, 0, 0, 0, 0);
}
