/*
 * qcow2_walk.h — walk a qcow2 image's L1/L2 tables: every L1 table named
 * (the active one and each internal snapshot's), every L2 table they
 * reference, each distinct L2 table read once however many L1 entries
 * share it, and read in batches (many tables per read call) in file
 * order. What to do with each table is the caller's visitor: the
 * downgrade scan of `amend` (src/amend/amend_scan.c) and, later, `check`
 * and `info` share this one walker.
 *
 * Trust: every table is hostile. Each L1 entry's L2 offset is checked
 * (cluster-aligned, past the header cluster, inside the file) before it
 * is read; every size is overflow-checked; the number of L2 reads is
 * bounded. Pure but for the batched read callback the caller supplies
 * (virtio-blk in the guest, memory in tests and fuzzers). Freestanding.
 */
#ifndef INSTAR_QCOW2_WALK_H
#define INSTAR_QCOW2_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One read of `len` bytes (a multiple of 512) at file offset `offset`
 * (a multiple of 512) into `buf`. */
struct qcow2_read {
	uint64_t offset;
	uint8_t *buf;
	uint32_t len;
};

/* Do every read of the batch; false on any I/O error. The reader must
 * return zeroes for the bytes of the last sector past the end of the
 * file. n is at most the batch size the caller promised (below). */
typedef bool (*qcow2_read_batch_fn)(void *ctx, const struct qcow2_read *r,
				    uint32_t n);

struct qcow2_io {
	qcow2_read_batch_fn read;
	void *ctx;
	uint32_t max_batch;      /* most reads one call may take (>= 1) */
};

/* An L1 table to walk. */
struct qcow2_l1_table {
	uint64_t offset;
	uint32_t entries;
};

enum qcow2_walk_err {
	QCOW2_WALK_OK = 0,
	QCOW2_WALK_STOPPED,      /* the visitor asked to stop */
	QCOW2_WALK_TABLES,       /* an L1 table or entry is malformed */
	QCOW2_WALK_IO,           /* a read failed */
	QCOW2_WALK_LIMIT,        /* more L2 reads than QCOW2_WALK_MAX_L2_READS */
	QCOW2_WALK_MEMORY,       /* the work memory is too small for one cluster */
};

/* Most L2 tables one walk reads (a hostile image cannot make it loop
 * longer): 64 Mi tables, 32 PiB of 64 KiB-cluster image or 2 TiB of
 * 512-byte-cluster image; the caller's time budget ends a walk long
 * before that. */
#define QCOW2_WALK_MAX_L2_READS (1u << 26)

/* Called once per distinct L2 table, in file order, with its bytes and
 * the number of L1 entries (over all tables walked) that point at it.
 * Return false to stop the walk (QCOW2_WALK_STOPPED). */
typedef bool (*qcow2_l2_visit_fn)(void *ctx, uint64_t l2_offset,
				  const uint8_t *l2, uint32_t len,
				  uint32_t refs);

struct qcow2_walk_stats {
	uint32_t l1_tables;      /* L1 tables walked */
	uint64_t l1_entries;     /* non-zero L1 entries seen */
	uint32_t l2_tables;      /* distinct L2 tables read */
	uint32_t rounds;         /* collect/read rounds (> 1: the work memory
				  * could not hold every L2 offset at once) */
	uint32_t batches;        /* read calls made */
	uint64_t l1_entries_done;/* of l1_entries, those whose L2 table has
				  * been read: live while the walk runs,
				  * for a progress display */
};

/* Walk the `n` L1 tables of an image with clusters of `cluster_size`
 * bytes whose file is `file_bytes` long. `mem` (mem_len bytes, 8-byte
 * aligned) is work memory: the walker splits it into read buffers for up
 * to io->max_batch clusters and a set of L2 offsets; more memory means
 * fewer rounds (each round reads the L1 tables again and the L2 tables it
 * collected, so an L2 table shared across rounds is read once per
 * round). */
enum qcow2_walk_err qcow2_walk_l2(const struct qcow2_l1_table *tables,
				  uint32_t n, uint32_t cluster_size,
				  uint64_t file_bytes, const struct qcow2_io *io,
				  uint8_t *mem, size_t mem_len,
				  qcow2_l2_visit_fn visit, void *visit_ctx,
				  struct qcow2_walk_stats *stats);

/* The ordered walk (check's): one L1 table's entries in index order,
 * and for each the L2 table the caller wants read, read in batches but
 * visited in order, each as often as an entry names it. Reads go through
 * qcow2_qread (zeros past the end of the file); the caller has taken the
 * verdict of QEMU's read of the whole L1 table already. */
struct qcow2_qread;

/* Which L2 table entry `e` names: true and *l2 (512-aligned) to have it
 * read; false for none. Pure: no finding may be made here. */
typedef bool (*qcow2_l1_want_fn)(void *ctx, uint64_t e, uint64_t *l2);

/* Entry `index` (value e) and its L2 table (NULL if none was wanted);
 * false stops the walk (QCOW2_WALK_STOPPED). */
typedef bool (*qcow2_l1_visit_fn)(void *ctx, uint32_t index, uint64_t e,
				  const uint8_t *l2);

struct qcow2_ordered_walk {
	uint64_t l1_offset;
	uint32_t l1_entries;
	uint32_t cluster_size;
	const struct qcow2_qread *q;
	uint8_t *l1buf;          /* l1buf_len bytes (a multiple of 512) */
	uint32_t l1buf_len;
	uint8_t *bufs;           /* batch x cluster_size bytes */
	uint32_t batch;          /* 1 .. 64 */
	qcow2_l1_want_fn want;
	qcow2_l1_visit_fn visit;
	void *ctx;
};

enum qcow2_walk_err qcow2_walk_ordered(const struct qcow2_ordered_walk *w);

/* Sort `v[0..n)` ascending (in place, no allocation: heapsort). */
void qcow2_sort_u64(uint64_t *v, size_t n);

#ifdef __cplusplus
}
#endif

#endif
