/*
 * virtio_defs.h — the numbers of the virtio 1.x specification that both
 * sides of the sandbox use: virtio-mmio (version 2) register offsets,
 * device status bits, feature bits, split-virtqueue layout, and the
 * virtio-blk request header and status codes.
 *
 * Trust: none; it only names numbers from the specification (virtio 1.2,
 * sections 2.1, 2.7, 4.2.2, 5.2). Shared by the host device model
 * (sandbox/virtio_*.c) and the guest driver (guest/virtio_blk_drv.c).
 * Freestanding: stdint only.
 */
#ifndef INSTAR_VIRTIO_DEFS_H
#define INSTAR_VIRTIO_DEFS_H

#include <stdint.h>

/* ---- virtio-mmio register offsets (all registers 32 bits wide) ---- */
#define VIRTIO_MMIO_MAGIC_VALUE        0x000u /* R: "virt" */
#define VIRTIO_MMIO_VERSION            0x004u /* R: 2 = modern */
#define VIRTIO_MMIO_DEVICE_ID          0x008u /* R */
#define VIRTIO_MMIO_VENDOR_ID          0x00cu /* R */
#define VIRTIO_MMIO_DEVICE_FEATURES    0x010u /* R: 32 bits of the selected word */
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014u /* W */
#define VIRTIO_MMIO_DRIVER_FEATURES    0x020u /* W */
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024u /* W */
#define VIRTIO_MMIO_QUEUE_SEL          0x030u /* W */
#define VIRTIO_MMIO_QUEUE_NUM_MAX      0x034u /* R */
#define VIRTIO_MMIO_QUEUE_NUM          0x038u /* W */
#define VIRTIO_MMIO_QUEUE_READY        0x044u /* RW */
#define VIRTIO_MMIO_QUEUE_NOTIFY       0x050u /* W */
#define VIRTIO_MMIO_INTERRUPT_STATUS   0x060u /* R */
#define VIRTIO_MMIO_INTERRUPT_ACK      0x064u /* W */
#define VIRTIO_MMIO_STATUS             0x070u /* RW */
#define VIRTIO_MMIO_QUEUE_DESC_LOW     0x080u /* W */
#define VIRTIO_MMIO_QUEUE_DESC_HIGH    0x084u /* W */
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW   0x090u /* W: the available ring */
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH  0x094u /* W */
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW   0x0a0u /* W: the used ring */
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH  0x0a4u /* W */
#define VIRTIO_MMIO_CONFIG_GENERATION  0x0fcu /* R */
#define VIRTIO_MMIO_CONFIG             0x100u /* device-specific config */

#define VIRTIO_MMIO_MAGIC              0x74726976u /* "virt", little-endian */
#define VIRTIO_MMIO_VERSION_MODERN     2u
#define VIRTIO_MMIO_INT_VRING          1u /* InterruptStatus: used ring updated */

/* ---- device status bits ---- */
#define VIRTIO_STATUS_ACKNOWLEDGE      1u
#define VIRTIO_STATUS_DRIVER           2u
#define VIRTIO_STATUS_DRIVER_OK        4u
#define VIRTIO_STATUS_FEATURES_OK      8u
#define VIRTIO_STATUS_NEEDS_RESET      64u
#define VIRTIO_STATUS_FAILED           128u

/* ---- feature bits ---- */
#define VIRTIO_F_VERSION_1             32u /* bit number */

/* ---- device ids ---- */
#define VIRTIO_ID_BLOCK                2u

/* ---- split virtqueue ---- */
#define VIRTQ_DESC_F_NEXT      1u /* the chain continues in `next` */
#define VIRTQ_DESC_F_WRITE     2u /* device-writable buffer */
#define VIRTQ_DESC_F_INDIRECT  4u /* not negotiated: always refused */

struct virtq_desc {          /* 16 bytes, 16-byte aligned table */
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* The available ring is { u16 flags; u16 idx; u16 ring[num]; } (2-byte
 * aligned); the used ring is { u16 flags; u16 idx; struct
 * virtq_used_elem ring[num]; } (4-byte aligned). The event-index fields
 * that follow them are not used (VIRTIO_F_EVENT_IDX is not offered). */
struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

#define VIRTQ_AVAIL_RING_OFF   4u
#define VIRTQ_USED_RING_OFF    4u
#define VIRTQ_DESC_ALIGN       16u
#define VIRTQ_AVAIL_ALIGN      2u
#define VIRTQ_USED_ALIGN       4u

/* ---- virtio-blk ---- */
#define VIRTIO_BLK_SECTOR_SIZE 512u

#define VIRTIO_BLK_T_IN        0u
#define VIRTIO_BLK_T_OUT       1u
#define VIRTIO_BLK_T_FLUSH     4u
#define VIRTIO_BLK_T_GET_ID    8u

#define VIRTIO_BLK_S_OK        0u
#define VIRTIO_BLK_S_IOERR     1u
#define VIRTIO_BLK_S_UNSUPP    2u

#define VIRTIO_BLK_ID_BYTES    20u

struct virtio_blk_req_hdr {  /* 16 bytes, device-readable */
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

/* Config space: only `capacity` (in 512-byte sectors, at offset 0) is
 * exposed; no size_max/seg_max/geometry/blk_size features are offered. */
#define VIRTIO_BLK_CFG_CAPACITY 0u
#define VIRTIO_BLK_CFG_BYTES    8u

#endif
