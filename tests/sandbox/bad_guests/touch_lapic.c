/* touch_lapic.c — test-only bad guest: tries to reach the in-kernel local
 * APIC (the host enables KVM's split irqchip) through its default page
 * at 0xfee00000, which the guest's page tables do not map: #PF, a triple
 * fault. */
#include "tests/sandbox/bad_guests/report.h"

void guest_main(void)
{
	volatile uint32_t v = *(volatile uint32_t *)(uintptr_t)0xfee00020u;
	(void)v;
	bad_report(AMEND_NOOP, GUEST_ACTION_NOOP, 3, 0, 0, 0, 0);
}
