/*
 * qcow2_check_meta.c — the snapshot table and the bitmaps in a check, as
 * qemu-img does them (docs/check.md, steps 4, 5.4 and 5.8): the table read
 * and checked before anything is counted (its reading is the open's,
 * qcow2_open_snap.c, with check's words for its failures), each snapshot's
 * L1 table walked, the bitmap directory and every bitmap table counted.
 *
 * Trust: the tables are hostile; the snapshot table is read through the
 * open's bounded reader, the bitmap directory and tables through a window
 * with every entry bounded against the directory's size.
 */
#include "src/qcow2/qcow2_be.h"
#include "src/qcow2/qcow2_check_internal.h"
#include "src/qcow2/qcow2_format.h"
#include "src/qcow2/qcow2_open.h"

#define INT64_MAX_U 0x7fffffffffffffffULL
#define SNAPSHOT_HEAD 40u
#define MAX_SNAPSHOTS 65536u
#define MAX_SNAP_L1 0x400000u
#define SNAP_COMPLETE_EXTRA 16u
#define BM_ENTRY_HEAD 24u
#define BM_TABLE_RESERVED 0xff000000000001feULL
#define BM_TABLE_OFFSET 0x00fffffffffffe00ULL

/* The open's reader of the snapshot table, over check's window. */
static void snap_input(struct chk *c, struct qcow2_open_input *oi)
{
	__builtin_memset(oi, 0, sizeof(*oi));
	oi->hdr = c->in->header;
	oi->hdr_len = (size_t)c->cs;
	oi->file_bytes = c->in->file_bytes;
	oi->mode = QOPEN_MODE_CHECK;
	oi->behaviour = (c->in->flags & QCOW2_CHECK_READ_LIMIT) ? QOPEN_B_READ_LIMIT : 0;
	oi->io = c->in->io;
	oi->work = c->meta_buf;
	oi->work_len = c->meta_len;
}

struct snap_pass {
	struct chk *c;
	uint64_t end;
	enum chk_step step;
};

static bool note_end(void *ctx, const struct qcow2_snap_info *s)
{
	struct snap_pass *p = ctx;

	p->end = s->end;
	return true;
}

static bool incomplete(void *ctx, const struct qcow2_snap_info *s)
{
	struct snap_pass *p = ctx;

	if (s->extra_size >= SNAP_COMPLETE_EXTRA)
		return true;
	return chk_find(p->c, QCOW2_F_SNAP_INCOMPLETE, 1, s->index, 0, 0);
}

/* A failure of the table's reading, in check's words. */
static enum chk_step read_failed(struct chk *c, const struct qcow2_open_err *e)
{
	switch (e->code) {
	case QOPEN_SNAP_EXTRA:
		return chk_find(c, QCOW2_F_SNAP_EXTRA_TOO_BIG, 1, e->arg[0], 0, 0)
			       ? chk_fail(c, QCOW2_EFBIG) : CHK_ENGINE;
	case QOPEN_SNAP_TOO_BIG:
		return chk_find(c, QCOW2_F_SNAP_TABLE_TOO_BIG, 1, e->arg[0], 0, 0)
			       ? chk_fail(c, QCOW2_EFBIG) : CHK_ENGINE;
	case QOPEN_READ_ABORT:
		c->res->aborted = true;
		return chk_find(c, QCOW2_F_READ_ABORT, 0, 0, 0, 0) ? CHK_FAILED
								    : CHK_ENGINE;
	default:
		return chk_find(c, QCOW2_F_SNAP_TABLE_READ, 1, QCOW2_EIO, 0, 0)
			       ? chk_fail(c, QCOW2_EIO) : CHK_ENGINE;
	}
}

enum chk_step chk_snapshot_table(struct chk *c, uint64_t *table_bytes)
{
	const struct qcow2_fields *f = c->f;
	struct qcow2_open_input oi;
	struct qcow2_open_err e;
	struct snap_pass p = { c, f->snapshots_offset, CHK_GO };
	enum qcow2_open_result r;

	*table_bytes = 0;
	if (f->nb_snapshots > MAX_SNAPSHOTS)
		return chk_find(c, QCOW2_F_SNAP_TOO_MANY, 1,
				f->nb_snapshots - MAX_SNAPSHOTS, 0, 0)
			       ? chk_fail(c, QCOW2_EFBIG) : CHK_ENGINE;
	if (INT64_MAX_U - (uint64_t)f->nb_snapshots * SNAPSHOT_HEAD < f->snapshots_offset ||
	    (f->snapshots_offset & (c->cs - 1u)) != 0)
		return chk_find(c, QCOW2_F_SNAP_OFFSET_INVALID, 0, 0, 0, 0)
			       ? chk_fail(c, QCOW2_EINVAL) : CHK_ENGINE;
	if (f->nb_snapshots == 0)
		return CHK_GO;
	snap_input(c, &oi);
	r = qcow2_open_snapshots(&oi, c->in->img, note_end, &p, &e);
	if (r == QCOW2_OPEN_REFUSED)
		return read_failed(c, &e);
	if (r != QCOW2_OPEN_OK)
		return chk_engine(c, r == QCOW2_OPEN_IO ? QCOW2_CHECK_IO
						     : QCOW2_CHECK_MEMORY);
	*table_bytes = p.end - f->snapshots_offset;
	if (f->version < 3)
		return CHK_GO;
	r = qcow2_open_snapshots(&oi, c->in->img, incomplete, &p, &e);
	if (r != QCOW2_OPEN_OK)
		return chk_engine(c, c->engine_err != QCOW2_CHECK_OK
					     ? c->engine_err : QCOW2_CHECK_IO);
	return CHK_GO;
}

