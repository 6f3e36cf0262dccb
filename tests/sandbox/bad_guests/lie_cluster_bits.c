/* lie_cluster_bits.c — test-only bad guest: rewrites cluster_bits
 * (header bytes 20..23) to 16 +/- 1 and reports a clean amend. Staged,
 * not judged, by the sandbox; the validator must refuse it. */
#include "guest/virtio_blk_drv.h"
#include "tests/sandbox/bad_guests/report.h"

void guest_main(void)
{
	uint8_t *buf = (uint8_t *)(uintptr_t)GUEST_SCRATCH_GPA;
	uint32_t cs = bad_params()->cluster_size;
	if (vblk_init() != VBLK_OK ||
	    vblk_read(0, buf, cs / GUEST_SECTOR_SIZE) != VBLK_OK)
		guest_stop();
	buf[23] = buf[23] == 16 ? 17 : 16;
	if (vblk_write(0, buf, 1) != VBLK_OK)
		guest_stop();
	bad_report(AMEND_CHANGED, GUEST_ACTION_AMENDED, 3, 0, 1, 1, 1);
}
