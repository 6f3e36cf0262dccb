/*
 * expand.c — the rules and the writes of a zero-cluster expansion (see
 * expand.h for the rules and the order).
 *
 * Trust: the guest's table list and every byte of the file are hostile.
 * Each named table is read, hashed and classified here; the L1 tables,
 * the snapshot table (through the shared parser) and the refcount
 * table are read to check every write against them. The tables are
 * read again before each phase that depends on them, and a table whose
 * hash changed stops the expansion (EXPAND_ERR_CHANGED).
 * Sorting is qcow2_sort_u64 (heapsort), not qsort: glibc's qsort calls
 * sysinfo, which the seccomp filter does not allow.
 */
#include "src/image/expand.h"

#include <stdlib.h>
#include <string.h>

#include "src/qcow2/qcow2_entries.h"
#include "src/qcow2/qcow2_format.h"
#include "src/qcow2/qcow2_open.h"
#include "src/qcow2/qcow2_snapshot.h"
#include "src/qcow2/qcow2_walk.h"

#define SECTOR 512u
#define REFT_OFFSET_MASK 0xfffffffffffffe00ULL
#define OFLAG_COPIED (1ULL << 63)
#define L1_CHUNK_ENTRIES 8192u
#define MAX_L1_TABLES (65536u + 1u)  /* QEMU's snapshot limit + the active */

static const uint8_t zero_sector[SECTOR];

/* ---- small helpers ---- */

/* First index i with v[i] >= key. */
static uint64_t lower_bound(const uint64_t *v, uint64_t n, uint64_t key)
{
	uint64_t lo = 0;
	uint64_t hi = n;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2u;
		if (v[mid] < key)
			lo = mid + 1u;
		else
			hi = mid;
	}
	return lo;
}

static bool contains(const uint64_t *v, uint64_t n, uint64_t key)
{
	uint64_t i = lower_bound(v, n, key);

	return i < n && v[i] == key;
}

/* Does a cluster of the sorted, cluster-aligned set v overlap [a, b)? */
static bool range_hits(const uint64_t *v, uint64_t n, uint64_t a, uint64_t b,
		       uint32_t cs)
{
	uint64_t i = lower_bound(v, n, a - a % cs);

	return a < b && i < n && v[i] < b;
}

/* A hash of a table's bytes (a multiple of 8), to notice a table that
 * changed between two reads: a writer that ignores the image lock, not
 * an adversary, so speed matters more than strength (four independent
 * multiply-xorshift lanes over 64-bit words). */
static uint64_t table_hash(const uint8_t *p, size_t n)
{
	uint64_t h[4] = { 0x9e3779b97f4a7c15ULL, 0xc2b2ae3d27d4eb4fULL,
			  0x165667b19e3779f9ULL, 0x27d4eb2f165667c5ULL };
	size_t i = 0;

	for (; i + 32u <= n; i += 32u) {
		for (unsigned k = 0; k < 4u; k++) {
			uint64_t w;

			memcpy(&w, p + i + (size_t)8u * k, sizeof(w));
			h[k] = (h[k] ^ w) * 0xff51afd7ed558ccdULL;
			h[k] ^= h[k] >> 29;
		}
	}
	for (; i + 8u <= n; i += 8u) {
		uint64_t w;

		memcpy(&w, p + i, sizeof(w));
		h[0] = (h[0] ^ w) * 0xff51afd7ed558ccdULL;
		h[0] ^= h[0] >> 29;
	}
	return h[0] ^ (h[1] * 3u) ^ (h[2] * 5u) ^ (h[3] * 7u) ^ n;
}

/* A growable array of uint64_t (malloc + copy: no realloc, whose
 * mremap the seccomp filter does not allow). */
struct vec {
	uint64_t *v;
	uint64_t n;
	uint64_t cap;
};

static bool vec_push(struct vec *a, uint64_t x)
{
	if (a->n == a->cap) {
		uint64_t cap = a->cap ? a->cap * 2u : 64u;
		uint64_t *nv;
		if (cap > SIZE_MAX / sizeof(uint64_t))
			return false;
		nv = malloc((size_t)cap * sizeof(uint64_t));
		if (nv == NULL)
			return false;
		if (a->n)
			memcpy(nv, a->v, (size_t)a->n * sizeof(uint64_t));
		free(a->v);
		a->v = nv;
		a->cap = cap;
	}
	a->v[a->n++] = x;
	return true;
}

/* Sort and drop repeats. */
static void vec_sort_unique(struct vec *a)
{
	uint64_t k = 0;

	if (a->n == 0)
		return;
	qcow2_sort_u64(a->v, (size_t)a->n);
	for (uint64_t i = 1; i < a->n; i++)
		if (a->v[i] != a->v[k])
			a->v[++k] = a->v[i];
	a->n = k + 1u;
}

/* One sector read-modify-write at a time (refcounts, table entries). */
struct rmw {
	const struct expand_io *io;
	struct expand_plan *p;
	uint64_t off;
	bool valid;
	bool dirty;
	uint8_t buf[SECTOR];
};

