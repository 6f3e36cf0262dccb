/*
 * amend_diff.c — byte-range diff of two header clusters (amend_diff.h).
 * Trust: both buffers are ours (`len` bytes each). Freestanding.
 */
#include "src/amend/amend_diff.h"

#define AMEND_MIN_MERGE_GAP 8u
/* Equal stretches are skipped a block at a time with memcmp: the guest
 * pays per instruction, and most of a 2 MiB cluster is unchanged. */
#define AMEND_SKIP_BLOCK 256u

/* Bytes from `i` that are equal in whole blocks (0 when the block at `i`
 * differs or `i` is not block-aligned). */
static uint32_t equal_run(const uint8_t *a, const uint8_t *b, uint32_t i,
			  uint32_t len)
{
	uint32_t run = 0;

	if (i % AMEND_SKIP_BLOCK != 0)
		return 0;
	while (len - i - run >= AMEND_SKIP_BLOCK &&
	       __builtin_memcmp(a + i + run, b + i + run, AMEND_SKIP_BLOCK) == 0)
		run += AMEND_SKIP_BLOCK;
	return run;
}

/* One pass with a given merge gap; false when it needs more ranges. */
static bool diff_pass(const uint8_t *old, const uint8_t *new_bytes,
		      uint32_t len, uint32_t gap, struct amend_plan *plan)
{
	uint32_t n = 0, total = 0, i = 0;

	while (i < len) {
		uint32_t start, end, same;

		if (old[i] == new_bytes[i]) {
			uint32_t run = equal_run(old, new_bytes, i, len);
			i += run ? run : 1;
			continue;
		}
		start = i;
		end = i + 1;      /* one past the last differing byte */
		same = 0;
		for (i = i + 1; i < len; i++) {
			if (old[i] != new_bytes[i]) {
				end = i + 1;
				same = 0;
				continue;
			}
			/* A whole equal block inside the gap: jump it. */
			if (gap - same > AMEND_SKIP_BLOCK) {
				uint32_t run = equal_run(old, new_bytes, i, len);
				if (run != 0 && run <= gap - same) {
					same += run;
					i += run - 1;
					continue;
				}
			}
			if (++same > gap)
				break;
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
