/* write_params.c — test-only bad guest: tries to rewrite the parameter
 * page the host wrote (read-only: #PF). */
#include "tests/sandbox/bad_guests/report.h"

void guest_main(void)
{
	*(volatile uint32_t *)(uintptr_t)GUEST_PARAMS_GPA = 0;
	bad_report(AMEND_NOOP, GUEST_ACTION_NOOP, 3, 0, 0, 0, 0);
}
