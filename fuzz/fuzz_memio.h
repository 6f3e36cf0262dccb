/*
 * fuzz_memio.h — an image held in memory as the batched sector reader of
 * src/qcow2 (struct qcow2_io), for the fuzz targets that run the open and
 * the check over a whole image: whole sectors inside the image's sector
 * count, the tail of a partial last sector zeroed, as the sandbox's device
 * serves them. A read that breaks that contract is an invariant broken
 * (the shared code promises it never asks for one).
 *
 * Trust: the image is the fuzzer's input; the reads are checked here.
 */
#ifndef INSTAR_FUZZ_MEMIO_H
#define INSTAR_FUZZ_MEMIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz/fuzz_util.h"
#include "src/qcow2/qcow2_walk.h"

struct fuzz_memio {
	const uint8_t *data;
	size_t len;
	uint64_t reads;
};

static inline bool fuzz_memio_read(void *ctx, const struct qcow2_read *r,
				   uint32_t n)
{
	struct fuzz_memio *m = ctx;
	uint64_t cap = ((uint64_t)m->len + 511u) & ~(uint64_t)511u;

	FUZZ_ASSERT(n >= 1 && n <= 64);
	for (uint32_t i = 0; i < n; i++) {
		FUZZ_ASSERT(r[i].offset % 512u == 0 && r[i].len % 512u == 0);
		FUZZ_ASSERT(r[i].len != 0 && r[i].offset <= cap &&
			    r[i].len <= cap - r[i].offset);
		for (uint32_t k = 0; k < r[i].len; k++) {
			uint64_t at = r[i].offset + k;
			r[i].buf[k] = at < m->len ? m->data[at] : 0;
		}
		m->reads++;
	}
	return true;
}

static inline struct qcow2_io fuzz_memio_io(struct fuzz_memio *m)
{
	struct qcow2_io io = { fuzz_memio_read, m, 64 };

	return io;
}

#endif
