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
