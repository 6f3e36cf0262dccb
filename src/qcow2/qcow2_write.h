/*
 * qcow2_write.h — serialise a header struct, an ordered extension list
 * and a backing file name into a fresh header cluster, laid out the way
 * QEMU's own header writer lays it out: header fields, extra header
 * bytes, extensions (each padded to 8), end marker, backing name, zeros.
 *
 * Trust: inputs come from our own planner, but every length is still
 * checked against the output buffer. Freestanding.
 */
#ifndef INSTAR_QCOW2_WRITE_H
#define INSTAR_QCOW2_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "src/qcow2/qcow2_err.h"
#include "src/qcow2/qcow2_header.h"

#ifdef __cplusplus
extern "C" {
#endif

struct qcow2_ext_out {
	uint32_t type;
	uint32_t length;
	const uint8_t *data;      /* `length` bytes; NULL only if length 0 */
};

struct qcow2_layout {
	const uint8_t *hdr_extra;  /* v3 header bytes past 112, kept as is */
	uint32_t hdr_extra_len;
	const struct qcow2_ext_out *ext;
	uint32_t n_ext;
	const uint8_t *backing;    /* backing file name, not NUL-terminated */
	uint32_t backing_len;      /* 0: no backing file */
};

/* Write the cluster. Uses from `h`: version, cluster_bits, size,
 * crypt_method, l1_*, refcount_*, snapshots, and for v3 the feature
 * words, refcount_order and compression_type. header_length, the backing
 * offset and size are computed. Returns QCOW2_ERR_NO_SPACE when the
 * result does not fit in `len` bytes. */
enum qcow2_err qcow2_serialise(const struct qcow2_header *h,
			       const struct qcow2_layout *l,
			       uint8_t *out, size_t len);

/* How many bytes qcow2_serialise() would use for h and l (with the same
 * checks; QCOW2_OK and *len set, or the error it would return for any
 * output length). Writes nothing. */
enum qcow2_err qcow2_serialised_len(const struct qcow2_header *h,
				    const struct qcow2_layout *l, size_t *len);

/* Point the backing_file_offset field of a serialised header (at least
 * QCOW2_V2_HEADER_LEN bytes at `hdr`) at `offset`, leaving every other
 * byte alone: the one 8-byte big-endian store a commit makes to move the
 * backing name. */
void qcow2_set_backing_offset(uint8_t *hdr, uint64_t offset);

#ifdef __cplusplus
}
#endif

#endif
