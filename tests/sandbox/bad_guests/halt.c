/* halt.c — test-only bad guest: tries to halt the vCPU without ringing the
 * doorbell. */
#include "tests/sandbox/bad_guests/report.h"

void guest_main(void)
{
	/* hlt is privileged: at CPL3 a #GP, and without an IDT a triple
	 * fault. The guest cannot park the vCPU. */
	for (;;)
		__asm__ volatile("hlt" : : : "memory");
}
