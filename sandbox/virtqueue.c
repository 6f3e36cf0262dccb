/*
 * virtqueue.c — device side of a split virtqueue (see virtqueue.h).
 *
 * Trust: all ring contents are guest-written. Each field is read once
 * into a local (memcpy: rings need not be aligned for the host's sake)
 * and checked before use. The vCPU is stopped while the host runs this,
 * so the guest cannot change a value between check and use.
 */
#include "sandbox/virtqueue.h"

#include <string.h>

#include "abi/virtio_defs.h"

#define DESC_BYTES ((uint64_t)sizeof(struct virtq_desc))
#define USED_ELEM_BYTES ((uint64_t)sizeof(struct virtq_used_elem))

void virtq_reset(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
}

/* Bytes of the three rings for `num` entries (no event-index fields). */
static uint64_t desc_bytes(uint32_t num)
{
	return DESC_BYTES * num;
}

static uint64_t avail_bytes(uint32_t num)
{
	return VIRTQ_AVAIL_RING_OFF + 2u * (uint64_t)num;
}

static uint64_t used_bytes(uint32_t num)
{
	return VIRTQ_USED_RING_OFF + USED_ELEM_BYTES * num;
}

enum vq_err virtq_activate(struct virtq *q, const struct guest_mem *m,
			   uint32_t num_max)
{
	q->ready = false;
	if (q->num == 0 || q->num > num_max || q->num > VIRTQ_NUM_LIMIT)
		return VQ_ERR_SIZE;
	if (q->desc_gpa % VIRTQ_DESC_ALIGN != 0 ||
	    q->avail_gpa % VIRTQ_AVAIL_ALIGN != 0 ||
	    q->used_gpa % VIRTQ_USED_ALIGN != 0)
		return VQ_ERR_RING_ALIGN;
	if (guest_mem_range(m, q->desc_gpa, desc_bytes(q->num)) == NULL ||
	    guest_mem_range(m, q->avail_gpa, avail_bytes(q->num)) == NULL ||
	    guest_mem_range(m, q->used_gpa, used_bytes(q->num)) == NULL)
		return VQ_ERR_RING_RANGE;
	q->last_avail = 0;
	q->used_idx = 0;
	q->ready = true;
	return VQ_OK;
}

static uint16_t load16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

enum vq_err virtq_pop(struct virtq *q, const struct guest_mem *m,
		      struct vq_chain *c)
{
	c->n = 0;
	c->head = 0;
	if (!q->ready)
		return VQ_ERR_NOT_READY;
	const uint8_t *avail = guest_mem_range(m, q->avail_gpa,
					       avail_bytes(q->num));
	const uint8_t *table = guest_mem_range(m, q->desc_gpa,
					       desc_bytes(q->num));
	if (avail == NULL || table == NULL)
		return VQ_ERR_RING_RANGE;

	uint16_t avail_idx = load16(avail + 2);
	uint16_t pending = (uint16_t)(avail_idx - q->last_avail);
	if (pending == 0)
		return VQ_EMPTY;
	if (pending > q->num)
		return VQ_ERR_AVAIL_IDX;

	uint32_t slot = q->last_avail % q->num;
	uint16_t head = load16(avail + VIRTQ_AVAIL_RING_OFF + (size_t)slot * 2u);
	q->last_avail = (uint16_t)(q->last_avail + 1u);
	if (head >= q->num)
		return VQ_ERR_DESC_INDEX;
	c->head = head;

	uint8_t seen[VIRTQ_NUM_LIMIT / 8u];
	memset(seen, 0, sizeof(seen));
	bool saw_writable = false;
	uint32_t idx = head;
	for (;;) {
		if (idx >= q->num)
			return VQ_ERR_DESC_INDEX;
		if ((seen[idx / 8u] >> (idx % 8u)) & 1u)
			return VQ_ERR_LOOP;
		seen[idx / 8u] = (uint8_t)(seen[idx / 8u] | (1u << (idx % 8u)));
		if (c->n >= VIRTQ_MAX_SEGS)
			return VQ_ERR_CHAIN_LONG;

		struct virtq_desc d;
		memcpy(&d, table + DESC_BYTES * idx, sizeof(d));
		if ((d.flags & ~(uint32_t)(VIRTQ_DESC_F_NEXT |
					   VIRTQ_DESC_F_WRITE)) != 0)
			return VQ_ERR_DESC_FLAGS;
		if (d.len == 0)
			return VQ_ERR_DESC_LEN;
		uint8_t *host = guest_mem_range(m, d.addr, d.len);
		if (host == NULL)
			return VQ_ERR_DESC_RANGE;
		bool w = (d.flags & VIRTQ_DESC_F_WRITE) != 0;
		if (saw_writable && !w)
			return VQ_ERR_DESC_ORDER;
		saw_writable = saw_writable || w;

		c->seg[c->n].host = host;
		c->seg[c->n].len = d.len;
		c->seg[c->n].device_writable = w;
		c->n++;
		if ((d.flags & VIRTQ_DESC_F_NEXT) == 0)
			return VQ_OK;
		idx = d.next;
	}
}

enum vq_err virtq_push(struct virtq *q, const struct guest_mem *m,
		       uint16_t head, uint32_t len)
{
	if (!q->ready)
		return VQ_ERR_NOT_READY;
	uint8_t *used = guest_mem_range(m, q->used_gpa, used_bytes(q->num));
	if (used == NULL)
		return VQ_ERR_RING_RANGE;
	struct virtq_used_elem e = { .id = head, .len = len };
	uint32_t slot = q->used_idx % q->num;
	memcpy(used + VIRTQ_USED_RING_OFF + USED_ELEM_BYTES * slot, &e,
	       sizeof(e));
	q->used_idx = (uint16_t)(q->used_idx + 1u);
	uint16_t idx = q->used_idx;
	memcpy(used + 2, &idx, sizeof(idx));
	return VQ_OK;
}
