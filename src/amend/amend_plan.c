/*
 * amend_plan.c — the amend planner: decide, from the parsed header and
 * the request, whether to refuse, do nothing, or rewrite the header; and
 * when rewriting, build the complete new header cluster exactly as
 * QEMU's header writer would (so `qemu-img info` cannot tell the two
 * apart) and list the byte ranges that differ.
 *
 * Trust: `cluster` is hostile and is parsed by qcow2_parse() before any
 * field is used; the request is re-checked here. Pure and freestanding.
 */
#include "src/amend/amend_plan.h"

#include "src/amend/amend_diff.h"
#include "src/amend/amend_layout.h"
#include "src/qcow2/qcow2_format.h"
#include "src/qcow2/qcow2_header.h"
#include "src/qcow2/qcow2_write.h"

static enum amend_status map_parse_error(enum qcow2_err e)
{
	switch (e) {
	case QCOW2_ERR_MAGIC:
		return AMEND_ERR_NOT_QCOW2;
	case QCOW2_ERR_OVERFLOW:
		return AMEND_ERR_OVERFLOW;
	default:
		return AMEND_ERR_PARSE;
	}
}

static bool request_valid(const struct amend_request *req)
{
	bool compat_ok = req->compat == AMEND_COMPAT_KEEP ||
			 req->compat == AMEND_COMPAT_V2 ||
			 req->compat == AMEND_COMPAT_V3;
	bool lazy_ok = req->lazy == AMEND_LAZY_KEEP ||
		       req->lazy == AMEND_LAZY_OFF ||
		       req->lazy == AMEND_LAZY_ON;
	return compat_ok && lazy_ok &&
	       (req->compat != AMEND_COMPAT_KEEP ||
		req->lazy != AMEND_LAZY_KEEP);
}

/*
 * qemu-img amend first rewrites the image's header as it is, in its own
 * version and layout (a v3 header with QEMU's feature table), whatever
 * the request, and fails (ENOSPC) if that does not fit the cluster, even
 * for a request that changes nothing or a downgrade whose v2 header
 * would fit. Measured with qemu-img 7.2: at 4 KiB, 8 KiB and 64 KiB
 * clusters the largest unknown extension it downgrades is exactly the one
 * that leaves room for the v3 header (392 bytes less than a v2 header
 * needs above 4 KiB), and `lazy_refcounts=off` on a v3 image, or
 * `compat=0.10` on a v2 one, fails on images whose extensions overrun
 * their own header's room. A header gate: the table scan is not needed
 * to decide it, so the guest and the host's plan refuse alike.
 */
static enum amend_status rewrite_fits(const uint8_t *cluster,
				      const struct qcow2_header *h)
{
	struct amend_layout lay;
	size_t need;

	if (!amend_layout_build(cluster, h, h, &lay))
		return AMEND_ERR_OVERFLOW;
	if (qcow2_serialised_len(h, &lay.layout, &need) != QCOW2_OK)
		return AMEND_ERR_OVERFLOW;
	return need <= qcow2_cluster_size(h) ? AMEND_CHANGED
					      : AMEND_ERR_HEADER_NO_ROOM;
}

/* The version and lazy_refcounts a request asks for. */
struct target {
	uint32_t version;
	bool lazy;
};

static struct target target_of(const struct qcow2_header *h,
			       const struct amend_request *req)
{
	struct target t;
	bool cur_lazy = (h->compat & QCOW2_COMPAT_LAZY_REFCOUNTS) != 0;

	t.version = req->compat == AMEND_COMPAT_KEEP ? h->version : req->compat;
	if (req->lazy == AMEND_LAZY_ON)
		t.lazy = true;
	else if (req->lazy == AMEND_LAZY_OFF)
		t.lazy = false;
	else
		t.lazy = t.version == 3 ? cur_lazy : false;
	/* A v2 image has no lazy refcounts to switch off. */
	if (t.version == 2)
		t.lazy = false;
	return t;
}

static bool changes(const struct qcow2_header *h, struct target t)
{
	return t.version != h->version ||
	       t.lazy != ((h->compat & QCOW2_COMPAT_LAZY_REFCOUNTS) != 0);
}

