/* replay_tail.c — test-only lying guest: reads the last header-cluster-
 * sized block of the disk (a cluster the test appended to the image file)
 * and writes it over the whole header cluster, then reports exactly the
 * amend the request asks for (version and lazy_refcounts as requested,
 * else as the header says). It plays a compromised guest.bin that plans
 * from a doctored header: whatever the test appends is what the host's
 * validator is shown. Built only into //tests/validate:instar_replay_tail. */
#include "guest/virtio_blk_drv.h"
#include "tests/sandbox/bad_guests/report.h"

void guest_main(void)
{
	const struct guest_params *p = bad_params();
	uint8_t *hdr = (uint8_t *)(uintptr_t)GUEST_SCRATCH_GPA;
	uint8_t *tail = hdr + p->cluster_size;
	uint32_t sectors = p->cluster_size / GUEST_SECTOR_SIZE;
	if (vblk_init() != VBLK_OK || vblk_capacity() < 2u * sectors ||
	    vblk_read(0, hdr, sectors) != VBLK_OK ||
	    vblk_read(vblk_capacity() - sectors, tail, sectors) != VBLK_OK ||
	    vblk_write(0, tail, sectors) != VBLK_OK)
		guest_stop();
	bad_report_requested(p, hdr, sectors);
}
