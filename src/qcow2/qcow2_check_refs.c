/*
 * qcow2_check_refs.c — the reference counters of a check (see
 * qcow2_check_internal.h): counting a byte range's clusters, the refcount
 * table's entries and blocks, the comparison with the refcounts on disk,
 * and the COPIED flags of the active L1 and L2 tables, each as qemu-img
 * does them (docs/check.md, steps 3, 7, 8, 9).
 *
 * Trust: counter indexes are checked against the room the caller gave
 * (imrt_cap) before any access; on-disk refcount blocks are read through
 * qcow2_qread into a buffer of one cluster and decoded inside it.
 */
#include "src/qcow2/qcow2_be.h"
#include "src/qcow2/qcow2_check_internal.h"
#include "src/qcow2/qcow2_format.h"

#define REFT_OFFSET_MASK 0xfffffffffffffe00ULL
#define REFT_RESERVED 0x1ffULL
#define COPIED (1ULL << 63)

uint64_t chk_get(const struct chk *c, const uint8_t *arr, uint64_t k)
{
	switch (c->rc_bytes) {
	case 1:
		return arr[k];
	case 2:
		return ((const uint16_t *)(const void *)arr)[k];
	case 4:
		return ((const uint32_t *)(const void *)arr)[k];
	default:
		return ((const uint64_t *)(const void *)arr)[k];
	}
}

void chk_set(const struct chk *c, uint8_t *arr, uint64_t k, uint64_t v)
{
	switch (c->rc_bytes) {
	case 1:
		arr[k] = (uint8_t)v;
		break;
	case 2:
		((uint16_t *)(void *)arr)[k] = (uint16_t)v;
		break;
	case 4:
		((uint32_t *)(void *)arr)[k] = (uint32_t)v;
		break;
	default:
		((uint64_t *)(void *)arr)[k] = v;
		break;
	}
}

enum chk_step chk_count(struct chk *c, uint64_t offset, uint64_t size)
{
	uint64_t start, last;

	if ((int64_t)size <= 0)
		return CHK_GO;
	/* QEMU's test, in signed 64-bit arithmetic that wraps. */
	if ((int64_t)(offset + size - c->file_len) >= (int64_t)c->cs) {
		if (!chk_find(c, QCOW2_F_EXCEEDS_EOF, 2, offset, size, 0))
			return CHK_ENGINE;
		return CHK_GO;
	}
	start = offset & ~(c->cs - 1u);
	last = (offset + size - 1u) & ~(c->cs - 1u);
	for (uint64_t co = start;; co += c->cs) {
		uint64_t k = co >> c->cb;
		uint64_t rc;

		if (k >= c->imrt_size) {
			/* QEMU grows its array to k + 1 counters; past the room
			 * here (only references with the top bit set get
			 * there) its allocation fails as well. */
			if (k >= c->imrt_cap) {
				if (!chk_find(c, QCOW2_F_ALLOC_FAILED, 0, 0, 0, 0))
					return CHK_ENGINE;
				return chk_fail(c, QCOW2_ENOMEM);
			}
			c->imrt_size = k + 1u;
		}
		rc = chk_get(c, c->imrt, k);
		if (rc == c->rc_max) {
			if (!chk_find(c, QCOW2_F_OVERFLOW, 1, co, 0, 0))
				return CHK_ENGINE;
		} else {
			chk_set(c, c->imrt, k, rc + 1u);
		}
		if (co >= last)
			break;
	}
	return CHK_GO;
}

enum chk_step chk_reftable_entries(struct chk *c)
{
	bool reserved = (c->in->flags & QCOW2_CHECK_RESERVED_BITS) != 0;

	for (uint64_t i = 0; i < c->reftable_entries; i++) {
		uint64_t r = qcow2_be64(c->reftable + i * 8u);
		uint64_t off = r;
		enum chk_step s;

		if (reserved) {
			if (r & REFT_RESERVED) {
				if (!chk_find(c, QCOW2_F_REFTABLE_RESERVED, 1, i, 0, 0))
					return CHK_ENGINE;
				continue;
			}
			off = r & REFT_OFFSET_MASK;
		}
		if (off & (c->cs - 1u)) {
			if (!chk_find(c, QCOW2_F_REFBLOCK_UNALIGNED, 1, i, 0, 0))
				return CHK_ENGINE;
			continue;
		}
		if ((off >> c->cb) >= c->imrt_size) {
			if (!chk_find(c, QCOW2_F_REFBLOCK_OUTSIDE, 1, i, 0, 0))
				return CHK_ENGINE;
			continue;
		}
		if (off == 0)
			continue;
		s = chk_count(c, off, c->cs);
		if (s != CHK_GO)
			return s;
		uint64_t v = chk_get(c, c->imrt, off >> c->cb);
		if (v != 1u && !chk_find(c, QCOW2_F_REFBLOCK_REFCOUNT, 2, i, v, 0))
			return CHK_ENGINE;
	}
	return CHK_GO;
}

