/*
 * virtio_blk_drv.h — the guest's virtio-blk driver over virtio-mmio
 * (virtio 1.x, one split virtqueue, polled completion). The host hands
 * the device over initialised (guest_abi.h), so the driver makes no
 * register access but the queue notification: a batch of up to
 * VBLK_MAX_BATCH requests costs one VM exit. Freestanding; guest-only.
 */
#ifndef INSTAR_GUEST_VIRTIO_BLK_DRV_H
#define INSTAR_GUEST_VIRTIO_BLK_DRV_H

#include <stdbool.h>
#include <stdint.h>

/* Requests in one batch: each takes three descriptors of the queue. */
#define VBLK_MAX_BATCH 64u

enum vblk_err {
	VBLK_OK = 0,
	VBLK_ERR_NO_DEVICE,   /* the parameter page does not describe a device */
	VBLK_ERR_NOT_READY,   /* a request before a successful init */
	VBLK_ERR_RANGE,       /* request past the capacity, too large or empty */
	VBLK_ERR_BATCH,       /* more than VBLK_MAX_BATCH requests */
	VBLK_ERR_NO_COMPLETION, /* the used ring did not advance */
	VBLK_ERR_BAD_COMPLETION,/* a used element names no pending request */
	VBLK_ERR_IO,          /* device answered VIRTIO_BLK_S_IOERR/UNSUPP */
};

/* Take over the device the host prepared: the queue at guest_abi.h's
 * addresses, the capacity from the parameter page. */
enum vblk_err vblk_init(void);

/* Capacity in 512-byte sectors. */
uint64_t vblk_capacity(void);

/* One request: `nsectors` 512-byte sectors at `sector` into (read) or
 * from (write) `buf` (guest-physical == guest-virtual). */
struct vblk_io {
	uint64_t sector;
	void *buf;
	uint32_t nsectors;
	bool write;
};

/* Submit n requests, notify once, wait for all of them. VBLK_OK only if
 * every request succeeded. */
enum vblk_err vblk_batch(const struct vblk_io *io, uint32_t n);

/* Put n requests on the queue without notifying: the host serves them
 * when the guest rings the doorbell (guest_abi.h). For the guest's final
 * writes, whose outcome the host judges. */
enum vblk_err vblk_submit_final(const struct vblk_io *io, uint32_t n);

/* One request each (a batch of one). */
enum vblk_err vblk_read(uint64_t sector, void *buf, uint32_t nsectors);
enum vblk_err vblk_write(uint64_t sector, const void *buf, uint32_t nsectors);

#endif
