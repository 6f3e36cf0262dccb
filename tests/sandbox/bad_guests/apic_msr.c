/* apic_msr.c — test-only bad guest: tries to reach the in-kernel local
 * APIC through its MSRs (IA32_APIC_BASE, then the x2APIC ID register);
 * rdmsr/wrmsr are privileged: #GP at CPL3, a triple fault. */
#include "tests/sandbox/bad_guests/report.h"

void guest_main(void)
{
	uint32_t lo = 0, hi = 0;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0x1bu) : "memory");
	__asm__ volatile("wrmsr" : : "a"(lo), "d"(hi), "c"(0x802u) : "memory");
	bad_report(AMEND_NOOP, GUEST_ACTION_NOOP, 3, 0, 0, 0, 0);
}
