/* desc_loop.c — test-only bad guest: sets the device up by the book, then
 * submits a descriptor chain that loops (0 -> 1 -> 0) and notifies. The
 * device must refuse the chain and the host end the run with a device
 * protocol error (not hang, not walk forever). */
#include "abi/virtio_defs.h"
#include "tests/sandbox/bad_guests/report.h"

#define QN 4u

static struct {
	struct virtq_desc desc[QN];
	uint16_t avail_flags, avail_idx, avail_ring[QN];
	uint16_t pad[2];
	uint16_t used_flags, used_idx;
	struct virtq_used_elem used_ring[QN];
} q __attribute__((aligned(4096)));

static void wr(uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)(GUEST_MMIO_GPA + off) = v;
}

void guest_main(void)
{
	static struct virtio_blk_req_hdr hdr;
	uint64_t a;
	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			       VIRTIO_STATUS_FEATURES_OK);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, QN);
	a = (uint64_t)(uintptr_t)q.desc;
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)a);
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(a >> 32));
	a = (uint64_t)(uintptr_t)&q.avail_flags;
	wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)a);
	wr(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(a >> 32));
	a = (uint64_t)(uintptr_t)&q.used_flags;
	wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)a);
	wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(a >> 32));
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			       VIRTIO_STATUS_FEATURES_OK |
			       VIRTIO_STATUS_DRIVER_OK);

	q.desc[0].addr = (uint64_t)(uintptr_t)&hdr;
	q.desc[0].len = sizeof(hdr);
	q.desc[0].flags = VIRTQ_DESC_F_NEXT;
	q.desc[0].next = 1;
	q.desc[1].addr = GUEST_SCRATCH_GPA;
	q.desc[1].len = 512;
	q.desc[1].flags = VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE;
	q.desc[1].next = 0; /* back to the head */
	q.avail_ring[0] = 0;
	guest_barrier();
	q.avail_idx = 1;
	guest_barrier();
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	bad_report(AMEND_NOOP, GUEST_ACTION_NOOP, 3, 0, 0, 0, 0);
}
