/*
 * virtio_blk_drv.c — a minimal virtio-blk driver for the amend guest:
 * the virtio-mmio (version 2) initialisation sequence, one split
 * virtqueue in .bss, and synchronous requests whose completion is polled
 * on the used ring (no interrupts; the host completes a request while
 * handling the QueueNotify write).
 *
 * Trust: the device is the host; its answers are still checked (ids,
 * used-ring index, status byte) so a broken device gives an error, not
 * a wrong header.
 */
#include "guest/virtio_blk_drv.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/lib.h"
#include "sandbox/guest_abi.h"
#include "sandbox/virtio_defs.h"

#define VQ_SIZE 8u          /* descriptors; one request uses three */
#define POLL_LIMIT 1000000u /* used-ring polls before giving up */

/* One page: descriptor table, available ring, used ring. */
struct vq_mem {
	struct virtq_desc desc[VQ_SIZE];                /* 16-aligned */
	uint16_t avail_flags;
	uint16_t avail_idx;
	uint16_t avail_ring[VQ_SIZE];
	uint16_t avail_pad[2];
	uint16_t used_flags;                            /* 4-aligned */
	uint16_t used_idx;
	struct virtq_used_elem used_ring[VQ_SIZE];
};

static struct vq_mem vq __attribute__((aligned(4096)));
static struct virtio_blk_req_hdr req_hdr __attribute__((aligned(16)));
static uint8_t req_status __attribute__((aligned(16)));
static uint16_t last_used;
static uint64_t capacity;
static bool ready;

static volatile uint32_t *mmio_reg(uint32_t off)
{
	return (volatile uint32_t *)(uintptr_t)(GUEST_MMIO_GPA + off);
}

static uint32_t mmio_read(uint32_t off)
{
	return *mmio_reg(off);
}

static void mmio_write(uint32_t off, uint32_t val)
{
	*mmio_reg(off) = val;
}

static void set_status(uint32_t bits)
{
	mmio_write(VIRTIO_MMIO_STATUS, bits);
}

static void write_addr(uint32_t low_off, const void *p)
{
	uint64_t a = (uint64_t)(uintptr_t)p;
	mmio_write(low_off, (uint32_t)a);
	mmio_write(low_off + 4u, (uint32_t)(a >> 32));
}

enum vblk_err vblk_init(void)
{
	ready = false;
	if (mmio_read(VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC ||
	    mmio_read(VIRTIO_MMIO_VERSION) != VIRTIO_MMIO_VERSION_MODERN ||
	    mmio_read(VIRTIO_MMIO_DEVICE_ID) != VIRTIO_ID_BLOCK)
		return VBLK_ERR_NO_DEVICE;

	set_status(0); /* reset */
	uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE;
	set_status(st);
	st |= VIRTIO_STATUS_DRIVER;
	set_status(st);

	/* Feature word 1 holds bit 32, VIRTIO_F_VERSION_1: the only one we
	 * accept. Word 0 is acknowledged as empty. */
	mmio_write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1u);
	uint32_t hi = mmio_read(VIRTIO_MMIO_DEVICE_FEATURES);
	const uint32_t v1 = 1u << (VIRTIO_F_VERSION_1 - 32u);
	if ((hi & v1) == 0) {
		set_status(st | VIRTIO_STATUS_FAILED);
		return VBLK_ERR_FEATURES;
	}
	mmio_write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0u);
	mmio_write(VIRTIO_MMIO_DRIVER_FEATURES, 0u);
	mmio_write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1u);
	mmio_write(VIRTIO_MMIO_DRIVER_FEATURES, v1);
	st |= VIRTIO_STATUS_FEATURES_OK;
	set_status(st);
	if ((mmio_read(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK) == 0) {
		set_status(st | VIRTIO_STATUS_FAILED);
		return VBLK_ERR_FEATURES;
	}

	mmio_write(VIRTIO_MMIO_QUEUE_SEL, 0u);
	if (mmio_read(VIRTIO_MMIO_QUEUE_READY) != 0 ||
	    mmio_read(VIRTIO_MMIO_QUEUE_NUM_MAX) < VQ_SIZE) {
		set_status(st | VIRTIO_STATUS_FAILED);
		return VBLK_ERR_QUEUE;
	}
	memset(&vq, 0, sizeof(vq));
	last_used = 0;
	mmio_write(VIRTIO_MMIO_QUEUE_NUM, VQ_SIZE);
	write_addr(VIRTIO_MMIO_QUEUE_DESC_LOW, vq.desc);
	write_addr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, &vq.avail_flags);
	write_addr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, &vq.used_flags);
	mmio_write(VIRTIO_MMIO_QUEUE_READY, 1u);

	uint32_t gen;
	do {
		gen = mmio_read(VIRTIO_MMIO_CONFIG_GENERATION);
		uint64_t lo = mmio_read(VIRTIO_MMIO_CONFIG +
					VIRTIO_BLK_CFG_CAPACITY);
		uint64_t hi_cap = mmio_read(VIRTIO_MMIO_CONFIG +
					    VIRTIO_BLK_CFG_CAPACITY + 4u);
		capacity = lo | (hi_cap << 32);
	} while (gen != mmio_read(VIRTIO_MMIO_CONFIG_GENERATION));

	st |= VIRTIO_STATUS_DRIVER_OK;
	set_status(st);
	ready = true;
	return VBLK_OK;
}

