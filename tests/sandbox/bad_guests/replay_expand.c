/* replay_expand.c — test-only lying guest for a downgrade that expands
 * zero clusters: it writes over the header cluster the last cluster of
 * the disk (as replay_tail does: the test appends the header it wants
 * the host's validator to see, normally the honest one), copies into
 * the report region the report blob the test put before it, and reports
 * the amend the request asks for. The sector just before the last
 * cluster is a control block (magic, blob length); the blob fills the
 * sectors before that. It plays a compromised guest.bin that names the
 * L2 tables of its choosing: what the test appends is what the host's
 * expansion rules (src/image/expand.h) are shown. Built only into
 * //tests/validate:instar_replay_expand. */
#include "guest/virtio_blk_drv.h"
#include "tests/sandbox/bad_guests/report.h"

#define CTL_MAGIC 0x4e41505845524e49ull   /* "INREXPAN" little-endian */

struct ctl {
	uint64_t magic;
	uint32_t blob_bytes;     /* report bytes in the sectors before */
	uint32_t reserved;
};

void guest_main(void)
{
	const struct guest_params *p = bad_params();
	uint8_t *hdr = (uint8_t *)(uintptr_t)GUEST_SCRATCH_GPA;
	uint8_t *tail = hdr + p->cluster_size;
	uint8_t *sector = tail + p->cluster_size;
	uint8_t *region = (uint8_t *)(uintptr_t)p->report_gpa;
	uint32_t sectors = p->cluster_size / GUEST_SECTOR_SIZE;
	uint64_t cap, ctl_sector;
	uint32_t blob_sectors;
	struct ctl c;

	if (p->report_gpa == 0 || vblk_init() != VBLK_OK)
		guest_stop();
	cap = vblk_capacity();
	if (cap < 2u * sectors + 1u)
		guest_stop();
	ctl_sector = cap - sectors - 1u;
	if (vblk_read(0, hdr, sectors) != VBLK_OK ||
	    vblk_read(cap - sectors, tail, sectors) != VBLK_OK ||
	    vblk_read(ctl_sector, sector, 1) != VBLK_OK)
		guest_stop();
	memcpy(&c, sector, sizeof(c));
	if (c.magic != CTL_MAGIC || c.blob_bytes > p->report_bytes)
		guest_stop();
	blob_sectors = (c.blob_bytes + GUEST_SECTOR_SIZE - 1) / GUEST_SECTOR_SIZE;
	if (blob_sectors > ctl_sector)
		guest_stop();
	bad_read_sectors(ctl_sector - blob_sectors, region, blob_sectors);
	if (vblk_write(0, tail, sectors) != VBLK_OK)
		guest_stop();
	((volatile struct guest_result *)(uintptr_t)GUEST_RESULT_GPA)->report_len =
		c.blob_bytes;
	bad_report_requested(p, hdr, sectors);
}
