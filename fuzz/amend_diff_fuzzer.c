/*
 * amend_diff_fuzzer.c — fuzz target 8: amend_diff (the byte-range diff
 * the planner uses for its patch list and the host validator runs over
 * the guest's staged cluster) and amend_apply.
 *
 * Input: [0] cluster size (0x80: 2 MiB, else 512 B << (bits 0-2), up to
 * 64 KiB: a 2 MiB diff costs ~20 ms under the fuzzer's comparison
 * tracing, so it is one value in 256), [1..3) big-endian length m of the old cluster's bytes, then m
 * bytes (zero-padded to the cluster), then 4-byte edits making the new
 * cluster: {be24 offset, x}; x < 0x80 XORs one byte with x|1, else sets
 * a run of 64 * (x & 0x7f) bytes from the offset to 0xff.
 *
 * Trust: both clusters are hostile (in the validator the new one comes
 * from the guest). Asserted (a violation traps): the diff succeeds; its
 * ranges are sorted, disjoint, inside the cluster, at most
 * AMEND_MAX_PATCHES, begin and end on a differing byte, and sum to
 * patch_bytes; applying them to the old cluster gives the new one; a
 * plan with too many ranges or one past the end is refused unapplied.
 */
#include <string.h>

#include "fuzz/fuzz_amend.h"
#include "fuzz/fuzz_util.h"
#include "src/amend/amend_diff.h"
#include "src/amend/amend_plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_cbuf old_bufs[FUZZ_CBUF_SIZES],
		new_bufs[FUZZ_CBUF_SIZES], copy_bufs[FUZZ_CBUF_SIZES];
	static struct amend_plan plan;
	uint8_t *old, *nw, *copy;
	size_t len, m, extent;
	uint64_t total = 0;

	if (size < 3)
		return 0;
	len = data[0] == 0x80u ? (size_t)1 << QCOW2_MAX_CLUSTER_BITS
			       : (size_t)512 << (data[0] & 7u);
	m = (size_t)data[1] << 8 | data[2];
	if (m > size - 3)
		m = size - 3;
	if (m > len)
		m = len;
	old = fuzz_cbuf_load(old_bufs, len, data + 3, m);
	nw = fuzz_cbuf_load(new_bufs, len, data + 3, m);
	copy = fuzz_cbuf_load(copy_bufs, len, data + 3, m);
	extent = m;

	for (size_t k = 3 + m; k + 4 <= size; k += 4) {
		const uint8_t *e = data + k;
		size_t off = ((size_t)e[0] << 16 | (size_t)e[1] << 8 | e[2]) % len;
		size_t end = off + 1;

		if (e[3] < 0x80u) {
			nw[off] ^= (uint8_t)(e[3] | 1u);
		} else {
			size_t run = (size_t)64u * (e[3] & 0x7fu);
			end = off + run > len ? len : off + run;
			memset(nw + off, 0xff, end - off);
		}
		fuzz_cbuf_touch(new_bufs, len, end);
		if (end > extent)
			extent = end;
	}

	memset(&plan, 0, sizeof(plan));
	FUZZ_ASSERT(amend_diff(old, nw, len, &plan));
	FUZZ_ASSERT(plan.n_patches <= AMEND_MAX_PATCHES);
	for (uint32_t i = 0; i < plan.n_patches; i++) {
		const struct amend_patch *p = &plan.patches[i];
		FUZZ_ASSERT(p->length > 0);
		FUZZ_ASSERT((uint64_t)p->offset + p->length <= len);
		FUZZ_ASSERT(old[p->offset] != nw[p->offset]);
		FUZZ_ASSERT(old[p->offset + p->length - 1u] !=
			    nw[p->offset + p->length - 1u]);
		if (i > 0)
			FUZZ_ASSERT(p->offset > plan.patches[i - 1].offset +
						plan.patches[i - 1].length);
		total += p->length;
	}
	FUZZ_ASSERT(total == plan.patch_bytes);
	FUZZ_ASSERT(amend_apply(&plan, nw, copy, len));
	fuzz_cbuf_touch(copy_bufs, len, extent);
	/* Past `extent` all three are zero. */
	FUZZ_ASSERT(memcmp(copy, nw, extent) == 0);

	/* A hostile plan (the guest reports one): too many patches, or one
	 * past the end, is refused before any byte is copied. */
	{
		static struct amend_plan bad;
		bad = plan;
		bad.n_patches = AMEND_MAX_PATCHES + 1u;
		FUZZ_ASSERT(!amend_apply(&bad, old, copy, len));
		if (plan.n_patches > 0) {
			bad = plan;
			bad.patches[bad.n_patches - 1u].length += (uint32_t)len;
			FUZZ_ASSERT(!amend_apply(&bad, old, copy, len));
		}
		FUZZ_ASSERT(memcmp(copy, nw, extent) == 0);
	}
	return 0;
}