/* Entry n of a refcount block of this image's width. */
static uint64_t block_entry(const struct chk *c, const uint8_t *b, uint64_t n)
{
	switch (c->rc_bits) {
	case 1:
	case 2:
	case 4: {
		uint64_t per = 8u / c->rc_bits;
		uint32_t shift = (uint32_t)((n % per) * c->rc_bits);
		return (uint64_t)(b[n / per] >> shift) & (((uint64_t)1 << c->rc_bits) - 1u);
	}
	case 8:
		return b[n];
	case 16:
		return qcow2_be16(b + n * 2u);
	case 32:
		return qcow2_be32(b + n * 4u);
	default:
		return qcow2_be64(b + n * 8u);
	}
}

enum qcow2_qread_res chk_disk_refcount(struct chk *c, uint64_t k, uint64_t *rc)
{
	uint32_t per_block_bits = c->cb + 3u - c->f->refcount_order;
	uint64_t bi = k >> per_block_bits;
	uint64_t rb;

	*rc = 0;
	if (bi >= c->reftable_entries)
		return QCOW2_QREAD_OK;
	rb = qcow2_be64(c->reftable + bi * 8u) & REFT_OFFSET_MASK;
	if (rb == 0)
		return QCOW2_QREAD_OK;
	if (rb & (c->cs - 1u)) {
		if (!c->corrupt_notice) {
			c->corrupt_notice = true;
			if (!chk_find(c, QCOW2_F_IMAGE_CORRUPT_REFBLOCK, 2, rb, bi, 0))
				return QCOW2_QREAD_DEVICE;
		}
		return QCOW2_QREAD_EIO;
	}
	if (!c->rb_valid || c->rb_cached != bi) {
		c->rb_valid = false;
		c->rb_res = qcow2_qread_verdict(&c->q, rb, c->cs);
		if (c->rb_res == QCOW2_QREAD_OK) {
			struct qcow2_qreq r = { rb, c->rb_buf, (uint32_t)c->cs };
			if (qcow2_qread_many(&c->q, &r, 1) != QCOW2_QREAD_OK)
				return QCOW2_QREAD_DEVICE;
		}
		c->rb_cached = bi;
		c->rb_valid = true;
	}
	if (c->rb_res != QCOW2_QREAD_OK)
		return c->rb_res;
	*rc = block_entry(c, c->rb_buf, k & (((uint64_t)1 << per_block_bits) - 1u));
	return QCOW2_QREAD_OK;
}

/* The on-disk refcount of cluster k, for the COPIED checks: from the
 * comparison's record where it has one. false: not available (QEMU
 * skips the entry without a word). */
static enum chk_step copied_refcount(struct chk *c, uint64_t k, uint64_t *rc,
				     bool *ok)
{
	enum qcow2_qread_res r;

	*ok = false;
	if (k < c->imrt_size) {
		if (c->disk_bad[k / 8u] & (1u << (k % 8u)))
			return CHK_GO;
		*rc = chk_get(c, c->disk, k);
		*ok = true;
		return CHK_GO;
	}
	r = chk_disk_refcount(c, k, rc);
	if (r == QCOW2_QREAD_DEVICE)
		return chk_engine(c, c->engine_err != QCOW2_CHECK_OK
					     ? c->engine_err : QCOW2_CHECK_IO);
	if (r == QCOW2_QREAD_ABORT) {
		c->res->aborted = true;
		return chk_find(c, QCOW2_F_READ_ABORT, 0, 0, 0, 0) ? CHK_FAILED
								    : CHK_ENGINE;
	}
	*ok = r == QCOW2_QREAD_OK;
	return CHK_GO;
}

enum chk_step chk_compare(struct chk *c)
{
	uint64_t highest = 0;

	for (uint64_t k = 0; k < c->imrt_size; k++) {
		uint64_t disk, refs = chk_get(c, c->imrt, k);
		enum qcow2_qread_res r = chk_disk_refcount(c, k, &disk);

		if (r == QCOW2_QREAD_DEVICE)
			return chk_engine(c, c->engine_err != QCOW2_CHECK_OK
						     ? c->engine_err : QCOW2_CHECK_IO);
		if (r == QCOW2_QREAD_ABORT) {
			c->res->aborted = true;
			return chk_find(c, QCOW2_F_READ_ABORT, 0, 0, 0, 0)
				       ? CHK_FAILED : CHK_ENGINE;
		}
		if (r != QCOW2_QREAD_OK) {
			c->disk_bad[k / 8u] |= (uint8_t)(1u << (k % 8u));
			if (!chk_find(c, QCOW2_F_CANT_GET_REFCOUNT, 2, k, QCOW2_EIO, 0))
				return CHK_ENGINE;
			continue;
		}
		chk_set(c, c->disk, k, disk);
		if (disk != 0 || refs != 0)
			highest = k;
		if (disk == refs)
			continue;
		if (!chk_find(c, disk < refs ? QCOW2_F_REFCOUNT_LOW : QCOW2_F_LEAK,
			      3, k, disk, refs))
			return CHK_ENGINE;
	}
	c->res->image_end_offset = (highest + 1u) << c->cb;
	return CHK_GO;
}

