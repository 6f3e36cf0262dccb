/*
 * disk.c — the guest's batched disk reader (see disk.h).
 */
#include "guest/disk.h"

#include "abi/guest_abi.h"
#include "guest/virtio_blk_drv.h"

bool disk_read_batch(void *ctx, const struct qcow2_read *r, uint32_t n)
{
	struct vblk_io io[VBLK_MAX_BATCH];

	(void)ctx;
	if (n == 0 || n > VBLK_MAX_BATCH)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		if (r[i].offset % GUEST_SECTOR_SIZE != 0 ||
		    r[i].len % GUEST_SECTOR_SIZE != 0)
			return false;
		io[i].sector = r[i].offset / GUEST_SECTOR_SIZE;
		io[i].buf = r[i].buf;
		io[i].nsectors = r[i].len / GUEST_SECTOR_SIZE;
		io[i].write = false;
	}
	return vblk_batch(io, n) == VBLK_OK;
}

struct qcow2_io disk_io(void)
{
	struct qcow2_io io = { disk_read_batch, 0, VBLK_MAX_BATCH };

	return io;
}

static bool read_with_progress(void *ctx, const struct qcow2_read *r,
			       uint32_t n)
{
	const struct qcow2_walk_stats *st = ctx;
	volatile struct guest_result *res =
		(volatile struct guest_result *)(uintptr_t)GUEST_RESULT_GPA;

	if (st->l1_entries != 0 && st->l1_entries_done <= st->l1_entries)
		res->progress = (uint32_t)((st->l1_entries_done * 65536u) /
					   st->l1_entries);
	return disk_read_batch(NULL, r, n);
}

struct qcow2_io disk_io_progress(const struct qcow2_walk_stats *st)
{
	struct qcow2_io io = { read_with_progress, (void *)(uintptr_t)st,
			       VBLK_MAX_BATCH };

	return io;
}
