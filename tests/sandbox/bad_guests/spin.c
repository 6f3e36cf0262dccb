/* spin.c — test-only bad guest: loops forever without a single VM exit.
 * The host must stop it with its wall-time budget. */
#include "tests/sandbox/bad_guests/report.h"

void guest_main(void)
{
	for (;;)
		__asm__ volatile("pause" : : : "memory");
}
