/*
 * qcow2_check_tables.c — one L1 table and its L2 tables, as qemu-img's
 * check walks them (docs/check.md, step 6): every L1 entry in order, its
 * L2 table counted, checked and read, every L2 entry classified, checked
 * and its clusters counted; the statistics from the active table only.
 * The reading is the ordered walk of qcow2_walk.c.
 *
 * Trust: the tables are hostile; entries are classified by masks only,
 * every count goes through chk_count() (bounds and overflow checked
 * there), reads through qcow2_qread.
 */
#include "src/qcow2/qcow2_be.h"
#include "src/qcow2/qcow2_check_internal.h"
#include "src/qcow2/qcow2_format.h"

#define COPIED (1ULL << 63)
#define L1_RESERVED 0x7f000000000001ffULL
#define L2_RESERVED 0x3f000000000001feULL
#define SUBCLUSTERS_ALLOC 0xffffffffULL

enum chk_l2_type chk_l2_type(const struct chk *c, uint64_t e)
{
	if (e & QCOW2_L2E_COMPRESSED)
		return CHK_L2_COMPRESSED;
	if ((e & QCOW2_L2E_ZERO) && !c->extended_l2)
		return (e & QCOW2_L2E_OFFSET_MASK) ? CHK_L2_ZERO_ALLOC
						   : CHK_L2_ZERO_PLAIN;
	if (!(e & QCOW2_L2E_OFFSET_MASK))
		return c->data_file && (e & COPIED) ? CHK_L2_NORMAL
						    : CHK_L2_UNALLOCATED;
	return CHK_L2_NORMAL;
}

struct walk_state {
	struct chk *c;
	bool stats;
	enum chk_step step;
};

/* A compressed entry; false stops the walk. */
static bool compressed(struct walk_state *w, uint32_t i, uint64_t e, uint64_t b)
{
	struct chk *c = w->c;
	uint32_t shift = 62u - (c->cb - 8u);
	uint64_t coffset = e & (((uint64_t)1 << shift) - 1u);
	uint64_t nsect = ((e >> shift) & (((uint64_t)1 << (c->cb - 8u)) - 1u)) + 1u;
	uint64_t off, size;

	if (e & COPIED) {
		if (!chk_find(c, QCOW2_F_COMPRESSED_COPIED, 1, coffset, 0, 0))
			return false;
		e &= ~COPIED;
	}
	if (c->data_file)
		return chk_find(c, QCOW2_F_COMPRESSED_DATA_FILE, 2, i, e, 0);
	if ((c->in->flags & QCOW2_CHECK_SUBCLUSTERS) && c->extended_l2 && b != 0)
		return chk_find(c, QCOW2_F_COMPRESSED_BITMAP, 2, i, e, 0);
	if (c->in->flags & QCOW2_CHECK_EXACT_COMPRESSED) {
		off = coffset;
		size = nsect * 512u - (coffset % 512u);
	} else {
		off = coffset & ~(uint64_t)511u;
		size = nsect * 512u;
	}
	w->step = chk_count(c, off, size);
	if (w->step != CHK_GO)
		return false;
	if (w->stats) {
		c->res->allocated_clusters++;
		c->res->compressed_clusters++;
		c->res->fragmented_clusters++;
	}
	return true;
}

/* A normal or preallocated-zero entry; *next is the contiguity tracker. */
static bool allocated(struct walk_state *w, uint64_t e, uint64_t b,
		      uint64_t *next)
{
	struct chk *c = w->c;
	uint64_t off = e & QCOW2_L2E_OFFSET_MASK;

	if ((c->in->flags & QCOW2_CHECK_SUBCLUSTERS) && c->extended_l2 &&
	    ((b >> 32) & b & SUBCLUSTERS_ALLOC) != 0 &&
	    !chk_find(c, QCOW2_F_SUBCLUSTER_CORRUPT, 1, off, 0, 0))
		return false;
	if (off & (c->cs - 1u)) {
		bool no_data = c->extended_l2 ? (b & SUBCLUSTERS_ALLOC) == 0
					      : (e & QCOW2_L2E_ZERO) != 0;
		if (!chk_find(c, no_data ? QCOW2_F_PREALLOC_UNALIGNED
					 : QCOW2_F_DATA_UNALIGNED, 1, off, 0, 0))
			return false;
	}
	if (w->stats) {
		c->res->allocated_clusters++;
		if (*next != 0 && off != *next)
			c->res->fragmented_clusters++;
		*next = off + c->cs;
	}
	if (!c->data_file) {
		w->step = chk_count(c, off, c->cs);
		if (w->step != CHK_GO)
			return false;
	}
	return true;
}

