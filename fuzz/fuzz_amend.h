/*
 * fuzz_amend.h — how the amend-related fuzz targets (amend_plan,
 * validate) turn input bytes into a request and a header-cluster length.
 * Small values map onto the valid request codes; 0xf0.. pass through raw
 * so out-of-range requests are tried too.
 *
 * Trust: nothing; pure helpers over bytes the caller bounds-checked.
 */
#ifndef INSTAR_FUZZ_AMEND_H
#define INSTAR_FUZZ_AMEND_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_util.h"
#include "src/amend/amend_request.h"
#include "src/qcow2/qcow2_format.h"

static inline uint32_t fuzz_map_compat(uint8_t b)
{
	static const uint32_t v[] = { AMEND_COMPAT_KEEP, AMEND_COMPAT_V2,
				      AMEND_COMPAT_V3 };
	return b < 0xf0u ? v[b % 3u] : b;
}

static inline uint32_t fuzz_map_lazy(uint8_t b)
{
	static const uint32_t v[] = { AMEND_LAZY_KEEP, AMEND_LAZY_OFF,
				      AMEND_LAZY_ON };
	return b < 0xf0u ? v[b % 3u] : b;
}

/* The header cluster's length: from its cluster_bits field when that
 * names 512 B .. 2 MiB, else the `n` input bytes rounded up to a power of
 * two in that range. */
static inline size_t fuzz_cluster_len(const uint8_t *c, size_t n)
{
	size_t len = (size_t)1 << QCOW2_MIN_CLUSTER_BITS;

	if (n >= QCOW2_OFF_CLUSTER_BITS + 4u) {
		uint32_t bits = fuzz_be32(c + QCOW2_OFF_CLUSTER_BITS);
		if (bits >= QCOW2_MIN_CLUSTER_BITS &&
		    bits <= QCOW2_MAX_CLUSTER_BITS)
			return (size_t)1 << bits;
	}
	while (len < n && len < ((size_t)1 << QCOW2_MAX_CLUSTER_BITS))
		len <<= 1;
	return len;
}

/*
 * Cluster buffers kept across runs: one block of exactly `len` bytes per
 * cluster size (so ASan still sees any access past `len`), because
 * allocating and clearing 2 MiB three times a run costs far more than the
 * code under test. A buffer is zero past its `dirty` mark; the harness
 * raises the mark over whatever it or the code under test may write.
 */
struct fuzz_cbuf {
	uint8_t *p;
	size_t dirty;
};

#define FUZZ_CBUF_SIZES (QCOW2_MAX_CLUSTER_BITS - QCOW2_MIN_CLUSTER_BITS + 1u)

static inline struct fuzz_cbuf *fuzz_cbuf_of(struct fuzz_cbuf *set, size_t len)
{
	unsigned bits = (unsigned)__builtin_ctzll((unsigned long long)len);
	struct fuzz_cbuf *b = &set[bits - QCOW2_MIN_CLUSTER_BITS];

	if (b->p == NULL) {
		b->p = calloc(1, len);
		FUZZ_ASSERT(b->p != NULL);
		b->dirty = 0;
	}
	return b;
}

/* The buffer for `len`, holding src[0, n) and zeroes after. */
static inline uint8_t *fuzz_cbuf_load(struct fuzz_cbuf *set, size_t len,
				      const uint8_t *src, size_t n)
{
	struct fuzz_cbuf *b = fuzz_cbuf_of(set, len);

	memcpy(b->p, src, n);
	if (b->dirty > n)
		memset(b->p + n, 0, b->dirty - n);
	b->dirty = n;
	return b->p;
}

/* Bytes [end, len) of the buffer may have been written. */
static inline void fuzz_cbuf_touch(struct fuzz_cbuf *set, size_t len,
				   size_t end)
{
	struct fuzz_cbuf *b = fuzz_cbuf_of(set, len);

	if (end > b->dirty)
		b->dirty = end > len ? len : end;
}

/* How far from the start the buffer may differ from zero. */
static inline size_t fuzz_cbuf_extent(struct fuzz_cbuf *set, size_t len)
{
	return fuzz_cbuf_of(set, len)->dirty;
}

#endif
