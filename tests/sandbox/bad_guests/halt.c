/* halt.c — test-only bad guest: halts without ringing the doorbell. */
#include "tests/sandbox/bad_guests/report.h"

void guest_main(void)
{
	guest_halt_forever();
}
