/*
 * virtqueue.h — the device side of one split virtqueue: where the driver
 * said its rings are, taking the next available descriptor chain out of
 * guest memory, and returning it on the used ring.
 *
 * Trust: everything in the rings is written by the guest. Ring
 * addresses, ring indices, descriptor indices, chain length, loops,
 * buffer addresses and lengths are all checked; buffers become host
 * pointers only through guest_mem_range().
 */
#ifndef INSTAR_SANDBOX_VIRTQUEUE_H
#define INSTAR_SANDBOX_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "sandbox/guest_mem.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest queue the device will ever offer, and the longest chain it
 * accepts (header + data + status needs 3; a little room for split data). */
#define VIRTQ_NUM_LIMIT 256u
#define VIRTQ_MAX_SEGS 16u

enum vq_err {
	VQ_OK = 0,
	VQ_EMPTY,              /* nothing available (not an error) */
	VQ_ERR_NOT_READY,      /* queue not activated */
	VQ_ERR_SIZE,           /* queue size 0 or above the maximum */
	VQ_ERR_RING_ALIGN,     /* a ring address is misaligned */
	VQ_ERR_RING_RANGE,     /* a ring is not inside guest RAM */
	VQ_ERR_AVAIL_IDX,      /* driver claims more than `num` new chains */
	VQ_ERR_DESC_INDEX,     /* head or next index >= num */
	VQ_ERR_LOOP,           /* a descriptor appears twice in one chain */
	VQ_ERR_CHAIN_LONG,     /* more than VIRTQ_MAX_SEGS descriptors */
	VQ_ERR_DESC_FLAGS,     /* INDIRECT or unknown flag bits */
	VQ_ERR_DESC_LEN,       /* zero-length buffer */
	VQ_ERR_DESC_RANGE,     /* buffer (addr, len) not inside guest RAM */
	VQ_ERR_DESC_ORDER,     /* device-readable buffer after a writable one */
};

struct virtq {
	uint32_t num;          /* queue size the driver chose */
	uint64_t desc_gpa;
	uint64_t avail_gpa;
	uint64_t used_gpa;
	uint16_t last_avail;   /* next available-ring slot to consume */
	uint16_t used_idx;     /* our used-ring index */
	bool ready;
};

/* One buffer of a chain, already translated and bounds-checked. */
struct vq_seg {
	uint8_t *host;
	uint32_t len;
	bool device_writable;
};

struct vq_chain {
	uint16_t head;
	uint32_t n;
	struct vq_seg seg[VIRTQ_MAX_SEGS];
};

/* Forget everything (device reset). */
void virtq_reset(struct virtq *q);

/* Check num (1..num_max) and the three rings' alignment and extent, then
 * mark the queue ready. On error the queue stays not ready. */
enum vq_err virtq_activate(struct virtq *q, const struct guest_mem *m,
			   uint32_t num_max);

/* Take the next available chain. VQ_EMPTY when there is none. On any
 * error the chain must not be used and the queue is broken. */
enum vq_err virtq_pop(struct virtq *q, const struct guest_mem *m,
		      struct vq_chain *c);

/* Put `head` on the used ring with `len` bytes written by the device. */
enum vq_err virtq_push(struct virtq *q, const struct guest_mem *m,
		       uint16_t head, uint32_t len);

#ifdef __cplusplus
}
#endif

#endif
