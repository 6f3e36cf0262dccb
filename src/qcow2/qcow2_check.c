/*
 * qcow2_check.c — `qemu-img check` of a qcow2 image (see qcow2_check.h):
 * the steps in qemu-img's order, the table of findings (arguments, names,
 * counters), and the memory the engine lays out. The steps themselves are
 * in qcow2_check_meta.c (snapshot table, bitmaps), qcow2_check_tables.c
 * (L1/L2) and qcow2_check_refs.c (counters, refcounts, COPIED flags).
 *
 * Trust: as qcow2_check.h. The memory the caller gives is split here,
 * each part's size checked against what it must hold.
 */
#include "src/qcow2/qcow2_check.h"

#include "src/qcow2/qcow2_check_internal.h"
#include "src/qcow2/qcow2_format.h"

#define INT_MAX_U 0x7fffffffULL

/* Work memory, by use. */
#define REFTABLE_ROOM (8u << 20)    /* QEMU's largest refcount table */
#define META_ROOM     (2u << 20)    /* snapshot table / bitmap directory window */
#define L1_ROOM       (1u << 20)    /* a piece of an L1 table */
#define BUFS_ROOM     (8u << 20)    /* batched L2 tables / refcount blocks */
#define RB_ROOM       (2u << 20)    /* one refcount block (the lookups') */

_Static_assert(REFTABLE_ROOM + META_ROOM + L1_ROOM + BUFS_ROOM + RB_ROOM <=
		       QCOW2_CHECK_MIN_WORK,
	       "the work memory holds every part");

enum counter { NONE = 0, C = QCOW2_COUNT_CORRUPTION, L = QCOW2_COUNT_LEAK,
	       E = QCOW2_COUNT_CHECK_ERROR };

static const struct {
	uint8_t args;
	bool names;
	uint8_t counter;
} findings[QCOW2_FINDING_COUNT_] = {
	[QCOW2_F_EXCEEDS_EOF] = { 2, false, C },
	[QCOW2_F_OVERFLOW] = { 1, false, C },
	[QCOW2_F_SNAP_TOO_MANY] = { 1, false, E },
	[QCOW2_F_SNAP_OFFSET_INVALID] = { 0, false, E },
	[QCOW2_F_SNAP_EXTRA_TOO_BIG] = { 1, false, E },
	[QCOW2_F_SNAP_TABLE_TOO_BIG] = { 1, false, E },
	[QCOW2_F_SNAP_TABLE_READ] = { 1, false, E },
	[QCOW2_F_SNAP_INCOMPLETE] = { 1, false, C },
	[QCOW2_F_SNAPS_WITH_DATA_FILE] = { 1, false, C },
	[QCOW2_F_SNAP_L1_UNALIGNED] = { 1, true, C },
	[QCOW2_F_SNAP_L1_TOO_LARGE] = { 1, true, C },
	[QCOW2_F_L1_IO] = { 0, false, E },
	[QCOW2_F_L1_RESERVED] = { 1, false, C },
	[QCOW2_F_L2_TABLE_UNALIGNED] = { 1, false, C },
	[QCOW2_F_L2_RESERVED] = { 1, false, C },
	[QCOW2_F_COMPRESSED_COPIED] = { 1, false, C },
	[QCOW2_F_COMPRESSED_DATA_FILE] = { 2, false, C },
	[QCOW2_F_COMPRESSED_BITMAP] = { 2, false, C },
	[QCOW2_F_SUBCLUSTER_CORRUPT] = { 1, false, C },
	[QCOW2_F_PREALLOC_UNALIGNED] = { 1, false, C },
	[QCOW2_F_DATA_UNALIGNED] = { 1, false, C },
	[QCOW2_F_UNALLOC_SUBCLUSTER] = { 0, false, C },
	[QCOW2_F_BITMAP_TABLE_BAD] = { 0, false, C },
	[QCOW2_F_REFTABLE_RESERVED] = { 1, false, C },
	[QCOW2_F_REFBLOCK_UNALIGNED] = { 1, false, C },
	[QCOW2_F_REFBLOCK_OUTSIDE] = { 1, false, C },
	[QCOW2_F_REFBLOCK_REFCOUNT] = { 2, false, C },
	[QCOW2_F_IMAGE_CORRUPT_REFBLOCK] = { 2, false, NONE },
	[QCOW2_F_CANT_GET_REFCOUNT] = { 2, false, E },
	[QCOW2_F_REFCOUNT_LOW] = { 3, false, C },
	[QCOW2_F_LEAK] = { 3, false, L },
	[QCOW2_F_OFLAG_L2] = { 3, false, C },
	[QCOW2_F_OFLAG_DATA] = { 2, false, C },
	[QCOW2_F_READ_ABORT] = { 0, false, NONE },
	[QCOW2_F_ALLOC_FAILED] = { 0, false, E },
	[QCOW2_F_FILE_TOO_LARGE] = { 0, false, E },
};

