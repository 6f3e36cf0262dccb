/*
 * virtio_blk_drv.c — the guest's virtio-blk driver (see virtio_blk_drv.h):
 * requests placed on the split virtqueue the host prepared at the fixed
 * addresses of guest_abi.h, one notification per batch, completion
 * polled on the used ring (the host completes every request of the batch
 * while it handles the notification).
 *
 * Trust: the device is the host; its answers are still checked (ids,
 * used-ring index, status bytes) so a broken device gives an error, not
 * wrong data.
 */
#include "guest/virtio_blk_drv.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/guest_abi.h"
#include "abi/virtio_defs.h"
#include "guest/lib.h"

#define POLL_LIMIT 1000000u /* used-ring polls before giving up */

_Static_assert(VBLK_MAX_BATCH * 3u <= GUEST_VQ_SIZE, "a batch fits the queue");

struct avail_ring {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[GUEST_VQ_SIZE];
};

struct used_ring {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[GUEST_VQ_SIZE];
};

static struct virtq_desc *const desc =
	(struct virtq_desc *)(uintptr_t)GUEST_VQ_DESC_GPA;
static struct avail_ring *const avail =
	(struct avail_ring *)(uintptr_t)GUEST_VQ_AVAIL_GPA;
static volatile struct used_ring *const used =
	(volatile struct used_ring *)(uintptr_t)GUEST_VQ_USED_GPA;

static struct virtio_blk_req_hdr hdrs[VBLK_MAX_BATCH] __attribute__((aligned(16)));
static uint8_t status[VBLK_MAX_BATCH];
static uint16_t last_used;
static uint64_t capacity;
static bool ready;

enum vblk_err vblk_init(void)
{
	const struct guest_params *p =
		(const struct guest_params *)(uintptr_t)GUEST_PARAMS_GPA;

	ready = false;
	if (p->magic != GUEST_ABI_MAGIC || p->abi_version != GUEST_ABI_VERSION)
		return VBLK_ERR_NO_DEVICE;
	/* The host handed the queue over unused: both indices at zero. */
	last_used = used->idx;
	avail->idx = last_used;
	capacity = p->disk_bytes / VIRTIO_BLK_SECTOR_SIZE +
		   (p->disk_bytes % VIRTIO_BLK_SECTOR_SIZE != 0);
	ready = true;
	return VBLK_OK;
}

uint64_t vblk_capacity(void)
{
	return capacity;
}

static bool range_ok(const struct vblk_io *io)
{
	uint64_t end;
	uint64_t bytes = (uint64_t)io->nsectors * VIRTIO_BLK_SECTOR_SIZE;

	return io->nsectors != 0 && bytes <= UINT32_MAX &&
	       !__builtin_add_overflow(io->sector, (uint64_t)io->nsectors, &end) &&
	       end <= capacity;
}

/* Request i of the batch uses descriptors 3i (header), 3i+1 (data) and
 * 3i+2 (status). */
static void put_request(uint32_t i, const struct vblk_io *io)
{
	uint16_t d = (uint16_t)(3u * i);

	hdrs[i].type = io->write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
	hdrs[i].reserved = 0;
	hdrs[i].sector = io->sector;
	status[i] = 0xff;
	desc[d].addr = (uint64_t)(uintptr_t)&hdrs[i];
	desc[d].len = (uint32_t)sizeof(hdrs[i]);
	desc[d].flags = VIRTQ_DESC_F_NEXT;
	desc[d].next = (uint16_t)(d + 1u);
	desc[d + 1u].addr = (uint64_t)(uintptr_t)io->buf;
	desc[d + 1u].len = io->nsectors * VIRTIO_BLK_SECTOR_SIZE;
	desc[d + 1u].flags = (uint16_t)(VIRTQ_DESC_F_NEXT |
					(io->write ? 0u : VIRTQ_DESC_F_WRITE));
	desc[d + 1u].next = (uint16_t)(d + 2u);
	desc[d + 2u].addr = (uint64_t)(uintptr_t)&status[i];
	desc[d + 2u].len = 1;
	desc[d + 2u].flags = VIRTQ_DESC_F_WRITE;
	desc[d + 2u].next = 0;
	avail->ring[(uint16_t)(avail->idx + i) % GUEST_VQ_SIZE] = d;
}

/* Place the n requests and publish them on the available ring. */
static enum vblk_err submit(const struct vblk_io *io, uint32_t n)
{
	if (!ready)
		return VBLK_ERR_NOT_READY;
	if (n == 0 || n > VBLK_MAX_BATCH)
		return VBLK_ERR_BATCH;
	for (uint32_t i = 0; i < n; i++) {
		if (!range_ok(&io[i]))
			return VBLK_ERR_RANGE;
		put_request(i, &io[i]);
	}
	guest_barrier();
	avail->idx = (uint16_t)(avail->idx + n);
	guest_barrier();
	return VBLK_OK;
}

enum vblk_err vblk_submit_final(const struct vblk_io *io, uint32_t n)
{
	enum vblk_err e = submit(io, n);
	if (e == VBLK_OK)
		ready = false;   /* the run ends with the doorbell */
	return e;
}

enum vblk_err vblk_batch(const struct vblk_io *io, uint32_t n)
{
	enum vblk_err e = submit(io, n);
	if (e != VBLK_OK)
		return e;
	*(volatile uint32_t *)(uintptr_t)(GUEST_MMIO_GPA + VIRTIO_MMIO_QUEUE_NOTIFY) = 0;

	uint16_t want = (uint16_t)(last_used + n);
	uint32_t polls = 0;
	while (used->idx != want) {
		if (++polls >= POLL_LIMIT)
			return VBLK_ERR_NO_COMPLETION;
	}
	guest_barrier();
	bool done[VBLK_MAX_BATCH] = { false };
	enum vblk_err err = VBLK_OK;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t id = used->ring[(uint16_t)(last_used + k) % GUEST_VQ_SIZE].id;
		if (id % 3u != 0 || id / 3u >= n || done[id / 3u]) {
			err = VBLK_ERR_BAD_COMPLETION;
			continue;
		}
		done[id / 3u] = true;
		if (status[id / 3u] != VIRTIO_BLK_S_OK && err == VBLK_OK)
			err = VBLK_ERR_IO;
	}
	last_used = want;
	return err;
}

enum vblk_err vblk_read(uint64_t sector, void *buf, uint32_t nsectors)
{
	struct vblk_io io = { sector, buf, nsectors, false };
	return vblk_batch(&io, 1);
}

enum vblk_err vblk_write(uint64_t sector, const void *buf, uint32_t nsectors)
{
	/* The device only reads `buf` for a write request. */
	struct vblk_io io = { sector, (void *)(uintptr_t)buf, nsectors, true };
	return vblk_batch(&io, 1);
}
