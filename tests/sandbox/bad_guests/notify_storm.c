/* notify_storm.c — test-only bad guest: floods the host with queue
 * notifications (each a VM exit, each with nothing on the queue). The
 * exit budget ends it. */
#include "tests/sandbox/bad_guests/report.h"

void guest_main(void)
{
	volatile uint32_t *notify = (volatile uint32_t *)(uintptr_t)(
		GUEST_MMIO_GPA + 0x050u);
	for (;;)
		*notify = 0;
}
