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

/* The gates of the spec, in the order the spec's table gives them.
 * Those that need the tables (zero clusters, compressed clusters,
 * snapshot sizes) are in check_scan_gates(). */
static enum amend_status check_gates(const struct qcow2_header *h,
				     const struct amend_request *req,
				     uint32_t target_version)
{
	if (h->incompat & QCOW2_INCOMPAT_DIRTY)
		return AMEND_ERR_DIRTY;
	if (h->incompat & QCOW2_INCOMPAT_CORRUPT)
		return AMEND_ERR_CORRUPT;
	if (h->crypt_method != QCOW2_CRYPT_NONE)
		return AMEND_ERR_ENCRYPTED;
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
	return AMEND_CHANGED;
}

static bool is_downgrade(const struct qcow2_header *h, uint32_t target)
{
	return h->version == 3 && target == 2;
}

/* An upgrade must know every snapshot carries version 3's extra data. */
static bool is_snapshot_upgrade(const struct qcow2_header *h, uint32_t target)
{
	return h->version == 2 && target == 3 && h->nb_snapshots != 0;
}

/* What only the table scan can tell. zstd is allowed when no cluster is
 * compressed (v2 then needs no compression type), as QEMU 7.2+ allows. */
static enum amend_status check_scan_gates(const struct qcow2_header *h,
					  const struct amend_scan *scan)
{
	if (scan == NULL || !scan->done)
		return AMEND_ERR_SCAN_REQUIRED;
	if (h->version == 2)
		return scan->snapshot_extra_short ? AMEND_ERR_SNAPSHOT_UPGRADE
						  : AMEND_CHANGED;
	if (scan->zero_clusters)
		return AMEND_ERR_ZERO_CLUSTERS;
	if ((h->incompat & QCOW2_INCOMPAT_COMPRESSION) &&
	    scan->compressed_clusters)
		return AMEND_ERR_DOWNGRADE_FEATURE;
	if (scan->snapshot_size_differs)
		return AMEND_ERR_SNAPSHOT_SIZE;
	return AMEND_CHANGED;
}

bool amend_needs_scan(const uint8_t *cluster, size_t len,
		      const struct amend_request *req)
{
	struct qcow2_header h;
	uint32_t target;

	if (cluster == NULL || req == NULL || !request_valid(req))
		return false;
	if (qcow2_parse(cluster, len, &h) != QCOW2_OK)
		return false;
	target = req->compat == AMEND_COMPAT_KEEP ? h.version : req->compat;
	return (is_downgrade(&h, target) || is_snapshot_upgrade(&h, target)) &&
	       check_gates(&h, req, target) == AMEND_CHANGED;
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
	struct qcow2_header h, n;
	struct amend_layout lay;
	enum qcow2_err e;
	enum amend_status s;
	size_t work;
	uint32_t target_version;
	bool cur_lazy, target_lazy;

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

	target_version = req->compat == AMEND_COMPAT_KEEP ? h.version
							  : req->compat;
	s = check_gates(&h, req, target_version);
	if (s == AMEND_CHANGED && (is_downgrade(&h, target_version) ||
				   is_snapshot_upgrade(&h, target_version)))
		s = check_scan_gates(&h, scan);
	if (s != AMEND_CHANGED)
		return finish(plan, s);

	cur_lazy = (h.compat & QCOW2_COMPAT_LAZY_REFCOUNTS) != 0;
	if (req->lazy == AMEND_LAZY_ON)
		target_lazy = true;
	else if (req->lazy == AMEND_LAZY_OFF)
		target_lazy = false;
	else
		target_lazy = target_version == 3 ? cur_lazy : false;
	/* A v2 image has no lazy refcounts to switch off. */
	if (target_version == 2)
		target_lazy = false;

	plan->result_version = target_version;
	plan->result_lazy = target_lazy;
	if (target_version == h.version && target_lazy == cur_lazy)
		return finish(plan, AMEND_NOOP);

	/* The new header: what changes, and what QEMU's writer normalises. */
	n = h;
	n.version = target_version;
	if (target_version == 3) {
		if (h.version == 2) {
			n.incompat = 0;
			n.compat = 0;
			n.autoclear = 0;
			n.refcount_order = 4;
			n.compression_type = QCOW2_COMPRESSION_ZLIB;
		}
		if (target_lazy)
			n.compat |= QCOW2_COMPAT_LAZY_REFCOUNTS;
		else
			n.compat &= ~QCOW2_COMPAT_LAZY_REFCOUNTS;
		/* A writer must clear the autoclear bits it does not know. */
		n.autoclear &= QCOW2_AUTOCLEAR_KNOWN;
	} else {
		n.incompat = 0;
		n.compat = 0;
		n.autoclear = 0;
		/* v2 has no compression type: only zlib exists there. */
		n.compression_type = QCOW2_COMPRESSION_ZLIB;
	}

	if (!amend_layout_build(cluster, &h, &n, &lay))
		return finish(plan, AMEND_ERR_OVERFLOW);
	work = work_length(&h, len);
	e = qcow2_serialise(&n, &lay.layout, out_cluster, work);
	if (e == QCOW2_ERR_NO_SPACE && work < len) {
		work = len;
		e = qcow2_serialise(&n, &lay.layout, out_cluster, work);
	}
	if (e == QCOW2_ERR_NO_SPACE)
		return finish(plan, AMEND_ERR_RELOCATION);
	if (e != QCOW2_OK)
		return finish(plan, AMEND_ERR_OVERFLOW);
	/* Past `work` the new cluster is the old one: out_cluster is not
	 * written there (see amend_plan.h). */
	plan->out_len = (uint32_t)work;

	if (!amend_diff(cluster, out_cluster, work, plan))
		return finish(plan, AMEND_ERR_OVERFLOW);
	if (plan->n_patches == 0)
		return finish(plan, AMEND_NOOP);
	return finish(plan, AMEND_CHANGED);
}
