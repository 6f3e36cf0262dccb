/* other_port.c — test-only bad guest: port I/O (the classic POST-code
 * port 0x80). At CPL3 with IOPL 0 and no I/O bitmap the CPU refuses it
 * (#GP): the guest crashes without reaching the host. */
#include "tests/sandbox/bad_guests/report.h"

void guest_main(void)
{
	__asm__ volatile("outb %0, $0x80" : : "a"((uint8_t)0x42) : "memory");
	bad_report(AMEND_NOOP, GUEST_ACTION_NOOP, 3, 0, 0, 0, 0);
}
