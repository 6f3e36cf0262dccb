/* write_code.c — test-only bad guest: tries to patch its own code
 * (read + execute pages: #PF). */
#include "tests/sandbox/bad_guests/report.h"

void guest_main(void)
{
	*(volatile uint8_t *)(uintptr_t)GUEST_IMAGE_GPA = 0x90;
	bad_report(AMEND_NOOP, GUEST_ACTION_NOOP, 3, 0, 0, 0, 0);
}