/* The new header: what changes, and what QEMU's writer normalises. */
static void new_header(const struct qcow2_header *h, struct target t,
		       struct qcow2_header *n)
{
	*n = *h;
	n->version = t.version;
	if (t.version == 3) {
		if (h->version == 2) {
			n->incompat = 0;
			n->compat = 0;
			n->autoclear = 0;
			n->refcount_order = 4;
			n->compression_type = QCOW2_COMPRESSION_ZLIB;
		}
		if (t.lazy)
			n->compat |= QCOW2_COMPAT_LAZY_REFCOUNTS;
		else
			n->compat &= ~QCOW2_COMPAT_LAZY_REFCOUNTS;
		/* A writer must clear the autoclear bits it does not know. */
		n->autoclear &= QCOW2_AUTOCLEAR_KNOWN;
	} else {
		n->incompat = 0;
		n->compat = 0;
		n->autoclear = 0;
		/* v2 has no compression type: only zlib exists there. */
		n->compression_type = QCOW2_COMPRESSION_ZLIB;
	}
}

/* The new header must fit the cluster where QEMU would put it: instar
 * does not move extensions or the backing name to make room. */
static enum amend_status target_fits(const uint8_t *cluster,
				     const struct qcow2_header *h,
				     struct target t)
{
	struct qcow2_header n;
	struct amend_layout lay;
	size_t need;

	if (!changes(h, t))
		return AMEND_CHANGED;
	new_header(h, t, &n);
	if (!amend_layout_build(cluster, h, &n, &lay))
		return AMEND_ERR_OVERFLOW;
	if (qcow2_serialised_len(&n, &lay.layout, &need) != QCOW2_OK)
		return AMEND_ERR_OVERFLOW;
	return need <= qcow2_cluster_size(h) ? AMEND_CHANGED
					      : AMEND_ERR_RELOCATION;
}

/* The first gates of the spec's table: what state the image is in. */
static enum amend_status state_gates(const struct qcow2_header *h)
{
	if (h->incompat & QCOW2_INCOMPAT_DIRTY)
		return AMEND_ERR_DIRTY;
	if (h->incompat & QCOW2_INCOMPAT_CORRUPT)
		return AMEND_ERR_CORRUPT;
	if (h->crypt_method != QCOW2_CRYPT_NONE)
		return AMEND_ERR_ENCRYPTED;
	return AMEND_CHANGED;
}

enum amend_status amend_preflight(const uint8_t *cluster, size_t len,
				  uint64_t file_bytes, struct qcow2_header *h)
{
	enum qcow2_err e;

	if (cluster == NULL || h == NULL)
		return AMEND_ERR_BAD_REQUEST;
	e = qcow2_parse(cluster, len, h);
	if (e == QCOW2_ERR_MAGIC)
		return AMEND_ERR_NOT_QCOW2;
	if (e != QCOW2_OK)
		return AMEND_ERR_PARSE;
	/* Tables QEMU could not even read: refuse as QEMU cannot open it. */
	if (qcow2_check_extents(h, file_bytes) != QCOW2_OK)
		return AMEND_ERR_TABLES;
	return state_gates(h);
}

/* The gates of the spec, in the order the spec's table gives them, then
 * the room QEMU's rewrite and the new header need: everything the header
 * alone decides, before the table scan, so that the guest (which scans
 * first) and the host's plan refuse alike. Those that need the tables
 * (zero clusters, compressed clusters, snapshot sizes, malformed tables)
 * are in check_scan_gates(). */
static enum amend_status check_gates(const uint8_t *cluster,
				     const struct qcow2_header *h,
				     const struct amend_request *req)
{
	struct target t = target_of(h, req);
	uint32_t target_version = t.version;
	enum amend_status s;

	s = state_gates(h);
	if (s != AMEND_CHANGED)
		return s;
	/* An external data file the header does not name: QEMU cannot open
	 * the image ("'data-file' is required for this image"). */
	if ((h->incompat & QCOW2_INCOMPAT_EXTERNAL_DATA) &&
	    qcow2_find_ext(h, QCOW2_EXT_DATA_FILE) == NULL)
		return AMEND_ERR_PARSE;
	if (req->lazy == AMEND_LAZY_ON && target_version < 3)
		return AMEND_ERR_LAZY_NEEDS_V3;
	if (target_version == 2 && h->version == 3) {
		if (h->incompat & (QCOW2_INCOMPAT_EXTENDED_L2 |
				   QCOW2_INCOMPAT_EXTERNAL_DATA))
			return AMEND_ERR_DOWNGRADE_FEATURE;
		if (h->refcount_order != 4)
			return AMEND_ERR_DOWNGRADE_REFCOUNT;
		/* Bitmaps QEMU would load (autoclear bit set): v2 cannot keep
		 * them consistent. */
		if ((h->autoclear & QCOW2_AUTOCLEAR_BITMAPS) &&
		    qcow2_find_ext(h, QCOW2_EXT_BITMAPS) != NULL)
			return AMEND_ERR_BITMAPS;
	}
	s = rewrite_fits(cluster, h);
	return s == AMEND_CHANGED ? target_fits(cluster, h, t) : s;
}