/* The L2 table at l2 of the active L1 entry: each allocated entry's
 * COPIED flag against its cluster's refcount. */
static enum chk_step copied_l2(struct chk *c, const uint8_t *l2)
{
	uint32_t esz = c->extended_l2 ? 16u : 8u;
	uint64_t n = c->cs / esz;

	for (uint64_t j = 0; j < n; j++) {
		uint64_t e = qcow2_be64(l2 + j * esz);
		enum chk_l2_type t = chk_l2_type(c, e);
		uint64_t rc = 1;
		bool ok = true;
		enum chk_step s;

		if (t != CHK_L2_NORMAL && t != CHK_L2_ZERO_ALLOC)
			continue;
		if (!c->data_file) {
			s = copied_refcount(c, (e & QCOW2_L2E_OFFSET_MASK) >> c->cb, &rc, &ok);
			if (s != CHK_GO)
				return s;
			if (!ok)
				continue;
		}
		if ((rc == 1u) != ((e & COPIED) != 0) &&
		    !chk_find(c, QCOW2_F_OFLAG_DATA, 2, e, rc, 0))
			return CHK_ENGINE;
	}
	return CHK_GO;
}

/* One L1 entry of the active table: its COPIED flag against its L2
 * table's refcount, then the table (already read into l2). */
static enum chk_step copied_l1_entry(struct chk *c, uint32_t index, uint64_t e,
				     const uint8_t *l2)
{
	uint64_t off = e & QCOW2_L1E_OFFSET_MASK;
	uint64_t rc = 0;
	bool ok;
	enum chk_step s;

	s = copied_refcount(c, off >> c->cb, &rc, &ok);
	if (s != CHK_GO || !ok)
		return s;
	if ((rc == 1u) != ((e & COPIED) != 0) &&
	    !chk_find(c, QCOW2_F_OFLAG_L2, 3, index, e, rc))
		return CHK_ENGINE;
	return copied_l2(c, l2);
}

/* QEMU reads the active L1 table, then each L2 table in turn; here the
 * L2 tables of up to c->batch entries are read in one batch (one VM exit
 * rather than one each) and then looked at in the same order, so the
 * findings come out as QEMU's do. */
enum chk_step chk_oflag_copied(struct chk *c)
{
	const struct qcow2_fields *f = c->f;
	uint32_t per = c->l1buf_len / 8u;

	for (uint32_t first = 0; first < f->l1_size; first += per) {
		uint32_t k = f->l1_size - first < per ? f->l1_size - first : per;
		struct qcow2_qreq r = { f->l1_offset + (uint64_t)first * 8u, c->l1buf,
					k * 8u };

		if (qcow2_qread_many(&c->q, &r, 1) != QCOW2_QREAD_OK)
			return chk_engine(c, QCOW2_CHECK_IO);
		for (uint32_t i = 0; i < k;) {
			struct qcow2_qreq reqs[64];
			uint32_t slot[64];
			uint32_t n = 0, j;

			for (j = i; j < k && j - i < 64u && n < c->batch; j++) {
				uint64_t l2 = qcow2_be64(c->l1buf + (size_t)j * 8u) &
					      QCOW2_L1E_OFFSET_MASK;

				slot[j - i] = UINT32_MAX;
				if (l2 == 0)
					continue;
				reqs[n].off = l2;
				reqs[n].buf = c->bufs + (size_t)n * c->cs;
				reqs[n].len = (uint32_t)c->cs;
				slot[j - i] = n++;
			}
			if (n != 0 && qcow2_qread_many(&c->q, reqs, n) != QCOW2_QREAD_OK)
				return chk_engine(c, QCOW2_CHECK_IO);
			for (uint32_t m = i; m < j; m++) {
				uint32_t sl = slot[m - i];
				enum chk_step s;

				if (sl == UINT32_MAX)
					continue;
				s = copied_l1_entry(c, first + m,
						    qcow2_be64(c->l1buf + (size_t)m * 8u),
						    c->bufs + (size_t)sl * c->cs);
				if (s != CHK_GO)
					return s;
			}
			i = j;
		}
	}
	return CHK_GO;
}
