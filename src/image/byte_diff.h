/*
 * byte_diff.h - where two equal-length buffers first and last differ.
 * The validator and the commit compare whole header clusters (up to
 * 2 MiB) on every amend; a byte loop over 64 KiB was 9 % of the process's
 * CPU time in a profile (perf record of 300 header-only amends), so the
 * buffers are compared in blocks with memcmp and only the differing block
 * byte by byte.
 *
 * Pure functions over caller-owned memory; trusts nothing in it.
 */
#ifndef INSTAR_SANDBOX_BYTE_DIFF_H
#define INSTAR_SANDBOX_BYTE_DIFF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define BYTE_DIFF_BLOCK 256u

/* First i in [lo, hi) with a[i] != b[i]; hi when there is none. */
static inline size_t byte_first_diff(const uint8_t *a, const uint8_t *b,
				     size_t lo, size_t hi)
{
	size_t i = lo;

	while (hi - i >= BYTE_DIFF_BLOCK &&
	       memcmp(a + i, b + i, BYTE_DIFF_BLOCK) == 0)
		i += BYTE_DIFF_BLOCK;
	while (i < hi && a[i] == b[i])
		i++;
	return i;
}

/* One past the last i in [lo, hi) with a[i] != b[i]; lo when none. */
static inline size_t byte_last_diff_end(const uint8_t *a, const uint8_t *b,
					size_t lo, size_t hi)
{
	size_t j = hi;

	while (j - lo >= BYTE_DIFF_BLOCK &&
	       memcmp(a + j - BYTE_DIFF_BLOCK, b + j - BYTE_DIFF_BLOCK,
		      BYTE_DIFF_BLOCK) == 0)
		j -= BYTE_DIFF_BLOCK;
	while (j > lo && a[j - 1] == b[j - 1])
		j--;
	return j;
}

#endif
