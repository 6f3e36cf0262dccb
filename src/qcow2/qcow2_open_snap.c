/*
 * qcow2_open_snap.c — the snapshot table as QEMU reads it when it opens
 * an image for info (see qcow2_open.h): each entry at the next multiple
 * of 8, its 40-byte head, at most 1024 bytes of extra data (of which the
 * first 24 say the VM state size, the disk size and the icount), its id
 * and its name; the table at most 64 MiB long. Every piece is one of
 * QEMU's reads, each with its own verdict (past the read limit: EIO).
 *
 * Trust: the table is hostile; lengths are bounded (16-bit id and name,
 * extra data checked against 1024 before it is read), the running offset
 * is overflow-checked, and the reads go through the window.
 */
#include "src/qcow2/qcow2_be.h"
#include "src/qcow2/qcow2_open.h"
#include "src/qcow2/qcow2_open_stages.h"
#include "src/qcow2/qcow2_stream.h"

#define HEAD 40u
#define MAX_EXTRA 1024u
#define KNOWN_EXTRA 24u
#define INT_MAX_U 0x7fffffffULL

struct snap_cursor {
	struct qcow2_qread q;
	struct qcow2_stream st;
	struct qcow2_open_err *e;
};

/* The verdict of one of QEMU's reads. */
static enum qcow2_open_result verdict(struct snap_cursor *c, uint64_t off,
				      uint32_t len)
{
	switch (qcow2_qread_verdict(&c->q, off, len)) {
	case QCOW2_QREAD_OK:
		return QCOW2_OPEN_OK;
	case QCOW2_QREAD_ABORT:
		return qopen_refuse(c->e, QOPEN_READ_ABORT, 0, 0);
	default:
		return qopen_refuse(c->e, QOPEN_SNAP_READ, 0, 0);
	}
}

/* One of QEMU's reads: its verdict, then the bytes. */
static enum qcow2_open_result piece(struct snap_cursor *c, uint64_t off,
				    uint32_t len, const uint8_t **p)
{
	static const uint8_t nothing[1] = { 0 };
	enum qcow2_open_result r = verdict(c, off, len);

	if (r != QCOW2_OPEN_OK)
		return r;
	if (len == 0) {
		*p = nothing;
		return QCOW2_OPEN_OK;
	}
	return qcow2_stream_get(&c->st, off, len, p) == QCOW2_QREAD_OK
		       ? QCOW2_OPEN_OK : QCOW2_OPEN_IO;
}

static uint64_t round8(uint64_t v)
{
	return (v + 7u) & ~(uint64_t)7u;
}

/* Entry i at *off: parse it into *s and move *off past it. */
static enum qcow2_open_result one_entry(struct snap_cursor *c, uint32_t i,
					uint64_t *off, struct qcow2_snap_info *s)
{
	const uint8_t *h, *x;
	uint32_t known;
	uint8_t extra[KNOWN_EXTRA];
	enum qcow2_open_result r;

	r = piece(c, *off, HEAD, &h);
	if (r != QCOW2_OPEN_OK)
		return r;
	*off += HEAD;
	s->index = i;
	s->l1_offset = qcow2_be64(h);
	s->l1_size = qcow2_be32(h + 8);
	s->id_len = qcow2_be16(h + 12);
	s->name_len = qcow2_be16(h + 14);
	s->date_sec = qcow2_be32(h + 16);
	s->date_nsec = qcow2_be32(h + 20);
	s->vm_clock_nsec = qcow2_be64(h + 24);
	s->vm_state_size = qcow2_be32(h + 32);
	s->extra_size = qcow2_be32(h + 36);
	if (s->extra_size > MAX_EXTRA)
		return qopen_refuse(c->e, QOPEN_SNAP_EXTRA, i, 0);
	known = s->extra_size < KNOWN_EXTRA ? s->extra_size : KNOWN_EXTRA;
	r = piece(c, *off, known, &x);
	if (r != QCOW2_OPEN_OK)
		return r;
	__builtin_memset(extra, 0, sizeof(extra));
	for (uint32_t k = 0; k < known; k++)
		extra[k] = x[k];
	*off += known;
	if (s->extra_size >= 8u)
		s->vm_state_size = qcow2_be64(extra);
	s->icount = s->extra_size >= 24u ? qcow2_be64(extra + 16) : UINT64_MAX;
	if (s->extra_size > KNOWN_EXTRA) {
		r = piece(c, *off, s->extra_size - KNOWN_EXTRA, &x);
		if (r != QCOW2_OPEN_OK)
			return r;
		*off += s->extra_size - KNOWN_EXTRA;
	}
	/* The id and the name: two reads for QEMU (each with its verdict),
	 * one window here, so that both stay valid for the visitor. */
	r = verdict(c, *off, s->id_len);
	if (r == QCOW2_OPEN_OK)
		r = verdict(c, *off + s->id_len, s->name_len);
	if (r != QCOW2_OPEN_OK)
		return r;
	r = piece(c, *off, s->id_len + s->name_len, &s->id);
	if (r != QCOW2_OPEN_OK)
		return r;
	s->name = s->id + s->id_len;
	*off += s->id_len;
	*off += s->name_len;
	return QCOW2_OPEN_OK;
}

enum qcow2_open_result qcow2_open_snapshots(const struct qcow2_open_input *in,
					    const struct qcow2_opened *o,
					    qcow2_snap_visit_fn visit, void *ctx,
					    struct qcow2_open_err *e)
{
	struct snap_cursor c;
	uint64_t off = o->f.snapshots_offset;
	uint64_t table_len = 0;
	uint32_t win = in->work_len > (2u << 20) ? (2u << 20) : (uint32_t)in->work_len;

	c.q.io = in->io;
	c.q.file_bytes = in->file_bytes;
	c.q.limit = (in->behaviour & QOPEN_B_READ_LIMIT) != 0;
	c.e = e;
	qcow2_stream_init(&c.st, &c.q, in->work, win);
	for (uint32_t i = 0; i < o->f.nb_snapshots; i++) {
		struct qcow2_snap_info s;
		enum qcow2_open_result r;

		table_len = round8(table_len);
		off = round8(off);
		if (off < o->f.snapshots_offset)
			return qopen_refuse(e, QOPEN_SNAP_READ, 0, 0);  /* wrapped */
		r = one_entry(&c, i, &off, &s);
		if (r != QCOW2_OPEN_OK)
			return r;
		table_len += HEAD + (uint64_t)s.extra_size + s.id_len + s.name_len;
		if (table_len > QCOW2_OPEN_MAX_SNAP_TABLE ||
		    off - o->f.snapshots_offset > INT_MAX_U)
			return qopen_refuse(e, QOPEN_SNAP_TOO_BIG,
					    (uint64_t)o->f.nb_snapshots - i, 0);
		s.end = off;
		if (visit != NULL && !visit(ctx, &s))
			return QCOW2_OPEN_IO;
	}
	return QCOW2_OPEN_OK;
}

enum qcow2_open_result qopen_snapshots(const struct qcow2_open_input *in,
				       struct qcow2_opened *o,
				       struct qcow2_open_err *e)
{
	return qcow2_open_snapshots(in, o, NULL, NULL, e);
}