static enum expand_err rmw_flush(struct rmw *c)
{
	if (c->valid && c->dirty) {
		if (!c->io->write(c->io->ctx, c->off, c->buf))
			return EXPAND_ERR_WRITE;
		c->p->writes++;
		c->dirty = false;
	}
	return EXPAND_OK;
}

static enum expand_err rmw_at(struct rmw *c, uint64_t byte_off)
{
	uint64_t s = byte_off - byte_off % SECTOR;
	enum expand_err e;

	if (c->valid && c->off == s)
		return EXPAND_OK;
	e = rmw_flush(c);
	if (e != EXPAND_OK)
		return e;
	c->valid = false;
	if (!c->io->read(c->io->ctx, s, c->buf, SECTOR))
		return EXPAND_ERR_READ;
	c->off = s;
	c->valid = true;
	return EXPAND_OK;
}

static enum expand_err write_zero_cluster(struct expand_plan *p,
					  const struct expand_io *io,
					  uint64_t off)
{
	uint32_t cs = qcow2_cluster_size(p->h);

	if (io->zero != NULL) {
		if (!io->zero(io->ctx, off, cs))
			return EXPAND_ERR_WRITE;
		p->writes++;
		return EXPAND_OK;
	}
	for (uint32_t s = 0; s < cs; s += SECTOR) {
		if (!io->write(io->ctx, off + s, zero_sector))
			return EXPAND_ERR_WRITE;
		p->writes++;
	}
	return EXPAND_OK;
}

static enum expand_err sync_now(struct expand_plan *p,
				const struct expand_io *io)
{
	if (!io->sync(io->ctx))
		return EXPAND_ERR_WRITE;
	p->syncs++;
	return EXPAND_OK;
}

/* ---- refcounts (16-bit: a downgrade needs refcount_order 4) ---- */

static uint32_t cluster_bits(const struct expand_plan *p)
{
	return p->h->cluster_bits;
}

/* The block holding cluster index ci's refcount: *blk (0: none), or an
 * error for a block that is not a cluster inside the file. */
static enum expand_err block_of(const struct expand_plan *p, uint64_t ci,
				uint64_t *bi, uint64_t *blk)
{
	uint32_t cs = qcow2_cluster_size(p->h);
	uint64_t b;

	*bi = ci >> (cluster_bits(p) - 1u);
	*blk = 0;
	if (*bi >= p->reftable_entries)
		return EXPAND_OK;
	b = p->reftable[*bi] & REFT_OFFSET_MASK;
	if (b == 0)
		return EXPAND_OK;
	if (b % cs != 0 || b < cs || b > p->file_size ||
	    p->file_size - b < cs)
		return EXPAND_ERR_TABLES;
	*blk = b;
	return EXPAND_OK;
}

static uint64_t refcount_slot(const struct expand_plan *p, uint64_t blk,
			      uint64_t ci)
{
	uint32_t cs = qcow2_cluster_size(p->h);

	return blk + 2u * (ci & ((uint64_t)cs / 2u - 1u));
}

static enum expand_err refcount_of(const struct expand_plan *p,
				   const struct expand_io *io, uint64_t off,
				   uint64_t *rc)
{
	uint32_t cs = qcow2_cluster_size(p->h);
	uint64_t bi, blk;
	uint8_t b[2];
	enum expand_err e = block_of(p, off / cs, &bi, &blk);

	*rc = 0;
	if (e != EXPAND_OK || blk == 0)
		return e;
	if (!io->read(io->ctx, refcount_slot(p, blk, off / cs), b, 2))
		return EXPAND_ERR_READ;
	*rc = qcow2_refcount16(b, 0);
	return EXPAND_OK;
}

/* ---- allocation past the old end of the file ----
 * Deterministic, so that each phase replays the same positions: the
 * next new cluster goes at `next`; when its refcount block is missing,
 * a new block goes right after it (as QEMU places one) and must cover
 * itself. */
struct alloc {
	uint64_t next;
	uint64_t open_bi;          /* range of the newest new block */
	uint64_t open_blk;         /* its offset (0: none yet) */
};

struct placed {
	uint64_t pos;              /* the new data cluster */
	uint64_t bi;               /* its refcount block's index */
	uint64_t blk;              /* that block (existing or new) */
	bool block_is_new;
	bool block_created;        /* the block was created for this cluster */
};

static void alloc_init(const struct expand_plan *p, struct alloc *a)
{
	uint32_t cs = qcow2_cluster_size(p->h);

	a->next = p->file_size + (cs - p->file_size % cs) % cs;
	a->open_bi = UINT64_MAX;
	a->open_blk = 0;
}

static enum expand_err alloc_one(const struct expand_plan *p, struct alloc *a,
				 struct placed *out)
{
	uint32_t cs = qcow2_cluster_size(p->h);
	uint64_t bi, blk;
	enum expand_err e;

