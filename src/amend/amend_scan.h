/*
 * amend_scan.h — what a compat change has to know beyond the header
 * cluster. For a compat=0.10 downgrade: whether any L2 entry (of the
 * active L1 table or of any internal snapshot's) carries the v3-only zero
 * flag, whether any cluster is compressed, and whether every snapshot has
 * the image's current virtual size (v2 can represent none of the first
 * and last; a header-only downgrade would leave an image QEMU calls
 * corrupt). For a compat=1.1 upgrade of an image with snapshots: whether
 * every snapshot carries the extra data v3 requires.
 *
 * The walk itself is src/qcow2's (qcow2_snapshot_walk, qcow2_walk_l2):
 * batched reads, each distinct L2 table read once. This file holds only
 * the amend rules over what it finds.
 *
 * Trust: every table is hostile (the walkers check them); this adds the
 * amend-specific bounds (snapshot L1 sizes). Pure except for the batched
 * read callback the caller supplies (virtio-blk in the guest, memory in
 * tests and fuzzers). Freestanding.
 */
#ifndef INSTAR_AMEND_SCAN_H
#define INSTAR_AMEND_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/amend/amend_status.h"
#include "src/qcow2/qcow2_header.h"
#include "src/qcow2/qcow2_snapshot.h"
#include "src/qcow2/qcow2_walk.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a scan reads (amend_scan_reach() in amend_plan.h says which a
 * request needs). QEMU reads the snapshot table whenever it opens an
 * image and refuses a malformed one, whatever the request; a downgrade
 * also needs every L1/L2 table. */
enum amend_scan_reach {
	AMEND_SCAN_NOTHING = 0,
	AMEND_SCAN_SNAPSHOT_TABLE,  /* the snapshot table only */
	AMEND_SCAN_ALL_TABLES,      /* it, and the active and every snapshot's
				     * L1/L2 tables (version 3 images) */
};

/* Where a downgrade's scan names each L2 table that holds a zero entry
 * (the guest: a report record each). Returns false to stop the scan
 * (AMEND_ERR_SCAN_IO). */
struct amend_zero_sink {
	bool (*put)(void *ctx, uint64_t l2_offset);
	void *ctx;
};

struct amend_scan {
	bool done;                 /* the scan ran to completion */
	bool zero_clusters;        /* an L2 entry has the zero flag */
	bool zero_tables_listed;   /* every table with one was given to the
				    * sink (the downgrade expands them) */
	bool compressed_clusters;  /* an L2 entry is compressed */
	bool snapshot_size_differs;/* a snapshot's disk size != image size */
	bool snapshot_extra_short; /* a snapshot lacks the 16 bytes of extra
				    * data (sizes) that version 3 requires */
	uint32_t l1_tables;        /* tables walked (active + snapshots) */
	uint32_t l2_tables;        /* distinct L2 tables read */
	uint32_t rounds;           /* walk rounds (1 unless memory ran short) */
	uint32_t batches;          /* batched read calls */
	bool io_error;             /* the read callback failed */
	struct qcow2_walk_stats walk; /* the walk's counters, live while it
				    * runs (the guest's progress display) */
};

/* Least work memory amend_scan_tables() accepts for clusters of
 * `cluster_size` bytes: a window for the largest snapshot entry, and the
 * walker's read buffer and offset set for one cluster. */
size_t amend_scan_min_mem(uint32_t cluster_size);

/* Scan the tables of the image whose (parsed) header is `h`, as far as
 * `reach` says: the snapshot table (if there are snapshots), and for
 * AMEND_SCAN_ALL_TABLES on a version 3 image also the active and every
 * snapshot's L1/L2 tables. The file is `file_bytes` long.
 * `mem` (mem_len bytes, 8-byte aligned, at least amend_scan_min_mem())
 * is work memory. Returns AMEND_CHANGED when the walk completed (results
 * in *out), AMEND_ERR_TABLES for malformed tables, AMEND_ERR_SCAN_IO
 * when a read failed. Without a sink it stops early at the first zero
 * flag (that alone decides a downgrade that cannot expand them); with
 * one (amend_scan_tables_zeros) it walks on and names every table that
 * holds a zero entry, and sets zero_tables_listed. */
enum amend_status amend_scan_tables(const struct qcow2_header *h,
				    enum amend_scan_reach reach,
				    uint64_t file_bytes,
				    const struct qcow2_io *io, uint8_t *mem,
				    size_t mem_len, struct amend_scan *out);

enum amend_status amend_scan_tables_zeros(const struct qcow2_header *h,
					  enum amend_scan_reach reach,
					  uint64_t file_bytes,
					  const struct qcow2_io *io,
					  uint8_t *mem, size_t mem_len,
					  const struct amend_zero_sink *sink,
					  struct amend_scan *out);

/* Check one L2 table (`len` bytes of 8-byte entries); true if it holds
 * a zero-flagged entry. Pure. */
bool amend_scan_l2(const uint8_t *l2, size_t len, struct amend_scan *out);

#ifdef __cplusplus
}
#endif

#endif
