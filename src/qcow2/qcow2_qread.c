/*
 * qcow2_qread.c — QEMU's read semantics over a sector reader (see
 * qcow2_qread.h).
 *
 * Trust: as qcow2_qread.h. A request is split at the end of the file:
 * whole sectors below it go to the reader (which zero-fills the tail of
 * a partial last sector), everything above is zeroed here.
 */
#include "src/qcow2/qcow2_qread.h"

#define SECTOR 512u
#define INT64_MAX_U 0x7fffffffffffffffULL

enum qcow2_qread_res qcow2_qread_verdict(const struct qcow2_qread *q,
					 uint64_t off, uint64_t len)
{
	if (q->limit) {
		if (off > QCOW2_QREAD_LIMIT || len > QCOW2_QREAD_LIMIT - off)
			return QCOW2_QREAD_EIO;
		return QCOW2_QREAD_OK;
	}
	if (off > INT64_MAX_U)
		return QCOW2_QREAD_EIO;
	if (len > INT64_MAX_U - off)
		return QCOW2_QREAD_ABORT;
	return QCOW2_QREAD_OK;
}

/* The sectors of the file ([0, readable) bytes) the reader may serve. */
static uint64_t readable(const struct qcow2_qread *q)
{
	uint64_t r = q->file_bytes + (SECTOR - 1u);

	if (r < q->file_bytes)
		return ~(uint64_t)(SECTOR - 1u);
	return r & ~(uint64_t)(SECTOR - 1u);
}

enum qcow2_qread_res qcow2_qread_many(const struct qcow2_qread *q,
				      const struct qcow2_qreq *r, uint32_t n)
{
	struct qcow2_read batch[64];
	uint32_t max = q->io->max_batch < 64u ? q->io->max_batch : 64u;
	uint32_t k = 0;
	uint64_t end_ok = readable(q);

	if (max == 0)
		return QCOW2_QREAD_DEVICE;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t len = ((uint64_t)r[i].len + SECTOR - 1u) & ~(uint64_t)(SECTOR - 1u);
		uint64_t inside;

		if ((r[i].off % SECTOR) != 0 || len > UINT32_MAX)
			return QCOW2_QREAD_DEVICE;
		inside = r[i].off >= end_ok ? 0 : end_ok - r[i].off;
		if (inside > len)
			inside = len;
		if (inside < len)
			__builtin_memset(r[i].buf + inside, 0, (size_t)(len - inside));
		if (inside == 0)
			continue;
		batch[k].offset = r[i].off;
		batch[k].buf = r[i].buf;
		batch[k].len = (uint32_t)inside;
		if (++k == max) {
			if (!q->io->read(q->io->ctx, batch, k))
				return QCOW2_QREAD_DEVICE;
			k = 0;
		}
	}
	if (k != 0 && !q->io->read(q->io->ctx, batch, k))
		return QCOW2_QREAD_DEVICE;
	return QCOW2_QREAD_OK;
}

enum qcow2_qread_res qcow2_qread(const struct qcow2_qread *q, uint64_t off,
				 uint8_t *buf, uint32_t len)
{
	enum qcow2_qread_res v = qcow2_qread_verdict(q, off, len);
	struct qcow2_qreq r = { off, buf, len };

	if (v != QCOW2_QREAD_OK || len == 0)
		return v;
	return qcow2_qread_many(q, &r, 1);
}