	memset(out, 0, sizeof(*out));
	out->pos = a->next;
	if (__builtin_add_overflow(a->next, (uint64_t)cs, &a->next) ||
	    a->next > (1ULL << 56))
		return EXPAND_ERR_GROW;
	e = block_of(p, out->pos / cs, &bi, &blk);
	if (e != EXPAND_OK)
		return e;
	out->bi = bi;
	if (bi >= p->reftable_entries)
		return EXPAND_ERR_GROW;    /* QEMU would grow the refcount table */
	if (blk != 0) {
		out->blk = blk;
		return EXPAND_OK;
	}
	if (a->open_bi == bi) {
		out->blk = a->open_blk;
		out->block_is_new = true;
		return EXPAND_OK;
	}
	/* A new block, right after the cluster, covering itself, in a
	 * refcount table entry that is 0 (not merely 0 in its offset). */
	if (p->reftable[bi] != 0)
		return EXPAND_ERR_TABLES;
	blk = a->next;
	if (__builtin_add_overflow(a->next, (uint64_t)cs, &a->next) ||
	    a->next > (1ULL << 56))
		return EXPAND_ERR_GROW;
	if ((blk / cs) >> (cluster_bits(p) - 1u) != bi)
		return EXPAND_ERR_GROW;
	a->open_bi = bi;
	a->open_blk = blk;
	out->blk = blk;
	out->block_is_new = true;
	out->block_created = true;
	return EXPAND_OK;
}

/* ---- the walk over the named tables ---- */

enum phase {
	PH_PLAN,       /* classify, collect targets, dry-run allocations */
	PH_NEW,        /* write the new clusters (zeros) and new blocks */
	PH_REFCOUNTS,  /* refcounts in existing blocks, refcount table */
	PH_ENTRIES,    /* rewrite the L2 entries */
};

struct walk {
	struct expand_plan *p;
	const struct expand_io *io;
	enum phase ph;
	uint8_t *table;            /* one cluster */
	uint8_t *newtab;           /* one cluster (PH_ENTRIES) */
	uint8_t *block;            /* one cluster: the open new block (PH_NEW) */
	uint64_t block_off;        /* where it goes (0: none open) */
	struct alloc a;
	struct rmw rmw;
	struct vec targets;        /* PH_PLAN */
	struct vec used_blocks;    /* PH_PLAN: existing blocks written */
	struct vec detached;       /* PH_PLAN: (cluster, refcount drop) pairs */
};

static enum expand_err flush_block(struct walk *w)
{
	uint32_t cs = qcow2_cluster_size(w->p->h);

	if (w->block_off == 0)
		return EXPAND_OK;
	for (uint32_t s = 0; s < cs; s += SECTOR) {
		if (!w->io->write(w->io->ctx, w->block_off + s, w->block + s))
			return EXPAND_ERR_WRITE;
		w->p->writes++;
	}
	w->block_off = 0;
	return EXPAND_OK;
}

/* A plain zero entry over a backing file: give it a new cluster and do
 * this phase's part of it; *pos receives the cluster. */
static enum expand_err place_new(struct walk *w, uint64_t rc, uint64_t *pos)
{
	struct expand_plan *p = w->p;
	uint32_t cs = qcow2_cluster_size(p->h);
	struct placed pl;
	enum expand_err e = alloc_one(p, &w->a, &pl);
	uint64_t ci;
	uint64_t old;

	if (e != EXPAND_OK)
		return e;
	*pos = pl.pos;
	ci = pl.pos / cs;
	if (rc > 0xffffu)
		return EXPAND_ERR_REFCOUNT;
	switch (w->ph) {
	case PH_PLAN:
		if (pl.block_created)
			p->new_blocks++;
		if (pl.block_is_new)
			return EXPAND_OK;
		/* An existing block: the cluster past the old end of the
		 * file must be free in it (QEMU would skip a used one). */
		e = rmw_at(&w->rmw, refcount_slot(p, pl.blk, ci));
		if (e != EXPAND_OK)
			return e;
		old = qcow2_refcount16(w->rmw.buf,
				       refcount_slot(p, pl.blk, ci) % SECTOR / 2u);
		if (old != 0)
			return EXPAND_ERR_REFCOUNT;
		if (w->used_blocks.n == 0 ||
		    w->used_blocks.v[w->used_blocks.n - 1u] != pl.blk)
			if (!vec_push(&w->used_blocks, pl.blk))
				return EXPAND_ERR_NOMEM;
		return EXPAND_OK;
	case PH_NEW:
		if (pl.block_created) {
			e = flush_block(w);
			if (e != EXPAND_OK)
				return e;
			memset(w->block, 0, cs);
			w->block_off = pl.blk;
			qcow2_set_refcount16(w->block, (size_t)((pl.blk / cs) &
						((uint64_t)cs / 2u - 1u)), 1);
		}
		if (pl.block_is_new)
			qcow2_set_refcount16(w->block,
					     (size_t)(ci & ((uint64_t)cs / 2u - 1u)),
					     (uint16_t)rc);
		return write_zero_cluster(p, w->io, pl.pos);
	case PH_REFCOUNTS:
		if (pl.block_created) {
			uint64_t slot = p->h->refcount_offset + 8u * pl.bi;
			e = rmw_at(&w->rmw, slot);
			if (e != EXPAND_OK)
				return e;
			if (qcow2_entry64(w->rmw.buf, slot % SECTOR / 8u) != 0)
				return EXPAND_ERR_CHANGED;
			qcow2_set_entry64(w->rmw.buf, slot % SECTOR / 8u, pl.blk);
			w->rmw.dirty = true;
		}
		if (!pl.block_is_new) {
			uint64_t slot = refcount_slot(p, pl.blk, ci);
			e = rmw_at(&w->rmw, slot);
			if (e != EXPAND_OK)
				return e;
			if (qcow2_refcount16(w->rmw.buf, slot % SECTOR / 2u) != 0)
				return EXPAND_ERR_CHANGED;
			qcow2_set_refcount16(w->rmw.buf, slot % SECTOR / 2u,
					     (uint16_t)rc);
			w->rmw.dirty = true;
		}
		return EXPAND_OK;
	case PH_ENTRIES:
	default:
		return EXPAND_OK;
	}
}