uint64_t vblk_capacity(void)
{
	return capacity;
}

static enum vblk_err do_request(uint32_t type, uint64_t sector, void *buf,
				uint32_t nsectors)
{
	if (!ready)
		return VBLK_ERR_NOT_READY;
	uint64_t end;
	uint64_t bytes = (uint64_t)nsectors * VIRTIO_BLK_SECTOR_SIZE;
	if (nsectors == 0 || bytes > UINT32_MAX ||
	    __builtin_add_overflow(sector, (uint64_t)nsectors, &end) ||
	    end > capacity)
		return VBLK_ERR_RANGE;

	req_hdr.type = type;
	req_hdr.reserved = 0;
	req_hdr.sector = sector;
	req_status = 0xff;

	vq.desc[0].addr = (uint64_t)(uintptr_t)&req_hdr;
	vq.desc[0].len = (uint32_t)sizeof(req_hdr);
	vq.desc[0].flags = VIRTQ_DESC_F_NEXT;
	vq.desc[0].next = 1;
	vq.desc[1].addr = (uint64_t)(uintptr_t)buf;
	vq.desc[1].len = (uint32_t)bytes;
	vq.desc[1].flags = (uint16_t)(VIRTQ_DESC_F_NEXT |
		(type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0u));
	vq.desc[1].next = 2;
	vq.desc[2].addr = (uint64_t)(uintptr_t)&req_status;
	vq.desc[2].len = 1;
	vq.desc[2].flags = VIRTQ_DESC_F_WRITE;
	vq.desc[2].next = 0;

	vq.avail_ring[vq.avail_idx % VQ_SIZE] = 0;
	guest_barrier();
	vq.avail_idx = (uint16_t)(vq.avail_idx + 1u);
	guest_barrier();
	mmio_write(VIRTIO_MMIO_QUEUE_NOTIFY, 0u);

	uint32_t polls = 0;
	while (*(volatile uint16_t *)&vq.used_idx == last_used) {
		if (++polls >= POLL_LIMIT)
			return VBLK_ERR_NO_COMPLETION;
	}
	guest_barrier();
	struct virtq_used_elem e = vq.used_ring[last_used % VQ_SIZE];
	last_used = (uint16_t)(last_used + 1u);
	if (e.id != 0)
		return VBLK_ERR_BAD_COMPLETION;
	if (*(volatile uint8_t *)&req_status != VIRTIO_BLK_S_OK)
		return VBLK_ERR_IO;
	/* Acknowledge the (unused) interrupt so the register stays tidy. */
	mmio_write(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	return VBLK_OK;
}

enum vblk_err vblk_read(uint64_t sector, void *buf, uint32_t nsectors)
{
	return do_request(VIRTIO_BLK_T_IN, sector, buf, nsectors);
}

enum vblk_err vblk_write(uint64_t sector, const void *buf, uint32_t nsectors)
{
	/* The device only reads `buf` for a T_OUT request. */
	return do_request(VIRTIO_BLK_T_OUT, sector, (void *)(uintptr_t)buf,
			  nsectors);
}
