/*
 * amend_scan.c — the amend rules over the table walk (see amend_scan.h):
 * snapshot sizes and extra data from the snapshot table, zero and
 * compressed clusters from every distinct L2 table.
 * Trust: tables are hostile; the walkers of src/qcow2 check them, this
 * file bounds what it keeps (one L1 table per snapshot, each no larger
 * than QEMU allows).
 */
#include "src/amend/amend_scan.h"

#include "src/qcow2/qcow2_be.h"
#include "src/qcow2/qcow2_format.h"

/* Bits of an L2 entry as they sit in a little-endian load of its
 * big-endian bytes: bit 62 (compressed) is bit 6 of byte 0, bit 0 (zero)
 * is bit 0 of byte 7. */
#define RAW_COMPRESSED (1ULL << 6)
#define RAW_ZERO       (1ULL << 56)

#define MAX_TABLES (65536u + 1u)     /* QEMU's snapshot limit + the active */

static uint64_t load_raw(const uint8_t *p)
{
	uint64_t v;
	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

bool amend_scan_l2(const uint8_t *l2, size_t len, struct amend_scan *out)
{
	uint64_t acc = 0;
	bool zero = false;
	size_t i;

	/* Fast path: OR the raw entries together (a 2 MiB L2 table has
	 * 262144 entries). Only if some entry is compressed — whose bit 0
	 * is part of its offset, not a zero flag — are the entries looked
	 * at one by one. */
	for (i = 0; i + 32 <= len; i += 32)
		acc |= load_raw(l2 + i) | load_raw(l2 + i + 8) |
		       load_raw(l2 + i + 16) | load_raw(l2 + i + 24);
	for (; i + 8 <= len; i += 8)
		acc |= load_raw(l2 + i);
	if (!(acc & RAW_COMPRESSED)) {
		if (acc & RAW_ZERO)
			out->zero_clusters = true;
		return (acc & RAW_ZERO) != 0;
	}
	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t e = qcow2_be64(l2 + i);

		if (e & QCOW2_L2E_COMPRESSED) {
			out->compressed_clusters = true;
		} else if (e & QCOW2_L2E_ZERO) {
			out->zero_clusters = true;
			zero = true;
		}
	}
	return zero;
}

static size_t round8(size_t n)
{
	return (n + 7u) & ~(size_t)7u;
}

static size_t window_bytes(void)
{
	return round8((size_t)QCOW2_SNAPSHOT_MIN_WINDOW);
}

size_t amend_scan_min_mem(uint32_t cluster_size)
{
	size_t walk = (size_t)cluster_size + (size_t)64u * 8u;
	size_t first = window_bytes() > walk ? window_bytes() : walk;
	return first + round8((size_t)MAX_TABLES * sizeof(struct qcow2_l1_table));
}

struct snap_ctx {
	const struct qcow2_header *h;
	struct amend_scan *out;
	struct qcow2_l1_table *tables;
	uint32_t n;
	bool bad;
};

static bool visit_snapshot(void *ctx, uint32_t index,
			   const struct qcow2_snapshot *s, const uint8_t *entry)
{
	struct snap_ctx *c = ctx;

	(void)index;
	(void)entry;
	if (!s->has_disk_size)
		c->out->snapshot_extra_short = true;
	else if (s->disk_size != c->h->size)
		c->out->snapshot_size_differs = true;
	if (s->l1_size > QCOW2_SNAPSHOT_MAX_L1 || c->n >= MAX_TABLES) {
		c->bad = true;
		return false;
	}
	c->tables[c->n].offset = s->l1_offset;
	c->tables[c->n].entries = s->l1_size;
	c->n++;
	return true;
}

struct l2_ctx {
	struct amend_scan *out;
	const struct amend_zero_sink *sink;
	bool sink_failed;
};

static bool visit_l2(void *ctx, uint64_t l2_offset, const uint8_t *l2,
		     uint32_t len, uint32_t refs)
{
	struct l2_ctx *c = ctx;
	bool zero = amend_scan_l2(l2, len, c->out);

	(void)refs;
	if (c->sink == NULL)
		return !c->out->zero_clusters;   /* one zero flag decides it */
	if (zero && !c->sink->put(c->sink->ctx, l2_offset)) {
		c->sink_failed = true;
		return false;
	}
	return true;
}