/* One zero entry (value e) of table i: its transition.
 *   plain, no backing file    -> 0 (unallocated reads zeros too)
 *   plain, backing file       -> a new cluster of zeros
 *   with a host cluster that only this entry references (its refcount is
 *   the table's)              -> the same cluster, filled with zeros
 *   with a host cluster others reference too (a snapshot's data: QEMU
 *   would zero it under the snapshot) -> detached: as a plain entry,
 *   and the cluster's refcount lowered by the table's once the entry no
 *   longer names it. */
static enum expand_err one_entry(struct walk *w, uint32_t i, uint64_t e,
				 uint64_t *next_e)
{
	struct expand_plan *p = w->p;
	uint32_t cs = qcow2_cluster_size(p->h);
	uint64_t off = e & QCOW2_L2E_OFFSET_MASK;
	uint64_t rc = p->table_rc[i];
	uint64_t copied = rc == 1u ? OFLAG_COPIED : 0u;
	uint64_t held = 0;
	bool detach = false;
	enum expand_err er;

	if (off != 0) {
		if (off % cs != 0 || off < cs || off > p->file_size ||
		    p->file_size - off < cs)
			return EXPAND_ERR_ENTRY;
		er = refcount_of(p, w->io, off, &held);
		if (er != EXPAND_OK)
			return er;
		if (held < rc)
			return EXPAND_ERR_REFCOUNT;
		detach = held > rc;
	}
	if (off != 0 && !detach) {
		if (w->ph == PH_PLAN) {
			p->to_zeroed++;
			if (!vec_push(&w->targets, off))
				return EXPAND_ERR_NOMEM;
		}
		*next_e = off | copied;
		return EXPAND_OK;
	}
	if (detach && w->ph == PH_PLAN) {
		p->to_detached++;
		if (!vec_push(&w->detached, off) || !vec_push(&w->detached, rc))
			return EXPAND_ERR_NOMEM;
	}
	if (p->h->backing_offset == 0) {
		*next_e = 0;
		if (w->ph == PH_PLAN && !detach)
			p->to_unallocated++;
		return EXPAND_OK;
	}
	er = place_new(w, rc, &off);
	if (er != EXPAND_OK)
		return er;
	if (w->ph == PH_PLAN && !detach)
		p->to_new++;
	if (w->ph == PH_PLAN)
		p->new_clusters++;
	*next_e = off | copied;
	return EXPAND_OK;
}

static bool is_zero_entry(uint64_t e)
{
	return (e & QCOW2_L2E_ZERO) && !(e & QCOW2_L2E_COMPRESSED);
}

static enum expand_err walk_table(struct walk *w, uint32_t i)
{
	struct expand_plan *p = w->p;
	uint32_t cs = qcow2_cluster_size(p->h);
	uint64_t t = p->tables[i];
	uint64_t sum;
	uint64_t zeros = 0;
	enum expand_err e;

	if (!w->io->read(w->io->ctx, t, w->table, cs))
		return EXPAND_ERR_READ;
	sum = table_hash(w->table, cs);
	if (w->ph == PH_PLAN)
		p->table_sum[i] = sum;
	else if (p->table_sum[i] != sum)
		return EXPAND_ERR_CHANGED;
	if (w->ph == PH_ENTRIES)
		memcpy(w->newtab, w->table, cs);
	for (uint32_t k = 0; k < cs / 8u; k++) {
		uint64_t v = qcow2_entry64(w->table, k);
		uint64_t nv;

		if (!is_zero_entry(v))
			continue;
		zeros++;
		e = one_entry(w, i, v, &nv);
		if (e != EXPAND_OK)
			return e;
		if (w->ph == PH_ENTRIES)
			qcow2_set_entry64(w->newtab, k, nv);
	}
	if (zeros == 0)
		return EXPAND_ERR_NO_ZERO;
	if (w->ph == PH_ENTRIES) {
		for (uint32_t s = 0; s < cs; s += SECTOR) {
			if (memcmp(w->table + s, w->newtab + s, SECTOR) == 0)
				continue;
			if (!w->io->write(w->io->ctx, t + s, w->newtab + s))
				return EXPAND_ERR_WRITE;
			p->writes++;
		}
	}
	return EXPAND_OK;
}

/* Every named table read again and held to its hash, before a phase
 * whose writes were decided from them but that does not walk them (the
 * zeros into the clusters zero entries keep). */