static bool snapshot_l1(void *ctx, const struct qcow2_snap_info *s)
{
	struct snap_pass *p = ctx;
	struct chk *c = p->c;

	if (s->l1_offset & (c->cs - 1u))
		return chk_find_named(c, QCOW2_F_SNAP_L1_UNALIGNED, s->l1_offset,
				      s->id, s->id_len, s->name, s->name_len);
	if (s->l1_size > MAX_SNAP_L1)
		return chk_find_named(c, QCOW2_F_SNAP_L1_TOO_LARGE, s->l1_size,
				      s->id, s->id_len, s->name, s->name_len);
	p->step = chk_l1(c, s->l1_offset, s->l1_size, false);
	return p->step == CHK_GO;
}

enum chk_step chk_snapshot_l1s(struct chk *c)
{
	struct qcow2_open_input oi;
	struct qcow2_open_err e;
	struct snap_pass p = { c, 0, CHK_GO };
	enum qcow2_open_result r;

	if (c->f->nb_snapshots == 0)
		return CHK_GO;
	snap_input(c, &oi);
	r = qcow2_open_snapshots(&oi, c->in->img, snapshot_l1, &p, &e);
	if (r == QCOW2_OPEN_OK)
		return CHK_GO;
	if (p.step != CHK_GO)
		return p.step;
	return chk_engine(c, c->engine_err != QCOW2_CHECK_OK ? c->engine_err
							     : QCOW2_CHECK_IO);
}

/* A bitmap directory entry's table (offset, entries), from the window. */
static enum chk_step dir_entry(struct chk *c, uint64_t pos, uint64_t *table_off,
			       uint32_t *table_size, uint64_t *len)
{
	const struct qcow2_opened *o = c->in->img;
	const uint8_t *p;

	if (o->bm_dir_size - pos < BM_ENTRY_HEAD ||
	    qcow2_stream_get(&c->meta, o->bm_dir_offset + pos, BM_ENTRY_HEAD, &p) !=
		    QCOW2_QREAD_OK)
		return chk_engine(c, QCOW2_CHECK_IO);
	*table_off = qcow2_be64(p);
	*table_size = qcow2_be32(p + 8);
	*len = ((uint64_t)BM_ENTRY_HEAD + qcow2_be16(p + 18) + qcow2_be32(p + 20) + 7u) &
	       ~(uint64_t)7u;
	return CHK_GO;
}

/* The table of one bitmap: all its entries valid (else the check fails),
 * then the clusters they name counted. */
static enum chk_step bitmap_table(struct chk *c, uint64_t off, uint32_t size)
{
	uint64_t bytes = (uint64_t)size * 8u;
	uint32_t per = c->meta_len / 2u / 8u;

	switch (qcow2_qread_verdict(&c->q, off, bytes)) {
	case QCOW2_QREAD_OK:
		break;
	case QCOW2_QREAD_ABORT:
		c->res->aborted = true;
		return chk_find(c, QCOW2_F_READ_ABORT, 0, 0, 0, 0) ? CHK_FAILED
								    : CHK_ENGINE;
	default:
		return chk_find(c, QCOW2_F_BITMAP_TABLE_BAD, 0, 0, 0, 0)
			       ? chk_fail(c, QCOW2_EIO) : CHK_ENGINE;
	}
	for (int pass = 0; pass < 2; pass++) {
		for (uint64_t i = 0; i < size; i += per) {
			uint32_t k = size - i < per ? (uint32_t)(size - i) : per;
			const uint8_t *p;

			if (qcow2_stream_get(&c->meta, off + i * 8u, k * 8u, &p) !=
			    QCOW2_QREAD_OK)
				return chk_engine(c, QCOW2_CHECK_IO);
			for (uint32_t j = 0; j < k; j++) {
				uint64_t e = qcow2_be64(p + (size_t)j * 8u);
				uint64_t eo = e & BM_TABLE_OFFSET;

				if (pass == 0) {
					if ((e & BM_TABLE_RESERVED) || (eo & (c->cs - 1u)) ||
					    ((e & 1u) && eo != 0))
						return chk_find(c, QCOW2_F_BITMAP_TABLE_BAD, 0, 0, 0, 0)
							       ? chk_fail(c, QCOW2_EINVAL)
							       : CHK_ENGINE;
					continue;
				}
				if (eo != 0) {
					enum chk_step s = chk_count(c, eo, c->cs);
					if (s != CHK_GO)
						return s;
				}
			}
		}
	}
	return CHK_GO;
}

enum chk_step chk_bitmaps(struct chk *c)
{
	const struct qcow2_opened *o = c->in->img;
	uint64_t pos = 0;
	enum chk_step s;

	if (!o->bitmaps)
		return CHK_GO;
	s = chk_count(c, o->bm_dir_offset, o->bm_dir_size);
	if (s != CHK_GO)
		return s;
	qcow2_stream_init(&c->meta, &c->q, c->meta_buf, c->meta_len);
	for (uint32_t n = 0; n < o->nb_bitmaps && pos < o->bm_dir_size; n++) {
		uint64_t toff = 0, len = 0;
		uint32_t tsize = 0;

		s = dir_entry(c, pos, &toff, &tsize, &len);
		if (s != CHK_GO)
			return s;
		s = chk_count(c, toff, (uint64_t)tsize * 8u);
		if (s == CHK_GO)
			s = bitmap_table(c, toff, tsize);
		if (s != CHK_GO)
			return s;
		pos += len;
	}
	return CHK_GO;
}
