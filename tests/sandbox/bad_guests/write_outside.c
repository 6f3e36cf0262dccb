/* write_outside.c — test-only bad guest: writes the first sector after
 * the header cluster (the device must refuse it and the run must fail),
 * then reports success as if nothing happened. */
#include "guest/virtio_blk_drv.h"
#include "tests/sandbox/bad_guests/report.h"

void guest_main(void)
{
	uint8_t *buf = (uint8_t *)(uintptr_t)GUEST_SCRATCH_GPA;
	uint32_t cs = bad_params()->cluster_size;
	memset(buf, 0xa5, GUEST_SECTOR_SIZE);
	if (vblk_init() != VBLK_OK)
		guest_stop();
	(void)vblk_write(cs / GUEST_SECTOR_SIZE, buf, 1);
	bad_report(AMEND_CHANGED, GUEST_ACTION_AMENDED, 3, 0, 1, 8, 1);
}