static enum expand_err tables_unchanged(struct expand_plan *p,
					const struct expand_io *io,
					uint8_t *buf)
{
	uint32_t cs = qcow2_cluster_size(p->h);

	for (uint32_t i = 0; i < p->n_tables; i++) {
		if (!io->read(io->ctx, p->tables[i], buf, cs))
			return EXPAND_ERR_READ;
		if (table_hash(buf, cs) != p->table_sum[i])
			return EXPAND_ERR_CHANGED;
	}
	return EXPAND_OK;
}

static enum expand_err walk_all(struct walk *w)
{
	enum expand_err e = EXPAND_OK;

	alloc_init(w->p, &w->a);
	w->block_off = 0;
	for (uint32_t i = 0; i < w->p->n_tables && e == EXPAND_OK; i++)
		e = walk_table(w, i);
	if (e == EXPAND_OK && w->ph == PH_NEW)
		e = flush_block(w);
	if (e == EXPAND_OK)
		e = rmw_flush(&w->rmw);
	w->rmw.valid = false;
	return e;
}

/* ---- what the host reads to check the list against ---- */

struct l1_list {
	struct qcow2_l1_table *t;
	uint32_t n;
	uint64_t snap_end;         /* end of the snapshot table's entries */
	bool bad;
};

static bool visit_snapshot(void *ctx, uint32_t index,
			   const struct qcow2_snapshot *s, const uint8_t *entry)
{
	struct l1_list *l = ctx;

	(void)index;
	(void)entry;
	if (s->l1_size > QCOW2_SNAPSHOT_MAX_L1 || l->n >= MAX_L1_TABLES ||
	    __builtin_add_overflow(l->snap_end, (uint64_t)s->entry_len,
				   &l->snap_end)) {
		l->bad = true;
		return false;
	}
	l->t[l->n].offset = s->l1_offset;
	l->t[l->n].entries = s->l1_size;
	l->n++;
	return true;
}

struct batch_ctx {
	const struct expand_io *io;
	uint64_t file_size;
};

/* The snapshot walker's reader: zeros for the bytes past the end. */
static bool read_batch(void *ctx, const struct qcow2_read *r, uint32_t n)
{
	const struct batch_ctx *b = ctx;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t have = 0;

		if (r[i].offset < b->file_size)
			have = b->file_size - r[i].offset;
		if (have > r[i].len)
			have = r[i].len;
		if (have && !b->io->read(b->io->ctx, r[i].offset, r[i].buf,
					 (size_t)have))
			return false;
		memset(r[i].buf + have, 0, (size_t)(r[i].len - have));
	}
	return true;
}

static enum expand_err list_l1_tables(struct expand_plan *p,
				      const struct expand_io *io,
				      struct l1_list *l)
{
	const struct qcow2_header *h = p->h;

	l->t = malloc((size_t)MAX_L1_TABLES * sizeof(*l->t));
	if (l->t == NULL)
		return EXPAND_ERR_NOMEM;
	l->t[0].offset = h->l1_offset;
	l->t[0].entries = h->l1_size;
	l->n = 1;
	l->snap_end = h->snapshots_offset;
	if (h->nb_snapshots != 0) {
		struct batch_ctx bc = { io, p->file_size };
		struct qcow2_io qio = { read_batch, &bc, 1 };
		size_t wl = (size_t)QCOW2_SNAPSHOT_MIN_WINDOW;
		uint8_t *win = malloc(wl);
		enum qcow2_snapshot_walk_err se;

		if (win == NULL)
			return EXPAND_ERR_NOMEM;
		se = qcow2_snapshot_walk(h, p->file_size, &qio, win, wl,
					 visit_snapshot, l);
		free(win);
		if (se == QCOW2_SNAPSHOTS_IO)
			return EXPAND_ERR_READ;
		if (se != QCOW2_SNAPSHOTS_OK || l->bad)
			return EXPAND_ERR_TABLES;
	}
	return EXPAND_OK;
}

/* The sets an item of metadata must not overlap. */
struct sets {
	const uint64_t *t; uint64_t nt;     /* named tables (rewritten) */
	const uint64_t *z; uint64_t nz;     /* zero targets */
	const uint64_t *b; uint64_t nb;     /* existing blocks written */
	const uint64_t *d; uint64_t nd;     /* detached clusters (refcount
					     * lowered: never metadata) */
};

static bool hits_any(const struct sets *s, uint64_t a, uint64_t end,
		     uint32_t cs)
{
	return range_hits(s->t, s->nt, a, end, cs) ||
	       range_hits(s->z, s->nz, a, end, cs) ||
	       range_hits(s->b, s->nb, a, end, cs) ||
	       range_hits(s->d, s->nd, a, end, cs);
}

/* Read every L1 table: count the references to each named table, and
 * refuse if an L1 table or an L2 table it names is a zero target or a
 * block the expansion writes, or overlaps a named table. */
