/*
 * validate_fuzzer.c — fuzz target 5: the host's validation of what the
 * guest returned (validate_guest): the result record, the staged header
 * cluster, held against the pre-probe and the request.
 *
 * Input layout:
 *   [0] compat, [1] lazy (see fuzz_amend.h), [2] mode,
 *   [3..43) a struct guest_result (10 little-endian words),
 *   [43..45) big-endian length P, then P bytes of pre-probe cluster
 *   (zero-padded to its cluster length; it must parse, as on the host,
 *   else the input is ignored), then 3-byte edits {be16 offset, xor} of
 *   the staged cluster.
 * Mode bit 0 plays an honest guest: the planner's patches are written
 * sector-wise onto the staged copy and the record says what the planner
 * said (bit 1 then XORs the input's record into it); without bit 0 the
 * record is the input's and the staged cluster is the pre-probe.
 *
 * Trust: everything but the request is hostile. Asserted (a violation
 * traps): an honest, unedited guest is accepted with the verdict its
 * plan implies; AMENDED only for a staged cluster that is, byte for byte
 * over the whole cluster, the pre-probe with the planner's patches
 * applied (computed here separately), that parses and says the expected
 * version and lazy_refcounts, and whose write ranges lie inside the
 * cluster and rebuild it from the pre-probe; NOOP and REFUSED only when
 * nothing was staged.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "abi/guest_abi.h"
#include "fuzz/fuzz_amend.h"
#include "fuzz/fuzz_util.h"
#include "src/amend/amend_plan.h"
#include "src/amend/amend_scan.h"
#include "src/image/validate.h"
#include "src/qcow2/qcow2_format.h"
#include "src/qcow2/qcow2_header.h"

#define HDR_BYTES 45u
/* The input carries the amend part of the record (its first 40 bytes);
 * the inspection programs' fields after it stay zero, as amend leaves
 * them. */
#define REC_BYTES 40u
_Static_assert(offsetof(struct guest_result, report_len) == REC_BYTES,
	       "record layout");
#define REC_OFF 3u

static struct fuzz_cbuf pre_bufs[FUZZ_CBUF_SIZES],
	staged_bufs[FUZZ_CBUF_SIZES], scratch_bufs[FUZZ_CBUF_SIZES],
	rebuilt_bufs[FUZZ_CBUF_SIZES], expected_bufs[FUZZ_CBUF_SIZES];

static void honest_guest(const uint8_t *pre, uint8_t *staged, uint8_t *out,
			 size_t len, const struct amend_request *req,
			 struct guest_result *res, enum validate_err *expect)
{
	static struct amend_plan plan;
	struct amend_scan scan;
	enum amend_status s;
	uint32_t sectors = 0;

	memset(&scan, 0, sizeof(scan));
	scan.done = true;
	s = amend_plan_scanned(pre, len, req, &scan, out, &plan);
	memset(res, 0, sizeof(*res));
	res->magic = GUEST_ABI_MAGIC;
	res->abi_version = GUEST_ABI_VERSION;
	res->status = (uint32_t)s;
	res->result_version = plan.result_version;
	res->result_lazy = plan.result_lazy ? 1u : 0u;
	res->n_patches = plan.n_patches;
	res->patch_bytes = plan.patch_bytes;
	if (s == AMEND_CHANGED) {
		res->action = GUEST_ACTION_AMENDED;
		*expect = VALIDATE_AMENDED;
		for (uint32_t i = 0; i < plan.n_patches; i++) {
			const struct amend_patch *p = &plan.patches[i];
			size_t first = p->offset / GUEST_SECTOR_SIZE;
			size_t last = (p->offset + p->length - 1u) /
				      GUEST_SECTOR_SIZE;
			memcpy(staged + first * GUEST_SECTOR_SIZE,
			       out + first * GUEST_SECTOR_SIZE,
			       (last - first + 1u) * GUEST_SECTOR_SIZE);
			sectors += (uint32_t)(last - first + 1u);
			fuzz_cbuf_touch(staged_bufs, len,
					(last + 1u) * GUEST_SECTOR_SIZE);
		}
		res->sectors_written = sectors;
	} else if (s == AMEND_NOOP) {
		res->action = GUEST_ACTION_NOOP;
		*expect = VALIDATE_NOOP;
	} else {
		res->action = GUEST_ACTION_NONE;
		*expect = VALIDATE_REFUSED;
	}
}