uint32_t qcow2_finding_args(uint32_t code)
{
	return code < QCOW2_FINDING_COUNT_ ? findings[code].args : 0;
}

bool qcow2_finding_has_names(uint32_t code)
{
	return code < QCOW2_FINDING_COUNT_ && findings[code].names;
}

enum qcow2_finding_counter qcow2_finding_counter_of(uint32_t code)
{
	return code < QCOW2_FINDING_COUNT_
		       ? (enum qcow2_finding_counter)findings[code].counter
		       : QCOW2_COUNT_NONE;
}

static void tally(struct chk *c, uint32_t code)
{
	switch (qcow2_finding_counter_of(code)) {
	case QCOW2_COUNT_CORRUPTION:
		c->res->corruptions++;
		break;
	case QCOW2_COUNT_LEAK:
		c->res->leaks++;
		break;
	case QCOW2_COUNT_CHECK_ERROR:
		c->res->check_errors++;
		break;
	case QCOW2_COUNT_NONE:
	default:
		break;
	}
}

bool chk_find(struct chk *c, uint32_t code, uint32_t n, uint64_t a0,
	      uint64_t a1, uint64_t a2)
{
	struct qcow2_finding_rec f;

	__builtin_memset(&f, 0, sizeof(f));
	f.code = code;
	f.n_args = n;
	f.arg[0] = a0;
	f.arg[1] = a1;
	f.arg[2] = a2;
	tally(c, code);
	if (!c->emit(c->emit_ctx, &f)) {
		c->engine_err = QCOW2_CHECK_STOPPED;
		return false;
	}
	return true;
}

bool chk_find_named(struct chk *c, uint32_t code, uint64_t a0,
		    const uint8_t *id, uint32_t id_len, const uint8_t *name,
		    uint32_t name_len)
{
	struct qcow2_finding_rec f;

	__builtin_memset(&f, 0, sizeof(f));
	f.code = code;
	f.n_args = 1;
	f.arg[0] = a0;
	f.id = id;
	f.id_len = id_len;
	f.name = name;
	f.name_len = name_len;
	tally(c, code);
	if (!c->emit(c->emit_ctx, &f)) {
		c->engine_err = QCOW2_CHECK_STOPPED;
		return false;
	}
	return true;
}

enum chk_step chk_fail(struct chk *c, uint32_t e)
{
	c->res->failed_errno = e;
	return CHK_FAILED;
}

enum chk_step chk_engine(struct chk *c, enum qcow2_check_err e)
{
	if (c->engine_err == QCOW2_CHECK_OK)
		c->engine_err = e;
	return CHK_ENGINE;
}

static uint32_t counter_bytes_of(uint32_t refcount_order)
{
	return refcount_order <= 3u ? 1u : (uint32_t)1 << (refcount_order - 3u);
}