static enum expand_err scan_l1(struct expand_plan *p,
			       const struct expand_io *io,
			       const struct l1_list *l, const struct sets *s,
			       uint8_t *buf, uint8_t *referenced)
{
	uint32_t cs = qcow2_cluster_size(p->h);

	for (uint32_t k = 0; k < l->n; k++) {
		uint64_t off = l->t[k].offset;
		uint64_t len = (uint64_t)l->t[k].entries * 8u;
		uint64_t end;

		if (len == 0)
			continue;
		if (__builtin_add_overflow(off, len, &end) ||
		    end > p->file_size || off % 8u != 0)
			return EXPAND_ERR_TABLES;
		if (hits_any(s, off, end, cs))
			return EXPAND_ERR_OVERLAP;
		for (uint64_t done = 0; done < len;) {
			uint64_t chunk = len - done;

			if (chunk > (uint64_t)L1_CHUNK_ENTRIES * 8u)
				chunk = (uint64_t)L1_CHUNK_ENTRIES * 8u;
			if (!io->read(io->ctx, off + done, buf, (size_t)chunk))
				return EXPAND_ERR_READ;
			for (uint64_t j = 0; j < chunk; j += 8u) {
				uint64_t o = qcow2_entry64(buf, (size_t)(j / 8u)) &
					     QCOW2_L1E_OFFSET_MASK;
				uint64_t i;

				if (o == 0)
					continue;
				if (contains(s->z, s->nz, o) ||
				    contains(s->d, s->nd, o) ||
				    contains(s->b, s->nb, o))
					return EXPAND_ERR_OVERLAP;
				i = lower_bound(p->tables, p->n_tables, o);
				if (i < p->n_tables && p->tables[i] == o)
					referenced[i] = 1;
			}
			done += chunk;
		}
	}
	return EXPAND_OK;
}

static enum expand_err read_reftable(struct expand_plan *p,
				     const struct expand_io *io)
{
	uint32_t cs = qcow2_cluster_size(p->h);
	uint64_t len = (uint64_t)p->h->refcount_clusters * cs;
	uint8_t *raw;

	if (len == 0 || len > QCOW2_OPEN_MAX_REFTABLE ||
	    p->h->refcount_offset % cs != 0 || p->h->refcount_offset < cs ||
	    p->h->refcount_offset > p->file_size ||
	    p->file_size - p->h->refcount_offset < len)
		return EXPAND_ERR_TABLES;
	raw = malloc((size_t)len);
	p->reftable = malloc((size_t)len);
	if (raw == NULL || p->reftable == NULL) {
		free(raw);
		return EXPAND_ERR_NOMEM;
	}
	if (!io->read(io->ctx, p->h->refcount_offset, raw, (size_t)len)) {
		free(raw);
		return EXPAND_ERR_READ;
	}
	p->reftable_entries = (uint32_t)(len / 8u);
	for (uint32_t i = 0; i < p->reftable_entries; i++)
		p->reftable[i] = qcow2_entry64(raw, i);
	free(raw);
	return EXPAND_OK;
}

/* The refcount table and the blocks it names must not overlap what is
 * rewritten (a refcount table pointing into an L2 table, say). */
static enum expand_err check_refcount_structure(const struct expand_plan *p,
						const struct sets *s)
{
	uint32_t cs = qcow2_cluster_size(p->h);
	uint64_t rt = p->h->refcount_offset;
	uint64_t rt_end = rt + (uint64_t)p->reftable_entries * 8u;
	struct sets tz = { s->t, s->nt, s->z, s->nz, NULL, 0, s->d, s->nd };

	if (hits_any(s, rt, rt_end, cs))
		return EXPAND_ERR_OVERLAP;
	for (uint32_t i = 0; i < p->reftable_entries; i++) {
		uint64_t b = p->reftable[i] & REFT_OFFSET_MASK;

		if (b != 0 && hits_any(&tz, b, b + cs, cs))
			return EXPAND_ERR_OVERLAP;
	}
	return EXPAND_OK;
}

/* Copy, sort and de-duplicate the guest's list (a walk that ran in
 * rounds may name a table twice); each must be a cluster inside the
 * file past the header. */
static enum expand_err take_list(struct expand_plan *p, const uint64_t *tables,
				 uint32_t n)
{
	uint32_t cs = qcow2_cluster_size(p->h);
	uint32_t k = 0;

	if (n == 0 || n > EXPAND_MAX_TABLES || tables == NULL)
		return EXPAND_ERR_LIST;
	p->tables = malloc((size_t)n * sizeof(uint64_t));
	p->table_rc = calloc(n, sizeof(uint64_t));
	p->table_sum = calloc(n, sizeof(uint64_t));
	if (p->tables == NULL || p->table_rc == NULL || p->table_sum == NULL)
		return EXPAND_ERR_NOMEM;
	memcpy(p->tables, tables, (size_t)n * sizeof(uint64_t));
	qcow2_sort_u64(p->tables, n);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t t = p->tables[i];

		if (t % cs != 0 || t < cs || t > p->file_size ||
		    p->file_size - t < cs)
			return EXPAND_ERR_LIST;
		if (k == 0 || p->tables[k - 1u] != t)
			p->tables[k++] = t;
	}
	p->n_tables = k;
	return EXPAND_OK;
}

/* The detached clusters: one entry per cluster with the sum of its
 * drops, each no more than its refcount; their blocks join the set of
 * blocks written (checked against the metadata like the others). */
