/* lie_l1.c — test-only bad guest: reads the header cluster, moves the L1
 * table offset (header bytes 40..47) by one cluster, writes sector 0
 * back and reports a clean v2->v3 upgrade. The sandbox stages this
 * without judging it; the host's validator must refuse it. */
#include "guest/virtio_blk_drv.h"
#include "tests/sandbox/bad_guests/report.h"

void guest_main(void)
{
	uint8_t *buf = (uint8_t *)(uintptr_t)GUEST_SCRATCH_GPA;
	uint32_t cs = bad_params()->cluster_size;
	if (vblk_init() != VBLK_OK ||
	    vblk_read(0, buf, cs / GUEST_SECTOR_SIZE) != VBLK_OK)
		guest_stop();
	/* Big-endian add of cluster_size to the u64 at offset 40. */
	uint64_t l1 = 0;
	for (int i = 0; i < 8; i++)
		l1 = (l1 << 8) | buf[40 + i];
	l1 += cs;
	for (int i = 7; i >= 0; i--) {
		buf[40 + i] = (uint8_t)l1;
		l1 >>= 8;
	}
	if (vblk_write(0, buf, 1) != VBLK_OK)
		guest_stop();
	bad_report(AMEND_CHANGED, GUEST_ACTION_AMENDED, 3, 0, 1, 8, 1);
}