/* Every entry of one L2 table. */
static bool l2_entries(struct walk_state *w, const uint8_t *l2)
{
	struct chk *c = w->c;
	uint32_t esz = c->extended_l2 ? 16u : 8u;
	uint64_t n = c->cs / esz;
	uint64_t next = 0;
	bool reserved = (c->in->flags & QCOW2_CHECK_RESERVED_BITS) != 0;
	bool subclusters = (c->in->flags & QCOW2_CHECK_SUBCLUSTERS) != 0;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t e = qcow2_be64(l2 + i * esz);
		uint64_t b = c->extended_l2 ? qcow2_be64(l2 + i * esz + 8u) : 0;
		enum chk_l2_type t = chk_l2_type(c, e);
		bool ok = true;

		if (reserved && t != CHK_L2_COMPRESSED && (e & L2_RESERVED) &&
		    !chk_find(c, QCOW2_F_L2_RESERVED, 1, e, 0, 0))
			return false;
		switch (t) {
		case CHK_L2_COMPRESSED:
			ok = compressed(w, (uint32_t)i, e, b);
			break;
		case CHK_L2_NORMAL:
		case CHK_L2_ZERO_ALLOC:
			ok = allocated(w, e, b, &next);
			break;
		case CHK_L2_ZERO_PLAIN:
			break;
		case CHK_L2_UNALLOCATED:
		default:
			if (subclusters && c->extended_l2 && (b & SUBCLUSTERS_ALLOC) &&
			    !chk_find(c, QCOW2_F_UNALLOC_SUBCLUSTER, 0, 0, 0, 0))
				ok = false;
			break;
		}
		if (!ok)
			return false;
	}
	return true;
}

/* The walker's questions: which L2 table an L1 entry names. */
static bool want(void *ctx, uint64_t e, uint64_t *l2)
{
	(void)ctx;
	if (e == 0)
		return false;
	*l2 = e & QCOW2_L1E_OFFSET_MASK;
	return true;
}

static bool visit(void *ctx, uint32_t index, uint64_t e, const uint8_t *l2)
{
	struct walk_state *w = ctx;
	struct chk *c = w->c;
	uint64_t off = e & QCOW2_L1E_OFFSET_MASK;

	(void)index;
	if (e == 0 || l2 == NULL)
		return true;
	if ((c->in->flags & QCOW2_CHECK_RESERVED_BITS) && (e & L1_RESERVED) &&
	    !chk_find(c, QCOW2_F_L1_RESERVED, 1, e, 0, 0))
		return false;
	w->step = chk_count(c, off, c->cs);
	if (w->step != CHK_GO)
		return false;
	if ((off & (c->cs - 1u)) &&
	    !chk_find(c, QCOW2_F_L2_TABLE_UNALIGNED, 1, off, 0, 0))
		return false;
	return l2_entries(w, l2);
}

enum chk_step chk_l1(struct chk *c, uint64_t l1_offset, uint32_t l1_size,
		     bool stats)
{
	struct walk_state w = { c, stats, CHK_GO };
	struct qcow2_ordered_walk ow;
	uint64_t bytes = (uint64_t)l1_size * 8u;
	enum chk_step s;
	enum qcow2_walk_err we;

	if (l1_size == 0)
		return CHK_GO;
	s = chk_count(c, l1_offset, bytes);
	if (s != CHK_GO)
		return s;
	/* QEMU reads the whole L1 table at once: its verdict first. */
	switch (qcow2_qread_verdict(&c->q, l1_offset, bytes)) {
	case QCOW2_QREAD_OK:
		break;
	case QCOW2_QREAD_ABORT:
		c->res->aborted = true;
		return chk_find(c, QCOW2_F_READ_ABORT, 0, 0, 0, 0) ? CHK_FAILED
								    : CHK_ENGINE;
	default:
		return chk_find(c, QCOW2_F_L1_IO, 0, 0, 0, 0)
			       ? chk_fail(c, QCOW2_EIO) : CHK_ENGINE;
	}
	ow.l1_offset = l1_offset;
	ow.l1_entries = l1_size;
	ow.cluster_size = (uint32_t)c->cs;
	ow.q = &c->q;
	ow.l1buf = c->l1buf;
	ow.l1buf_len = c->l1buf_len;
	ow.bufs = c->bufs;
	ow.batch = c->batch;
	ow.want = want;
	ow.visit = visit;
	ow.ctx = &w;
	we = qcow2_walk_ordered(&ow);
	if (we == QCOW2_WALK_OK)
		return CHK_GO;
	if (we == QCOW2_WALK_STOPPED)
		return w.step != CHK_GO ? w.step : CHK_ENGINE;
	return chk_engine(c, we == QCOW2_WALK_IO ? QCOW2_CHECK_IO
						 : QCOW2_CHECK_MEMORY);
}