static enum expand_err plan_drops(struct expand_plan *p,
				  const struct expand_io *io, struct walk *w)
{
	uint32_t cs = qcow2_cluster_size(p->h);
	uint64_t pairs = w->detached.n / 2u;
	struct vec offs = { NULL, 0, 0 };
	enum expand_err e = EXPAND_OK;

	for (uint64_t k = 0; k < pairs; k++)
		if (!vec_push(&offs, w->detached.v[2u * k]))
			e = EXPAND_ERR_NOMEM;
	vec_sort_unique(&offs);
	p->drop_off = offs.v;
	p->n_drops = offs.n;
	if (e != EXPAND_OK || pairs == 0)
		return e;
	p->drop_by = calloc((size_t)offs.n, sizeof(uint64_t));
	p->drop_old = calloc((size_t)offs.n, sizeof(uint64_t));
	if (p->drop_by == NULL || p->drop_old == NULL)
		return EXPAND_ERR_NOMEM;
	for (uint64_t k = 0; k < pairs; k++) {
		uint64_t i = lower_bound(offs.v, offs.n, w->detached.v[2u * k]);

		if (__builtin_add_overflow(p->drop_by[i], w->detached.v[2u * k + 1u],
					   &p->drop_by[i]))
			return EXPAND_ERR_REFCOUNT;
	}
	for (uint64_t i = 0; i < offs.n && e == EXPAND_OK; i++) {
		uint64_t bi, blk;

		e = refcount_of(p, io, offs.v[i], &p->drop_old[i]);
		if (e == EXPAND_OK && p->drop_old[i] < p->drop_by[i])
			e = EXPAND_ERR_REFCOUNT;
		if (e == EXPAND_OK)
			e = block_of(p, offs.v[i] / cs, &bi, &blk);
		if (e == EXPAND_OK && !vec_push(&w->used_blocks, blk))
			e = EXPAND_ERR_NOMEM;
	}
	return e;
}

uint64_t expand_max_end(const struct qcow2_header *h, uint64_t file_size)
{
	uint32_t cs = qcow2_cluster_size(h);
	uint64_t end = file_size + (cs - file_size % cs) % cs;
	uint64_t clusters = h->size / cs + (h->size % cs != 0);
	uint64_t blocks = clusters / (cs / 2u) + 2u;
	uint64_t add;

	if (end < file_size)
		return UINT64_MAX;
	if (h->backing_offset == 0)
		return end;
	if (__builtin_add_overflow(clusters, blocks, &add) ||
	    __builtin_mul_overflow(add, (uint64_t)cs, &add) ||
	    __builtin_add_overflow(end, add, &end))
		return UINT64_MAX;
	return end;
}