/* amend_apply() wrote into the rebuilt buffer: keep its zero mark right. */
static void touch_patches(const struct amend_plan *p, size_t len)
{
	for (uint32_t i = 0; i < p->n_patches && i < AMEND_MAX_PATCHES; i++)
		fuzz_cbuf_touch(rebuilt_bufs, len,
				(size_t)p->patches[i].offset + p->patches[i].length);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct qcow2_header pre_hdr, b;
	static struct validate_output out;
	struct amend_request req;
	struct guest_result res;
	struct validate_input in;
	enum validate_err v, expect = VALIDATE_ERR_COUNT_;
	uint8_t *pre, *staged, *scratch, *rebuilt;
	size_t plen, len, edits;
	uint8_t mode;
	bool edited = false;

	if (size < HDR_BYTES)
		return 0;
	req.compat = fuzz_map_compat(data[0]);
	req.lazy = fuzz_map_lazy(data[1]);
	mode = data[2];
	plen = (size_t)data[43] << 8 | data[44];
	if (plen > size - HDR_BYTES)
		plen = size - HDR_BYTES;
	len = fuzz_cluster_len(data + HDR_BYTES, plen);
	if (plen > len)
		plen = len;
	edits = size - HDR_BYTES - plen;

	pre = fuzz_cbuf_load(pre_bufs, len, data + HDR_BYTES, plen);
	if (qcow2_parse(pre, len, &pre_hdr) != QCOW2_OK)
		return 0;   /* the host refuses before any guest runs */
	staged = fuzz_cbuf_load(staged_bufs, len, data + HDR_BYTES, plen);
	scratch = fuzz_cbuf_of(scratch_bufs, len)->p;

	if (mode & 1u) {
		honest_guest(pre, staged, scratch, len, &req, &res, &expect);
		if (mode & 2u) {
			uint8_t x[REC_BYTES];
			memcpy(x, data + REC_OFF, sizeof(x));
			for (size_t i = 0; i < sizeof(x); i++)
				edited = edited || x[i] != 0;
			uint8_t *r = (uint8_t *)&res;
			for (size_t i = 0; i < sizeof(x); i++)
				r[i] ^= x[i];
		}
	} else {
		memset(&res, 0, sizeof(res));
		memcpy(&res, data + REC_OFF, REC_BYTES);
	}
	for (size_t k = 0; k + 3 <= edits; k += 3) {
		const uint8_t *e = data + HDR_BYTES + plen + k;
		size_t off = ((size_t)e[0] << 8 | e[1]) % len;
		staged[off] ^= e[2];
		fuzz_cbuf_touch(staged_bufs, len, off + 1u);
		edited = edited || e[2] != 0;
	}

	in.pre = pre;
	in.pre_hdr = &pre_hdr;
	in.len = len;
	in.req = &req;
	in.res = &res;
	in.staged = staged;
	in.expected = fuzz_cbuf_of(expected_bufs, len)->p;
	v = validate_guest(&in, &out);
	FUZZ_ASSERT((unsigned)v < (unsigned)VALIDATE_ERR_COUNT_);

	if ((mode & 1u) && !edited)
		FUZZ_ASSERT(v == expect);

	/* Past its dirty mark each buffer is zero. */
	size_t extent = fuzz_cbuf_extent(staged_bufs, len);
	bool staged_changed = memcmp(pre, staged, extent) != 0;
	if (v == VALIDATE_NOOP || v == VALIDATE_REFUSED)
		FUZZ_ASSERT(!staged_changed);
	if (v != VALIDATE_AMENDED)
		return 0;

	/* Byte-exact acceptance: the staged cluster is the pre-probe with
	 * the host's own plan applied, in every byte of the cluster. */
	static struct amend_plan plan;
	struct amend_scan clean;
	uint32_t want_version;
	bool want_lazy;
	memset(&clean, 0, sizeof(clean));
	clean.done = true;
	FUZZ_ASSERT(staged_changed);
	FUZZ_ASSERT(amend_plan_scanned(pre, len, &req, &clean, scratch, &plan) ==
		    AMEND_CHANGED);
	rebuilt = fuzz_cbuf_load(rebuilt_bufs, len, data + HDR_BYTES, plen);
	FUZZ_ASSERT(amend_apply(&plan, scratch, rebuilt, len));
	touch_patches(&plan, len);
	FUZZ_ASSERT(memcmp(rebuilt, staged, len) == 0);
	FUZZ_ASSERT(qcow2_parse(staged, len, &b) == QCOW2_OK);
	validate_expected(&pre_hdr, &req, &want_version, &want_lazy);
	FUZZ_ASSERT(b.version == want_version);
	FUZZ_ASSERT(((b.compat & QCOW2_COMPAT_LAZY_REFCOUNTS) != 0) == want_lazy);
	FUZZ_ASSERT(out.version == want_version && out.lazy == want_lazy);
	FUZZ_ASSERT(out.ranges.n_patches >= 1 &&
		    out.ranges.n_patches <= AMEND_MAX_PATCHES);
	for (uint32_t i = 0; i < out.ranges.n_patches; i++)
		FUZZ_ASSERT((uint64_t)out.ranges.patches[i].offset +
				    out.ranges.patches[i].length <= len);
	/* The ranges the commit writes rebuild the staged cluster too. */
	rebuilt = fuzz_cbuf_load(rebuilt_bufs, len, data + HDR_BYTES, plen);
	FUZZ_ASSERT(amend_apply(&out.ranges, staged, rebuilt, len));
	touch_patches(&out.ranges, len);
	FUZZ_ASSERT(memcmp(rebuilt, staged, len) == 0);
	return 0;
}
