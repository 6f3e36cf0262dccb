/* mmio_outside.c — test-only bad guest: touches guest-physical memory
 * that is mapped in its page tables but is neither RAM nor the virtio-mmio
 * window (the page right after the window). */
#include "tests/sandbox/bad_guests/report.h"

void guest_main(void)
{
	volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)(
		GUEST_MMIO_GPA + 0x2000u);  /* past the registers and the doorbell */
	*p = 1;
	bad_report(AMEND_NOOP, GUEST_ACTION_NOOP, 3, 0, 0, 0, 0);
}
