/* bad_doorbell.c — test-only bad guest: fills a plausible result record
 * but rings the doorbell with the wrong value. */
#include "tests/sandbox/bad_guests/report.h"

void guest_main(void)
{
	volatile struct guest_result *r =
		(volatile struct guest_result *)(uintptr_t)GUEST_RESULT_GPA;
	r->magic = GUEST_ABI_MAGIC;
	r->abi_version = GUEST_ABI_VERSION;
	r->status = AMEND_NOOP;
	r->action = GUEST_ACTION_NOOP;
	*(volatile uint32_t *)(uintptr_t)GUEST_DOORBELL_GPA = GUEST_DOORBELL_DONE ^ 1u;
	guest_stop();
}
