/*
 * virtio_blk_drv.h — the guest's virtio-blk driver over virtio-mmio
 * (virtio 1.x, one split virtqueue, polled completion, one request in
 * flight). Freestanding; guest-only.
 */
#ifndef INSTAR_GUEST_VIRTIO_BLK_DRV_H
#define INSTAR_GUEST_VIRTIO_BLK_DRV_H

#include <stdint.h>

enum vblk_err {
	VBLK_OK = 0,
	VBLK_ERR_NO_DEVICE,   /* wrong magic/version/device id */
	VBLK_ERR_FEATURES,    /* VERSION_1 not offered, or FEATURES_OK refused */
	VBLK_ERR_QUEUE,       /* queue 0 unavailable or too small */
	VBLK_ERR_NOT_READY,   /* vblk_read/write before a successful init */
	VBLK_ERR_RANGE,       /* request past the capacity or too large */
	VBLK_ERR_NO_COMPLETION, /* the used ring did not advance */
	VBLK_ERR_BAD_COMPLETION,/* used element names another chain */
	VBLK_ERR_IO,          /* device answered VIRTIO_BLK_S_IOERR/UNSUPP */
};

/* Reset and set up the device at GUEST_MMIO_GPA. */
enum vblk_err vblk_init(void);

/* Capacity in 512-byte sectors, as read at init. */
uint64_t vblk_capacity(void);

/* Read/write `nsectors` 512-byte sectors at `sector` to/from `buf`
 * (guest-physical == guest-virtual: the identity map). */
enum vblk_err vblk_read(uint64_t sector, void *buf, uint32_t nsectors);
enum vblk_err vblk_write(uint64_t sector, const void *buf, uint32_t nsectors);

#endif
