/*
 * virtio_blk.h — the virtio-blk device model: turns descriptor chains
 * into block requests against the image. Reads come from the image file
 * (pread); writes go to the staging store and only inside the header
 * cluster. It meets the transport (virtio_mmio.c) through
 * struct virtio_dev_ops.
 *
 * Trust: every request is hostile. Framing, sector numbers, lengths and
 * ranges are checked; a malformed chain is a device protocol error that
 * ends the run; a well-formed request the device will not do gets
 * VIRTIO_BLK_S_IOERR (writes outside the header cluster also set
 * bad_write, which fails the run).
 */
#ifndef INSTAR_SANDBOX_VIRTIO_BLK_H
#define INSTAR_SANDBOX_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "sandbox/guest_mem.h"
#include "sandbox/staging.h"
#include "sandbox/virtio_mmio.h"
#include "sandbox/virtqueue.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VBLK_QUEUE_NUM_MAX 256u

/* Why the device gave up on the queue (a device protocol error). */
enum vblk_dev_err {
	VBLK_DEV_OK = 0,
	VBLK_DEV_ERR_QUEUE,     /* virtq_pop/push failed: see last_vq_err */
	VBLK_DEV_ERR_FRAMING,   /* header/data/status layout wrong */
};

struct vblk_device {
	const struct guest_mem *mem;
	int fd;                     /* the image, opened by the caller */
	uint64_t capacity;          /* sectors: ceil(disk_bytes / 512) */
	uint64_t disk_bytes;        /* the file's size before the run */
	const uint8_t *preprobe;    /* host's copy of the header cluster */
	uint32_t cluster_size;
	struct staging *staging;
	bool read_only;             /* every write is a bad write */

	/* What happened (read by sandbox.c and the tests). */
	bool header_changed;        /* a read of the header cluster differed */
	bool file_shrank;           /* a read met the end of the file before
				     * disk_bytes: the file changed under us */
	bool bad_write;             /* a write outside the header cluster */
	enum vblk_dev_err dev_err;
	enum vq_err last_vq_err;
	uint32_t requests;
	uint32_t reads;             /* pread calls */
	uint64_t read_bytes;
	uint32_t write_requests;
	uint32_t ioerr_requests;    /* requests answered with S_IOERR/UNSUPP */
};

void vblk_device_init(struct vblk_device *d, const struct guest_mem *mem,
		      int fd, uint64_t disk_bytes, const uint8_t *preprobe,
		      uint32_t cluster_size, struct staging *staging);

/* The ops the virtio-mmio transport drives this device through; `dev`
 * is a struct vblk_device. */
extern const struct virtio_dev_ops vblk_device_ops;

/* Handle one chain (exposed for the unit tests). Returns VBLK_DEV_OK with
 * *used_len set, or a framing error (nothing has been written then). */
enum vblk_dev_err vblk_device_handle(struct vblk_device *d,
				     const struct vq_chain *c,
				     uint32_t *used_len);

#ifdef __cplusplus
}
#endif

#endif