bool qcow2_check_counter_bytes(uint64_t file_bytes, uint32_t cluster_bits,
			       uint32_t refcount_order, uint64_t *bytes)
{
	uint64_t len, n, w, one, bits;

	if (cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
	    cluster_bits > QCOW2_MAX_CLUSTER_BITS ||
	    refcount_order > QCOW2_MAX_REFCOUNT_ORDER ||
	    __builtin_add_overflow(file_bytes, (uint64_t)511u, &len))
		return false;
	len &= ~(uint64_t)511u;
	n = (len >> cluster_bits) + ((len & (((uint64_t)1 << cluster_bits) - 1u)) != 0);
	if (n > INT_MAX_U)
		return false;
	n += 1u;   /* a reference may stick out by less than a cluster */
	w = counter_bytes_of(refcount_order);
	one = (n * w + 7u) & ~(uint64_t)7u;
	bits = ((n + 7u) / 8u + 7u) & ~(uint64_t)7u;
	*bytes = 2u * one + bits;
	return true;
}

/* Lay out the work memory; false if it is short. */
static bool layout_work(struct chk *c)
{
	const struct qcow2_check_input *in = c->in;
	uint8_t *w = in->work;

	if (in->work_len < QCOW2_CHECK_MIN_WORK || ((uintptr_t)w & 7u) != 0)
		return false;
	c->reftable = w;
	w += REFTABLE_ROOM;
	c->meta_buf = w;
	c->meta_len = META_ROOM;
	w += META_ROOM;
	c->l1buf = w;
	c->l1buf_len = L1_ROOM;
	w += L1_ROOM;
	c->bufs = w;
	c->batch = (uint32_t)(BUFS_ROOM / c->cs);
	if (c->batch > 64u)
		c->batch = 64u;
	w += BUFS_ROOM;
	c->rb_buf = w;
	return true;
}

/* Lay out the counters (after the check of the cluster count); false if
 * the memory is short. */
static bool layout_counters(struct chk *c)
{
	const struct qcow2_check_input *in = c->in;
	uint64_t need, one;

	if (!qcow2_check_counter_bytes(in->file_bytes, c->cb, c->f->refcount_order,
				       &need) ||
	    in->counters_len < need || ((uintptr_t)in->counters & 7u) != 0)
		return false;
	one = ((c->nb_clusters + 1u) * c->rc_bytes + 7u) & ~(uint64_t)7u;
	c->imrt = in->counters;
	c->disk = in->counters + one;
	c->disk_bad = in->counters + 2u * one;
	c->imrt_cap = c->nb_clusters + 1u;
	c->imrt_size = c->nb_clusters;
	__builtin_memset(in->counters, 0, (size_t)need);
	return true;
}

/* The refcount table, read once (its place and read were checked when
 * the image was opened). */
static enum chk_step read_reftable(struct chk *c)
{
	uint64_t bytes = (uint64_t)c->f->refcount_clusters << c->cb;
	struct qcow2_qreq r = { c->f->refcount_offset, c->reftable, (uint32_t)bytes };

	c->reftable_entries = bytes / 8u;
	if (bytes == 0)
		return CHK_GO;
	if (bytes > REFTABLE_ROOM)
		return chk_engine(c, QCOW2_CHECK_MEMORY);
	if (qcow2_qread_many(&c->q, &r, 1) != QCOW2_QREAD_OK)
		return chk_engine(c, QCOW2_CHECK_IO);
	return CHK_GO;
}

/* Every reference, in qemu-img's order. */
static enum chk_step count_all(struct chk *c, uint64_t snap_bytes)
{
	const struct qcow2_fields *f = c->f;
	enum chk_step s;

	s = chk_count(c, 0, c->cs);
	if (s == CHK_GO)
		s = chk_l1(c, f->l1_offset, f->l1_size, true);
	if (s == CHK_GO && c->data_file && f->nb_snapshots != 0 &&
	    !chk_find(c, QCOW2_F_SNAPS_WITH_DATA_FILE, 1, f->nb_snapshots, 0, 0))
		s = CHK_ENGINE;
	if (s == CHK_GO)
		s = chk_snapshot_l1s(c);
	if (s == CHK_GO && f->nb_snapshots != 0)
		s = chk_count(c, f->snapshots_offset, snap_bytes);
	if (s == CHK_GO && c->reftable_entries != 0)
		s = chk_count(c, f->refcount_offset, c->reftable_entries * 8u);
	if (s == CHK_GO)
		s = chk_bitmaps(c);
	return s;
}