static bool is_downgrade(const struct qcow2_header *h, uint32_t target)
{
	return h->version == 3 && target == 2;
}

/* A downgrade reads every table; any other request the snapshot table,
 * which QEMU reads (and refuses if malformed) whenever it opens the image;
 * an upgrade also needs every snapshot to carry version 3's extra data. */
static enum amend_scan_reach reach_of(const struct qcow2_header *h,
				      uint32_t target)
{
	if (is_downgrade(h, target))
		return AMEND_SCAN_ALL_TABLES;
	return h->nb_snapshots != 0 ? AMEND_SCAN_SNAPSHOT_TABLE
				    : AMEND_SCAN_NOTHING;
}

/* What only the table scan can tell. zstd is allowed when no cluster is
 * compressed (v2 then needs no compression type), as QEMU 7.2+ allows. */
static enum amend_status check_scan_gates(const struct qcow2_header *h,
					  uint32_t target,
					  const struct amend_scan *scan)
{
	if (scan == NULL || !scan->done)
		return AMEND_ERR_SCAN_REQUIRED;
	if (!is_downgrade(h, target))
		return h->version == 2 && target == 3 &&
				       scan->snapshot_extra_short
			       ? AMEND_ERR_SNAPSHOT_UPGRADE
			       : AMEND_CHANGED;
	if (scan->zero_clusters && !scan->zero_tables_listed)
		return AMEND_ERR_ZERO_CLUSTERS;
	if ((h->incompat & QCOW2_INCOMPAT_COMPRESSION) &&
	    scan->compressed_clusters)
		return AMEND_ERR_DOWNGRADE_FEATURE;
	if (scan->snapshot_size_differs)
		return AMEND_ERR_SNAPSHOT_SIZE;
	return AMEND_CHANGED;
}

enum amend_scan_reach amend_scan_reach(const uint8_t *cluster, size_t len,
				       const struct amend_request *req)
{
	struct qcow2_header h;
	uint32_t target;

	if (cluster == NULL || req == NULL || !request_valid(req))
		return AMEND_SCAN_NOTHING;
	if (qcow2_parse(cluster, len, &h) != QCOW2_OK)
		return AMEND_SCAN_NOTHING;
	target = req->compat == AMEND_COMPAT_KEEP ? h.version : req->compat;
	if (check_gates(cluster, &h, req) != AMEND_CHANGED)
		return AMEND_SCAN_NOTHING;
	return reach_of(&h, target);
}

bool amend_needs_scan(const uint8_t *cluster, size_t len,
		      const struct amend_request *req)
{
	return amend_scan_reach(cluster, len, req) != AMEND_SCAN_NOTHING;
}

bool amend_scan_may_refuse(const uint8_t *cluster, size_t len,
			   const struct amend_request *req,
			   enum amend_status status)
{
	struct qcow2_header h;
	enum amend_scan_reach reach = amend_scan_reach(cluster, len, req);

	if (reach == AMEND_SCAN_NOTHING ||
	    qcow2_parse(cluster, len, &h) != QCOW2_OK)
		return false;
	switch (status) {
	case AMEND_ERR_TABLES:
		return true;
	case AMEND_ERR_SNAPSHOT_UPGRADE:
		return h.version == 2 && req->compat == AMEND_COMPAT_V3;
	case AMEND_ERR_ZERO_CLUSTERS:
	case AMEND_ERR_DOWNGRADE_FEATURE:   /* compressed zstd clusters */
	case AMEND_ERR_SNAPSHOT_SIZE:
		return reach == AMEND_SCAN_ALL_TABLES;
	default:
		return false;
	}
}

/* How much of the cluster the rewrite has to cover: the old header's
 * used bytes (fields, extensions, end marker, backing name) plus room for
 * what a rewrite can add (v3 fields and the feature-name table: under
 * 512 bytes), rounded to a sector. QEMU also zeroes the rest of the
 * cluster; every reader ignores those bytes, and in images QEMU wrote
 * they are zero already, so leaving them keeps the patch set small and
 * the guest fast (it pays per byte touched). */
