/*
 * amend_scan.h — what a compat=0.10 downgrade has to know beyond the
 * header cluster: whether any L2 entry (of the active L1 table or of any
 * internal snapshot's) carries the v3-only zero flag, whether any cluster
 * is compressed, and whether every snapshot has the image's current
 * virtual size. Version 2 can represent none of the first and last; a
 * header-only downgrade would leave an image QEMU calls corrupt.
 *
 * Trust: every table is hostile. Offsets are checked (cluster-aligned,
 * past the header cluster, inside the file) before they are read, sizes
 * are overflow-checked, and the walk is bounded. Pure except for the
 * read callback the caller supplies (virtio-blk in the guest, an
 * in-memory buffer in tests and fuzzers). Freestanding.
 */
#ifndef INSTAR_AMEND_SCAN_H
#define INSTAR_AMEND_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/amend/amend_status.h"
#include "src/qcow2/qcow2_header.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Read `len` bytes at `offset` of the image into `buf`. `offset` and
 * `len` are multiples of 512. Returns false on an I/O error. */
typedef bool (*amend_read_fn)(void *ctx, uint64_t offset, uint8_t *buf,
			      uint32_t len);

struct amend_scan {
	bool done;                 /* the scan ran to completion */
	bool zero_clusters;        /* an L2 entry has the zero flag */
	bool compressed_clusters;  /* an L2 entry is compressed */
	bool snapshot_size_differs;/* a snapshot's disk size != image size */
	bool snapshot_extra_short; /* a snapshot lacks the 16 bytes of extra
				    * data (sizes) that version 3 requires */
	uint32_t l1_tables;        /* tables walked (active + snapshots) */
	uint32_t l2_tables;        /* L2 tables read */
	bool io_error;             /* the read callback failed */
};

/* Most L2 tables one scan reads (a hostile image cannot make it loop
 * longer): enough for every L2 table of every snapshot of a 4 TiB image
 * with 64 KiB clusters several times over. */
#define AMEND_SCAN_MAX_L2_READS (1u << 20)

/* Walk the tables of the image whose (parsed) header is `h`: for a
 * version 3 image (about to be downgraded) the active and every
 * snapshot's L1/L2 tables and the snapshot table; for a version 2 image
 * (about to be upgraded) only the snapshot table. The file is
 * `file_bytes` long; reads are rounded up to whole 512-byte sectors, and
 * the reader must return zeroes for the bytes of the last sector past
 * the end of the file. `scratch`
 * is one cluster. Returns AMEND_CHANGED when the walk completed (results
 * in *out), AMEND_ERR_TABLES for malformed tables, AMEND_ERR_SCAN_IO when
 * a read failed. Stops early at the first zero flag: that alone decides
 * the downgrade. */
enum amend_status amend_scan_tables(const struct qcow2_header *h,
				    uint64_t file_bytes, amend_read_fn read,
				    void *ctx, uint8_t *scratch,
				    struct amend_scan *out);

/* Check one L2 table (`len` bytes of 8-byte entries). Pure. */
void amend_scan_l2(const uint8_t *l2, size_t len, struct amend_scan *out);

#ifdef __cplusplus
}
#endif

#endif
