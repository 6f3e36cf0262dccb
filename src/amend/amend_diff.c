/*
 * amend_diff.c — byte-range diff of two header clusters (amend_diff.h).
 * Trust: both buffers are ours (`len` bytes each). Freestanding.
 */
#include "src/amend/amend_diff.h"

#define AMEND_MIN_MERGE_GAP 8u

/* One pass with a given merge gap; false when it needs more ranges. */
static bool diff_pass(const uint8_t *old, const uint8_t *new_bytes,
		      uint32_t len, uint32_t gap, struct amend_plan *plan)
{
	uint32_t n = 0, total = 0, i = 0;

	while (i < len) {
		uint32_t start, end, same;

		if (old[i] == new_bytes[i]) {
			i++;
			continue;
		}
		start = i;
		end = i + 1;      /* one past the last differing byte */
		same = 0;
		for (i = i + 1; i < len; i++) {
			if (old[i] != new_bytes[i]) {
				end = i + 1;
				same = 0;
			} else if (++same > gap) {
				break;
			}
		}
		if (n == AMEND_MAX_PATCHES)
			return false;
		plan->patches[n].offset = start;
		plan->patches[n].length = end - start;
		total += end - start;
		n++;
		i = end;
	}
	plan->n_patches = n;
	plan->patch_bytes = total;
	return true;
}

bool amend_diff(const uint8_t *old, const uint8_t *new_bytes, size_t len,
		struct amend_plan *plan)
{
	uint32_t gap = AMEND_MIN_MERGE_GAP;

	if (len > 0x80000000u)
		return false;
	for (;;) {
		if (diff_pass(old, new_bytes, (uint32_t)len, gap, plan))
			return true;
		/* Wider gaps always succeed eventually: with gap >= len there
		 * is at most one range. */
		if (gap >= (uint32_t)len)
			return false;
		gap *= 2;
	}
}