enum expand_err expand_prepare(struct expand_plan *p,
			       const struct qcow2_header *h,
			       uint64_t file_size, bool can_grow,
			       const uint64_t *tables, uint32_t n,
			       const struct expand_io *io)
{
	struct walk w;
	struct l1_list l;
	struct sets s;
	enum expand_err e;
	uint8_t *l1buf = NULL;
	uint32_t cs;

	memset(p, 0, sizeof(*p));
	memset(&w, 0, sizeof(w));
	memset(&l, 0, sizeof(l));
	p->h = h;
	p->file_size = file_size;
	p->can_grow = can_grow;
	if (h == NULL || io == NULL || h->refcount_order != 4u ||
	    h->cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
	    h->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
		return EXPAND_ERR_TABLES;
	cs = qcow2_cluster_size(h);
	e = take_list(p, tables, n);
	if (e == EXPAND_OK)
		e = read_reftable(p, io);
	/* Classify every entry of the named tables, and their refcounts. */
	if (e == EXPAND_OK) {
		for (uint32_t i = 0; i < p->n_tables && e == EXPAND_OK; i++) {
			e = refcount_of(p, io, p->tables[i], &p->table_rc[i]);
			if (e == EXPAND_OK && p->table_rc[i] == 0)
				e = EXPAND_ERR_REFCOUNT;
		}
	}
	if (e == EXPAND_OK) {
		w.p = p;
		w.io = io;
		w.ph = PH_PLAN;
		w.rmw.io = io;
		w.rmw.p = p;
		w.table = malloc(cs);
		if (w.table == NULL)
			e = EXPAND_ERR_NOMEM;
	}
	if (e == EXPAND_OK)
		e = walk_all(&w);
	if (e == EXPAND_OK) {
		p->new_end = p->new_clusters != 0 ? w.a.next : file_size;
		if (p->new_clusters != 0 && !can_grow)
			e = EXPAND_ERR_GROW;
		if (p->new_end > expand_max_end(h, file_size))
			e = EXPAND_ERR_GROW;
		vec_sort_unique(&w.targets);
		if (e == EXPAND_OK)
			e = plan_drops(p, io, &w);
		vec_sort_unique(&w.used_blocks);
		p->targets = w.targets.v;
		p->n_targets = w.targets.n;
		w.targets.v = NULL;
	}
	if (e == EXPAND_OK && p->n_targets != 0) {
		p->target_rc = calloc((size_t)p->n_targets, sizeof(uint64_t));
		if (p->target_rc == NULL)
			e = EXPAND_ERR_NOMEM;
		for (uint64_t k = 0; k < p->n_targets && e == EXPAND_OK; k++)
			e = refcount_of(p, io, p->targets[k], &p->target_rc[k]);
	}
	if (e == EXPAND_OK) {
		uint8_t *referenced = calloc(p->n_tables, 1);

		s.t = p->tables;
		s.nt = p->n_tables;
		s.z = p->targets;
		s.nz = p->n_targets;
		s.b = w.used_blocks.v;
		s.nb = w.used_blocks.n;
		s.d = p->drop_off;
		s.nd = p->n_drops;
		e = referenced == NULL ? EXPAND_ERR_NOMEM : list_l1_tables(p, io, &l);
		if (e == EXPAND_OK) {
			l1buf = malloc((size_t)L1_CHUNK_ENTRIES * 8u);
			e = l1buf == NULL ? EXPAND_ERR_NOMEM
					  : scan_l1(p, io, &l, &s, l1buf, referenced);
		}
		if (e == EXPAND_OK && h->nb_snapshots != 0 &&
		    hits_any(&s, h->snapshots_offset, l.snap_end, cs))
			e = EXPAND_ERR_OVERLAP;
		if (e == EXPAND_OK)
			e = check_refcount_structure(p, &s);
		for (uint32_t i = 0; i < p->n_tables && e == EXPAND_OK; i++)
			if (!referenced[i])
				e = EXPAND_ERR_NOT_REFERENCED;
		free(referenced);
	}
	free(l1buf);
	free(l.t);
	free(w.table);
	free(w.targets.v);
	free(w.used_blocks.v);
	free(w.detached.v);
	return e;
}

enum expand_err expand_apply(struct expand_plan *p, const struct expand_io *io)
{
	uint32_t cs = qcow2_cluster_size(p->h);
	struct walk w;
	enum expand_err e = EXPAND_OK;

	memset(&w, 0, sizeof(w));
	w.p = p;
	w.io = io;
	w.rmw.io = io;
	w.rmw.p = p;
	w.table = malloc(cs);
	w.newtab = malloc(cs);
	w.block = malloc(cs);
	if (w.table == NULL || w.newtab == NULL || w.block == NULL)
		e = EXPAND_ERR_NOMEM;
	/* 1. New clusters and blocks past the old end; 2. their refcounts
	 * and refcount table entries. */
	if (e == EXPAND_OK && p->new_clusters != 0) {
		w.ph = PH_NEW;
		e = walk_all(&w);
		if (e == EXPAND_OK)
			e = sync_now(p, io);
		if (e == EXPAND_OK) {
			w.ph = PH_REFCOUNTS;
			e = walk_all(&w);
		}
		if (e == EXPAND_OK)
			e = sync_now(p, io);
	}
	/* 3. Zeros into the clusters zero entries keep, once the tables
	 * that name them, and the refcounts that let them be zeroed (no
	 * other reference), are seen unchanged. */
	if (e == EXPAND_OK && p->n_targets != 0)
		e = tables_unchanged(p, io, w.table);
	for (uint64_t k = 0; k < p->n_targets && e == EXPAND_OK; k++) {
		uint64_t rc;

		e = refcount_of(p, io, p->targets[k], &rc);
		if (e == EXPAND_OK && rc != p->target_rc[k])
			e = EXPAND_ERR_CHANGED;
	}
	for (uint64_t k = 0; k < p->n_targets && e == EXPAND_OK; k++)
		e = write_zero_cluster(p, io, p->targets[k]);
	if (e == EXPAND_OK && p->n_targets != 0)
		e = sync_now(p, io);
	/* 4. The L2 entries. */
	if (e == EXPAND_OK) {
		w.ph = PH_ENTRIES;
		e = walk_all(&w);
	}
	if (e == EXPAND_OK)
		e = sync_now(p, io);
	/* 5. The refcounts of the clusters detached entries left. */
	for (uint64_t k = 0; k < p->n_drops && e == EXPAND_OK; k++) {
		uint64_t slot;
		uint64_t bi, blk;

		e = block_of(p, p->drop_off[k] / cs, &bi, &blk);
		if (e == EXPAND_OK && blk == 0)
			e = EXPAND_ERR_CHANGED;
		if (e != EXPAND_OK)
			break;
		slot = refcount_slot(p, blk, p->drop_off[k] / cs);
		e = rmw_at(&w.rmw, slot);
		if (e != EXPAND_OK)
			break;
		if (qcow2_refcount16(w.rmw.buf, slot % SECTOR / 2u) != p->drop_old[k]) {
			e = EXPAND_ERR_CHANGED;
			break;
		}
		qcow2_set_refcount16(w.rmw.buf, slot % SECTOR / 2u,
				     (uint16_t)(p->drop_old[k] - p->drop_by[k]));
		w.rmw.dirty = true;
	}
	if (e == EXPAND_OK)
		e = rmw_flush(&w.rmw);
	if (e == EXPAND_OK && p->n_drops != 0)
		e = sync_now(p, io);
	free(w.table);
	free(w.newtab);
	free(w.block);
	return e;
}

void expand_free(struct expand_plan *p)
{
	free(p->drop_off);
	free(p->drop_by);
	free(p->drop_old);
	free(p->tables);
	free(p->table_rc);
	free(p->table_sum);
	free(p->targets);
	free(p->target_rc);
	free(p->reftable);
	memset(p, 0, sizeof(*p));
}