enum amend_status amend_scan_tables(const struct qcow2_header *h,
				    enum amend_scan_reach reach,
				    uint64_t file_bytes,
				    const struct qcow2_io *io, uint8_t *mem,
				    size_t mem_len, struct amend_scan *out)
{
	return amend_scan_tables_zeros(h, reach, file_bytes, io, mem, mem_len,
				       NULL, out);
}

enum amend_status amend_scan_tables_zeros(const struct qcow2_header *h,
					  enum amend_scan_reach reach,
					  uint64_t file_bytes,
					  const struct qcow2_io *io,
					  uint8_t *mem, size_t mem_len,
					  const struct amend_zero_sink *sink,
					  struct amend_scan *out)
{
	__builtin_memset(out, 0, sizeof(*out));
	if (h == NULL || io == NULL || io->read == NULL || mem == NULL ||
	    ((uintptr_t)mem & 7u) != 0 ||
	    (reach != AMEND_SCAN_SNAPSHOT_TABLE && reach != AMEND_SCAN_ALL_TABLES))
		return AMEND_ERR_BAD_REQUEST;
	bool l2_too = reach == AMEND_SCAN_ALL_TABLES && h->version == 3;
	if (mem_len < amend_scan_min_mem(qcow2_cluster_size(h)))
		return AMEND_ERR_SCRATCH;
	/* Extended L2 entries are 16 bytes; such images cannot be
	 * downgraded anyway, and are not scanned. */
	if (l2_too && (h->incompat & QCOW2_INCOMPAT_EXTENDED_L2))
		return AMEND_ERR_DOWNGRADE_FEATURE;

	/* The list of L1 tables lives at the end of the memory; the rest is
	 * the snapshot window, then the walker's. */
	size_t list_bytes = round8((size_t)MAX_TABLES * sizeof(struct qcow2_l1_table));
	size_t work = (mem_len - list_bytes) & ~(size_t)7u;
	struct snap_ctx c = {
		.h = h,
		.out = out,
		.tables = (struct qcow2_l1_table *)(void *)(mem + work),
		.n = 0,
		.bad = false,
	};

	/* The active L1 table first; visit_snapshot() adds each
	 * snapshot's (only when the L2 tables are walked). */
	if (l2_too) {
		c.tables[0].offset = h->l1_offset;
		c.tables[0].entries = h->l1_size;
		c.n = 1;
	}
	if (h->nb_snapshots != 0) {
		/* A window for the largest entry: a bigger one would read
		 * whatever follows the table in the file. */
		enum qcow2_snapshot_walk_err se = qcow2_snapshot_walk(
			h, file_bytes, io, mem, window_bytes(), visit_snapshot, &c);
		if (se == QCOW2_SNAPSHOTS_IO) {
			out->io_error = true;
			return AMEND_ERR_SCAN_IO;
		}
		if (se == QCOW2_SNAPSHOTS_MEMORY)
			return AMEND_ERR_SCRATCH;
		if (se != QCOW2_SNAPSHOTS_OK || c.bad)
			return AMEND_ERR_TABLES;
	}
	if (l2_too) {
		struct l2_ctx lc = { out, sink, false };
		enum qcow2_walk_err we = qcow2_walk_l2(
			c.tables, c.n, qcow2_cluster_size(h), file_bytes, io, mem,
			work, visit_l2, &lc, &out->walk);
		out->l1_tables = out->walk.l1_tables;
		out->l2_tables = out->walk.l2_tables;
		out->rounds = out->walk.rounds;
		out->batches = out->walk.batches;
		if (lc.sink_failed) {
			out->io_error = true;
			return AMEND_ERR_SCAN_IO;
		}
		if (sink != NULL && we == QCOW2_WALK_OK)
			out->zero_tables_listed = true;
		switch (we) {
		case QCOW2_WALK_OK:
		case QCOW2_WALK_STOPPED:
			break;
		case QCOW2_WALK_IO:
			out->io_error = true;
			return AMEND_ERR_SCAN_IO;
		case QCOW2_WALK_MEMORY:
			return AMEND_ERR_SCRATCH;
		case QCOW2_WALK_TABLES:
		case QCOW2_WALK_LIMIT:
		default:
			return AMEND_ERR_TABLES;
		}
	}
	out->done = true;
	return AMEND_CHANGED;
}
