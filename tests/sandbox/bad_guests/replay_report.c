/* replay_report.c — test-only lying guest for the inspection commands:
 * it hands the host whatever report the test appended to the image file,
 * under whatever length and status the test chose. The disk's last
 * sector is a control block (struct ctl below); the blob of report bytes
 * fills the sectors just before it. The guest copies the blob into the
 * report region (into the scratch when the run has none), claims
 * `flush_len` at each of `flushes` flushes and `report_len` at the end,
 * and may try a disk write first. It plays a compromised guest.bin: what
 * the test appends is what the host's report checks are shown. Built
 * only into //tests/validate:instar_replay_report. */
#include "guest/virtio_blk_drv.h"
#include "tests/sandbox/bad_guests/report.h"

#define CTL_MAGIC 0x594c504552534e49ull   /* "INSREPLY" little-endian */

struct ctl {
	uint64_t magic;
	uint32_t blob_bytes;     /* report bytes in the sectors before */
	uint32_t report_len;     /* claimed at the end */
	uint32_t flushes;        /* flushes before the end */
	uint32_t flush_len;      /* claimed at each flush */
	uint32_t status;         /* guest_result.status */
	uint32_t write_disk;     /* 1: write sector 0 first (a read-only run) */
};

void guest_main(void)
{
	const struct guest_params *p = bad_params();
	uint8_t *sector = (uint8_t *)(uintptr_t)p->scratch_gpa;
	uint8_t *region = p->report_gpa != 0
				  ? (uint8_t *)(uintptr_t)p->report_gpa
				  : sector + GUEST_SECTOR_SIZE;
	uint64_t limit = p->report_gpa != 0 ? p->report_bytes
					    : p->scratch_bytes - GUEST_SECTOR_SIZE;
	volatile struct guest_result *r =
		(volatile struct guest_result *)(uintptr_t)GUEST_RESULT_GPA;
	struct ctl c;
	uint64_t last;
	uint32_t blob_sectors;

	if (vblk_init() != VBLK_OK || vblk_capacity() < 1)
		guest_stop();
	last = vblk_capacity() - 1;
	if (vblk_read(last, sector, 1) != VBLK_OK)
		guest_stop();
	memcpy(&c, sector, sizeof(c));
	if (c.magic != CTL_MAGIC || c.blob_bytes > limit)
		guest_stop();
	blob_sectors = (c.blob_bytes + GUEST_SECTOR_SIZE - 1) / GUEST_SECTOR_SIZE;
	if (blob_sectors > last)
		guest_stop();
	bad_read_sectors(last - blob_sectors, region, blob_sectors);
	if (c.write_disk)
		(void)vblk_write(0, sector, 1);
	for (uint32_t i = 0; i < c.flushes; i++) {
		r->report_len = c.flush_len;
		guest_barrier();
		*(volatile uint32_t *)(uintptr_t)GUEST_DOORBELL_GPA = GUEST_DOORBELL_FLUSH;
		guest_barrier();
	}
	r->magic = GUEST_ABI_MAGIC;
	r->abi_version = GUEST_ABI_VERSION;
	r->status = c.status;
	r->action = GUEST_ACTION_NONE;
	r->report_len = c.report_len;
	guest_barrier();
	guest_doorbell();
}
