/*
 * virtio_mmio.h — the virtio-mmio (version 2) register file: magic,
 * version, ids, feature negotiation, the device status state machine,
 * queue set-up and notification, and the device's config space. It knows
 * nothing about block devices; it drives one through struct
 * virtio_dev_ops (one device, one queue).
 *
 * Trust: every register access comes from the guest (a KVM MMIO exit).
 * Offsets, widths and directions are checked; out-of-order set-up (queue
 * changes while ready, notify before DRIVER_OK, ...) is a protocol error
 * that ends the run.
 */
#ifndef INSTAR_SANDBOX_VIRTIO_MMIO_H
#define INSTAR_SANDBOX_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include "sandbox/guest_mem.h"
#include "sandbox/virtqueue.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Vendor id the transport reports ("INST", little-endian). */
#define VIRTIO_MMIO_VENDOR_INSTAR 0x54534e49u

/* What a device model provides to the transport. */
struct virtio_dev_ops {
	uint32_t device_id;
	uint64_t features;       /* offered feature bits */
	uint32_t queue_num_max;  /* size limit of queue 0 */
	uint32_t config_bytes;   /* size of the config space */
	/* Read `width` (1..8) bytes at config offset `off`; false if out of
	 * range. */
	bool (*config_read)(void *dev, uint32_t off, uint32_t width,
			    uint64_t *val);
	/* Process queue 0; false on a device protocol error. */
	bool (*queue_notify)(void *dev, struct virtq *q);
	void (*reset)(void *dev);
};

enum vmmio_err {
	VMMIO_OK = 0,
	VMMIO_ERR_ACCESS,     /* bad offset, width or direction */
	VMMIO_ERR_PROTOCOL,   /* driver broke the set-up sequence */
	VMMIO_ERR_QUEUE,      /* queue layout refused (see queue_err) */
	VMMIO_ERR_DEVICE,     /* the device model refused the queue */
};

struct virtio_mmio {
	const struct virtio_dev_ops *ops;
	void *dev;
	const struct guest_mem *mem;
	uint32_t status;
	uint32_t dev_features_sel;
	uint32_t drv_features_sel;
	uint64_t drv_features;
	bool drv_features_bad;   /* driver wrote a bit in word >= 2 */
	uint32_t queue_sel;
	uint32_t irq_status;
	uint32_t notifies;
	uint32_t flushes;        /* vmmio_flush() calls that served the queue */
	enum vq_err queue_err;
	struct virtq q;
};

void vmmio_init(struct virtio_mmio *t, const struct virtio_dev_ops *ops,
		void *dev, const struct guest_mem *mem);

/* Hand the device over ready to use, as a driver leaves it after a full
 * initialisation: status ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK,
 * the device's feature bits accepted, queue 0 of `num` entries at the
 * given rings (checked by virtq_activate() exactly as when a guest sets
 * it up). The guest then needs no register access before its first
 * notification; it may still reset the device and set it up again.
 * VMMIO_ERR_QUEUE (device left reset) if the rings are refused. */
enum vmmio_err vmmio_preconfigure(struct virtio_mmio *t, uint32_t num,
				  uint64_t desc_gpa, uint64_t avail_gpa,
				  uint64_t used_gpa);

/* Serve queue 0 as a notification would, if it is ready (else do
 * nothing): the run loop calls it when the guest rings the doorbell, so
 * the guest's last requests (its writes) cost no exit of their own. */
enum vmmio_err vmmio_flush(struct virtio_mmio *t);

/* One guest access of `len` bytes at `offset` into the register window.
 * Reads fill data[0..len) (little-endian); writes take it from there. */
enum vmmio_err vmmio_access(struct virtio_mmio *t, uint64_t offset,
			    uint8_t *data, uint32_t len, bool is_write);

#ifdef __cplusplus
}
#endif

#endif
