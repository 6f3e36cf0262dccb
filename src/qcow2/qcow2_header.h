/*
 * qcow2_header.h — the parsed form of a qcow2 header cluster and the
 * functions that parse, check and serialise it.
 *
 * Trust: the input buffer is hostile (it is the first cluster of an
 * untrusted image). qcow2_parse() checks every bound before it reads;
 * what it returns with QCOW2_OK is self-consistent and inside the buffer.
 * Freestanding: no libc, no allocation; the same code runs in the host's
 * pre-probe and inside the amend guest.
 */
#ifndef INSTAR_QCOW2_HEADER_H
#define INSTAR_QCOW2_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/qcow2/qcow2_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most header extensions a header cluster may carry before we refuse. */
#define QCOW2_MAX_EXTENSIONS 64u

/* One header extension, located inside the parsed buffer. */
struct qcow2_ext {
	uint32_t type;
	uint32_t length;   /* data bytes, without padding */
	uint32_t offset;   /* of the data, from the start of the cluster */
};

struct qcow2_header {
	uint32_t version;            /* 2 or 3 */
	uint64_t backing_offset;     /* 0 when there is no backing file */
	uint32_t backing_size;
	uint32_t cluster_bits;
	uint64_t size;               /* virtual disk size in bytes */
	uint32_t crypt_method;
	uint32_t l1_size;
	uint64_t l1_offset;
	uint64_t refcount_offset;
	uint32_t refcount_clusters;
	uint32_t nb_snapshots;
	uint64_t snapshots_offset;
	/* v3 fields; for v2 they hold the values v2 implies. */
	uint64_t incompat;
	uint64_t compat;
	uint64_t autoclear;
	uint32_t refcount_order;     /* v2: 4 */
	uint32_t header_length;      /* v2: 72 */
	uint8_t compression_type;    /* 0 when header_length < 105 */

	/* Where the header extensions end: offset just past the end marker,
	 * or where the chain ran into the backing name or the cluster's end
	 * without one (QEMU accepts both). */
	uint32_t ext_end;
	bool ext_end_marker;         /* the chain ends with an END entry */
	uint32_t n_ext;              /* extensions, end marker excluded */
	struct qcow2_ext ext[QCOW2_MAX_EXTENSIONS];
};

/* Parse and check a header cluster. `len` is the number of bytes present
 * (normally the cluster size; fewer makes every field past `len` an
 * error). On QCOW2_OK, *h is filled in and every offset in it that
 * points into the buffer has been bounds-checked. */
enum qcow2_err qcow2_parse(const uint8_t *buf, size_t len,
			   struct qcow2_header *h);

/* Check that the L1 table, the refcount table and the start of the
 * snapshot table of a parsed header lie inside a file of `file_bytes`
 * (QEMU cannot open an image whose tables it cannot read). */
enum qcow2_err qcow2_check_extents(const struct qcow2_header *h,
				   uint64_t file_bytes);

/* The cluster size a header announces, from its first `len` bytes alone
 * (before the header cluster itself is read): QCOW2_OK and *size, or
 * QCOW2_ERR_TRUNCATED (too short to hold cluster_bits) or
 * QCOW2_ERR_CLUSTER_BITS (outside the range qcow2_parse() accepts).
 * Nothing else of the header is checked. */
enum qcow2_err qcow2_probe_cluster_size(const uint8_t *buf, size_t len,
					uint32_t *size);

/* Find the first extension of `type`; NULL when absent. */
const struct qcow2_ext *qcow2_find_ext(const struct qcow2_header *h,
				       uint32_t type);

static inline uint32_t qcow2_cluster_size(const struct qcow2_header *h)
{
	return (uint32_t)1 << h->cluster_bits;
}

#ifdef __cplusplus
}
#endif

#endif
