/* mmio_storm.c — test-only bad guest: reads a valid virtio-mmio register
 * forever, one VM exit per read. The host must stop it with its bound on
 * exits. */
#include "abi/virtio_defs.h"
#include "tests/sandbox/bad_guests/report.h"

void guest_main(void)
{
	volatile uint32_t *magic = (volatile uint32_t *)(uintptr_t)(
		GUEST_MMIO_GPA + VIRTIO_MMIO_MAGIC_VALUE);
	for (;;)
		(void)*magic;
}