#define AMEND_REWRITE_SLACK 1024u

static size_t work_length(const struct qcow2_header *h, size_t len)
{
	uint64_t used = h->ext_end;
	uint64_t w;

	if (h->backing_offset != 0 &&
	    h->backing_offset + h->backing_size > used)
		used = h->backing_offset + h->backing_size;
	w = (used + AMEND_REWRITE_SLACK + 511u) & ~(uint64_t)511u;
	return w < len ? (size_t)w : len;
}

static void plan_reset(struct amend_plan *plan)
{
	plan->status = AMEND_ERR_PARSE;
	plan->result_version = 0;
	plan->result_lazy = false;
	plan->n_patches = 0;
	plan->patch_bytes = 0;
	plan->out_len = 0;
	for (uint32_t i = 0; i < AMEND_MAX_PATCHES; i++) {
		plan->patches[i].offset = 0;
		plan->patches[i].length = 0;
	}
}

static enum amend_status finish(struct amend_plan *plan, enum amend_status s)
{
	plan->status = s;
	return s;
}

/* Build the new header cluster in out_cluster (as far as the rewrite
 * reaches) and list the ranges that differ from `cluster`. */
static enum amend_status rewrite(const uint8_t *cluster, size_t len,
				 const struct qcow2_header *h, struct target t,
				 uint8_t *out_cluster, struct amend_plan *plan)
{
	struct qcow2_header n;
	struct amend_layout lay;
	enum qcow2_err e;
	size_t work;

	new_header(h, t, &n);
	if (!amend_layout_build(cluster, h, &n, &lay))
		return AMEND_ERR_OVERFLOW;
	work = work_length(h, len);
	e = qcow2_serialise(&n, &lay.layout, out_cluster, work);
	if (e == QCOW2_ERR_NO_SPACE && work < len) {
		work = len;
		e = qcow2_serialise(&n, &lay.layout, out_cluster, work);
	}
	/* (That it fits the cluster was a gate: target_fits().) */
	if (e != QCOW2_OK)
		return AMEND_ERR_OVERFLOW;
	/* Past `work` the new cluster is the old one: out_cluster is not
	 * written there (see amend_plan.h). */
	plan->out_len = (uint32_t)work;
	if (!amend_diff(cluster, out_cluster, work, plan))
		return AMEND_ERR_OVERFLOW;
	return plan->n_patches == 0 ? AMEND_NOOP : AMEND_CHANGED;
}

enum amend_status amend_plan(const uint8_t *cluster, size_t len,
			     const struct amend_request *req,
			     uint8_t *out_cluster, struct amend_plan *plan)
{
	return amend_plan_scanned(cluster, len, req, NULL, out_cluster, plan);
}

enum amend_status amend_plan_scanned(const uint8_t *cluster, size_t len,
				     const struct amend_request *req,
				     const struct amend_scan *scan,
				     uint8_t *out_cluster,
				     struct amend_plan *plan)
{
	struct qcow2_header h;
	struct target t;
	enum qcow2_err e;
	enum amend_status s;

	if (plan == NULL)
		return AMEND_ERR_BAD_REQUEST;
	plan_reset(plan);
	if (cluster == NULL || out_cluster == NULL || req == NULL)
		return finish(plan, AMEND_ERR_BAD_REQUEST);
	if (!request_valid(req))
		return finish(plan, AMEND_ERR_BAD_REQUEST);

	e = qcow2_parse(cluster, len, &h);
	if (e != QCOW2_OK)
		return finish(plan, map_parse_error(e));
	if (len != qcow2_cluster_size(&h))
		return finish(plan, AMEND_ERR_SCRATCH);

	t = target_of(&h, req);
	s = check_gates(cluster, &h, req);
	if (s == AMEND_CHANGED && reach_of(&h, t.version) != AMEND_SCAN_NOTHING)
		s = check_scan_gates(&h, t.version, scan);
	if (s != AMEND_CHANGED)
		return finish(plan, s);

	plan->result_version = t.version;
	plan->result_lazy = t.lazy;
	if (!changes(&h, t))
		return finish(plan, AMEND_NOOP);
	return finish(plan, rewrite(cluster, len, &h, t, out_cluster, plan));
}
