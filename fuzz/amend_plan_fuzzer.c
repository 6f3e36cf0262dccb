/*
 * amend_plan_fuzzer.c — fuzz target 2: the amend planner (amend_plan)
 * and patch application (amend_apply), then a re-parse of the result.
 *
 * Input: byte 0 = request compat, byte 1 = request lazy (small values map
 * onto the valid codes, the rest pass through raw so out-of-range requests
 * are tried too), byte 2 = the table scan a downgrade needs (bit 0: pass
 * one to amend_plan_scanned, else call amend_plan without; bit 1 done,
 * bit 2 zero clusters, bit 3 compressed clusters, bit 4 snapshot size
 * differs), then the header cluster. The cluster length comes from
 * the cluster_bits field (offset 20 of the cluster) when it names 512 B ..
 * 2 MiB, else from the input length rounded up to a power of two in that
 * range; the input is truncated or zero-padded to it.
 *
 * Trust: the cluster and the request are hostile. Asserted (a violation
 * traps): on AMEND_CHANGED the plan's patches lie inside out_len <= len,
 * apply succeeds, the patched cluster equals the planner's output in
 * [0, out_len) and the old cluster past it, re-parses, and says the version
 * and lazy_refcounts validate_expected() derives from the request; the plan
 * reports the same. On every other status there is no patch, so applying
 * changes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_amend.h"
#include "fuzz/fuzz_util.h"
#include "src/amend/amend_plan.h"
#include "src/amend/amend_scan.h"
#include "src/image/validate.h"
#include "src/qcow2/qcow2_format.h"
#include "src/qcow2/qcow2_header.h"

static size_t backing_name_len(const uint8_t *c, const struct qcow2_header *h)
{
	size_t n = 0;

	if (h->backing_offset == 0)
		return 0;
	while (n < h->backing_size && c[h->backing_offset + n] != 0)
		n++;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct amend_plan plan;
	static struct qcow2_header pre, post;
	static struct fuzz_cbuf cluster_bufs[FUZZ_CBUF_SIZES],
		copy_bufs[FUZZ_CBUF_SIZES], out_bufs[FUZZ_CBUF_SIZES];
	struct amend_request req;
	struct amend_scan scan;
	bool use_scan;
	enum amend_status s;
	uint8_t *cluster, *out, *copy;
	size_t n, len;

	if (size < 3)
		return 0;
	req.compat = fuzz_map_compat(data[0]);
	req.lazy = fuzz_map_lazy(data[1]);
	memset(&scan, 0, sizeof(scan));
	use_scan = (data[2] & 1u) != 0;
	scan.done = (data[2] & 2u) != 0;
	scan.zero_clusters = (data[2] & 4u) != 0;
	scan.compressed_clusters = (data[2] & 8u) != 0;
	scan.snapshot_size_differs = (data[2] & 16u) != 0;
	data += 3;
	n = size - 3;
	len = fuzz_cluster_len(data, n);
	if (n > len)
		n = len;

	cluster = fuzz_cbuf_load(cluster_bufs, len, data, n);
	copy = fuzz_cbuf_load(copy_bufs, len, data, n);
	/* Unspecified past out_len: whatever the last run left there. */
	out = fuzz_cbuf_of(out_bufs, len)->p;

	if (use_scan)
		s = amend_plan_scanned(cluster, len, &req, &scan, out, &plan);
	else
		s = amend_plan(cluster, len, &req, out, &plan);
	/* Without a scan, the planner asks for one exactly when
	 * amend_needs_scan() says a scan is needed. */
	if (!use_scan)
		FUZZ_ASSERT((s == AMEND_ERR_SCAN_REQUIRED) ==
			    amend_needs_scan(cluster, len, &req));
	FUZZ_ASSERT((unsigned)s < (unsigned)AMEND_STATUS_COUNT_);
	FUZZ_ASSERT(plan.status == s);
	FUZZ_ASSERT(plan.n_patches <= AMEND_MAX_PATCHES);

	if (s != AMEND_CHANGED) {
		FUZZ_ASSERT(plan.n_patches == 0 && plan.patch_bytes == 0);
		FUZZ_ASSERT(amend_apply(&plan, out, copy, len));
		/* Both are the input and zeroes past n (nothing was applied). */
		FUZZ_ASSERT(memcmp(copy, cluster, n) == 0);
		return 0;
	}

	/* AMEND_CHANGED: the input parsed, so the pre-probe view exists. */
	FUZZ_ASSERT(qcow2_parse(cluster, len, &pre) == QCOW2_OK);
	FUZZ_ASSERT(plan.out_len > 0 && plan.out_len <= len);
	FUZZ_ASSERT(plan.n_patches > 0);
	uint64_t total = 0;
	for (uint32_t i = 0; i < plan.n_patches; i++) {
		const struct amend_patch *p = &plan.patches[i];
		FUZZ_ASSERT(p->length > 0);
		FUZZ_ASSERT((uint64_t)p->offset + p->length <= plan.out_len);
		if (i > 0)  /* sorted and disjoint */
			FUZZ_ASSERT(p->offset >= plan.patches[i - 1].offset +
						 plan.patches[i - 1].length);
		total += p->length;
	}
	FUZZ_ASSERT(total == plan.patch_bytes);

	FUZZ_ASSERT(amend_apply(&plan, out, copy, len));
	fuzz_cbuf_touch(copy_bufs, len, plan.out_len);
	/* The patches carry every difference; past out_len (where no patch
	 * reaches) both are the input, then zeroes. */
	FUZZ_ASSERT(memcmp(copy, out, plan.out_len) == 0);
	if (n > plan.out_len)
		FUZZ_ASSERT(memcmp(copy + plan.out_len, cluster + plan.out_len,
				   n - plan.out_len) == 0);

	FUZZ_ASSERT(qcow2_parse(copy, len, &post) == QCOW2_OK);
	uint32_t want_version;
	bool want_lazy;
	validate_expected(&pre, &req, &want_version, &want_lazy);
	FUZZ_ASSERT(post.version == want_version);
	FUZZ_ASSERT(((post.compat & QCOW2_COMPAT_LAZY_REFCOUNTS) != 0) ==
		    want_lazy);
	FUZZ_ASSERT(plan.result_version == want_version);
	FUZZ_ASSERT(plan.result_lazy == want_lazy);
	/* What no amend may touch. */
	FUZZ_ASSERT(post.cluster_bits == pre.cluster_bits);
	FUZZ_ASSERT(post.size == pre.size);
	FUZZ_ASSERT(post.l1_offset == pre.l1_offset &&
		    post.l1_size == pre.l1_size);
	FUZZ_ASSERT(post.refcount_offset == pre.refcount_offset &&
		    post.refcount_clusters == pre.refcount_clusters);
	FUZZ_ASSERT(post.snapshots_offset == pre.snapshots_offset &&
		    post.nb_snapshots == pre.nb_snapshots);
	/* The backing file name reads the same (QEMU reads it as a C string:
	 * a name starting with NUL is no backing file, and a rewrite may
	 * drop it). */
	{
		size_t la = backing_name_len(cluster, &pre);
		size_t lb = backing_name_len(copy, &post);
		FUZZ_ASSERT(la == lb);
		FUZZ_ASSERT(la == 0 || memcmp(cluster + pre.backing_offset,
					      copy + post.backing_offset,
					      la) == 0);
	}

	/* Planning the result again with the same request (and a clean
	 * scan: an image with snapshots needs one for every request) is a
	 * no-op. */
	{
		struct amend_scan clean;
		memset(&clean, 0, sizeof(clean));
		clean.done = true;
		FUZZ_ASSERT(amend_plan_scanned(copy, len, &req, &clean, out,
					       &plan) == AMEND_NOOP);
	}
	return 0;
}