static void init(struct chk *c, const struct qcow2_check_input *in,
		 qcow2_emit_fn emit, void *ctx, struct qcow2_check_result *res)
{
	const struct qcow2_fields *f = &in->img->f;
	uint64_t len = (in->file_bytes + 511u) & ~(uint64_t)511u;

	__builtin_memset(c, 0, sizeof(*c));
	c->in = in;
	c->f = f;
	c->res = res;
	c->emit = emit;
	c->emit_ctx = ctx;
	c->q.io = in->io;
	c->q.file_bytes = in->file_bytes;
	c->q.limit = (in->flags & QCOW2_CHECK_READ_LIMIT) != 0;
	c->cb = f->cluster_bits;
	c->cs = (uint64_t)1 << c->cb;
	c->file_len = len < in->file_bytes ? ~(uint64_t)511u : len;
	c->nb_clusters = (c->file_len >> c->cb) +
			 ((c->file_len & (c->cs - 1u)) != 0);
	c->extended_l2 = (f->incompat & QCOW2_INCOMPAT_EXTENDED_L2) != 0;
	c->data_file = (f->incompat & QCOW2_INCOMPAT_EXTERNAL_DATA) != 0;
	c->rc_bits = (uint32_t)1 << f->refcount_order;
	c->rc_max = c->rc_bits >= 64u ? UINT64_MAX
				      : ((uint64_t)1 << c->rc_bits) - 1u;
	c->rc_bytes = counter_bytes_of(f->refcount_order);
	/* Total clusters: the virtual size down to 512 bytes, up to clusters. */
	uint64_t vs = f->size & ~(uint64_t)511u;
	res->total_clusters = (vs >> c->cb) + ((vs & (c->cs - 1u)) != 0);
}

enum qcow2_check_err qcow2_check(const struct qcow2_check_input *in,
				 qcow2_emit_fn emit, void *emit_ctx,
				 struct qcow2_check_result *res)
{
	struct chk c;
	uint64_t snap_bytes = 0;
	enum chk_step s;

	__builtin_memset(res, 0, sizeof(*res));
	if (in == NULL || in->img == NULL || in->io == NULL || emit == NULL ||
	    in->work == NULL)
		return QCOW2_CHECK_MEMORY;
	init(&c, in, emit, emit_ctx, res);
	if (!layout_work(&c))
		return QCOW2_CHECK_MEMORY;
	/* The snapshot table, before anything is counted. */
	s = chk_snapshot_table(&c, &snap_bytes);
	if (s == CHK_GO && c.nb_clusters > INT_MAX_U) {
		s = chk_find(&c, QCOW2_F_FILE_TOO_LARGE, 0, 0, 0, 0)
			    ? chk_fail(&c, QCOW2_EFBIG) : CHK_ENGINE;
	}
	if (s == CHK_GO && !layout_counters(&c))
		return QCOW2_CHECK_MEMORY;
	if (s == CHK_GO)
		s = read_reftable(&c);
	if (s == CHK_GO)
		s = count_all(&c, snap_bytes);
	if (s == CHK_GO)
		s = chk_reftable_entries(&c);
	if (s == CHK_GO)
		s = chk_compare(&c);
	if (s == CHK_GO)
		s = chk_oflag_copied(&c);
	if (s == CHK_ENGINE)
		return c.engine_err != QCOW2_CHECK_OK ? c.engine_err
						      : QCOW2_CHECK_IO;
	if (s == CHK_FAILED) {
		/* A failed check prints no statistics. */
		res->allocated_clusters = 0;
		res->fragmented_clusters = 0;
		res->compressed_clusters = 0;
		res->image_end_offset = 0;
	}
	return QCOW2_CHECK_OK;
}
