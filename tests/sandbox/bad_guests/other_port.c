/* other_port.c — test-only bad guest: port I/O to a port that is not the
 * doorbell (the classic POST-code port 0x80). */
#include "tests/sandbox/bad_guests/report.h"

void guest_main(void)
{
	__asm__ volatile("outb %0, $0x80" : : "a"((uint8_t)0x42) : "memory");
	bad_report(AMEND_NOOP, GUEST_ACTION_NOOP, 3, 0, 0, 0, 0);
}
