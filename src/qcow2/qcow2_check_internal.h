/*
 * qcow2_check_internal.h — the state one check carries through its steps,
 * shared by the files of the check engine (internal to src/qcow2):
 *   qcow2_check.c         the steps in qemu-img's order, findings, totals
 *   qcow2_check_refs.c    the reference counters: count(), the refcount
 *                         table and blocks, the comparison, COPIED flags
 *   qcow2_check_tables.c  L1 and L2 tables (active and snapshots)
 *   qcow2_check_meta.c    the snapshot table and the bitmaps
 *
 * Trust: as qcow2_check.h. Freestanding.
 */
#ifndef INSTAR_QCOW2_CHECK_INTERNAL_H
#define INSTAR_QCOW2_CHECK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/qcow2/qcow2_check.h"
#include "src/qcow2/qcow2_qread.h"
#include "src/qcow2/qcow2_stream.h"

/* How a step ends: go on, or stop the check (a qemu-img outcome: the
 * check failed, recorded in the result), or stop the engine (our own
 * failure: QCOW2_CHECK_IO etc.). */
enum chk_step {
	CHK_GO = 0,
	CHK_FAILED,      /* res->failed_errno (or aborted) is set */
	CHK_ENGINE,      /* c->engine_err is set */
};

struct chk {
	const struct qcow2_check_input *in;
	const struct qcow2_fields *f;
	struct qcow2_check_result *res;
	qcow2_emit_fn emit;
	void *emit_ctx;
	struct qcow2_qread q;
	enum qcow2_check_err engine_err;

	uint32_t cb;                 /* cluster bits */
	uint64_t cs;                 /* cluster size */
	uint64_t file_len;           /* the file's length rounded up to 512 */
	bool extended_l2;
	bool data_file;              /* an external data file */
	uint32_t rc_bits;            /* refcount width */
	uint64_t rc_max;             /* 2^rc_bits - 1 */
	uint32_t rc_bytes;           /* bytes per counter here: 1, 2, 4, 8 */

	/* The reference counters (IMRT), the on-disk refcounts (filled by
	 * the comparison), and the bitmap of clusters whose on-disk refcount
	 * could not be read. */
	uint8_t *imrt;
	uint8_t *disk;
	uint8_t *disk_bad;
	uint64_t nb_clusters;        /* clusters of the file */
	uint64_t imrt_size;          /* counters in use: nb_clusters, or one
				      * more once a reference sticks out */
	uint64_t imrt_cap;           /* counters there is room for */

	/* Work memory. */
	uint8_t *reftable;           /* the refcount table, read once */
	uint64_t reftable_entries;
	uint8_t *bufs;               /* read buffers: batch x cluster */
	uint32_t batch;
	uint8_t *l1buf;              /* a piece of an L1 table */
	uint32_t l1buf_len;
	struct qcow2_stream meta;    /* snapshot table, bitmap directory */
	uint8_t *meta_buf;
	uint32_t meta_len;

	/* The one-time notice of an unaligned refcount block. */
	bool corrupt_notice;
	/* The refcount block the last lookup read (its reftable index). */
	uint64_t rb_cached;
	bool rb_valid;
	enum qcow2_qread_res rb_res;
	uint8_t *rb_buf;
};

/* Findings (qcow2_check.c). Return false if the engine must stop. */
bool chk_find(struct chk *c, uint32_t code, uint32_t n, uint64_t a0,
	      uint64_t a1, uint64_t a2);
bool chk_find_named(struct chk *c, uint32_t code, uint64_t a0,
		    const uint8_t *id, uint32_t id_len, const uint8_t *name,
		    uint32_t name_len);
/* Fail the check with errno e (the step's finding already made). */
enum chk_step chk_fail(struct chk *c, uint32_t e);
/* Stop the engine with our own error. */
enum chk_step chk_engine(struct chk *c, enum qcow2_check_err e);

/* The references (qcow2_check_refs.c). */
enum chk_step chk_count(struct chk *c, uint64_t offset, uint64_t size);
enum chk_step chk_reftable_entries(struct chk *c);
enum chk_step chk_compare(struct chk *c);
/* The on-disk refcount of cluster k: QCOW2_QREAD_OK with *rc, or EIO
 * (a message may have been made: the refblock notice). */
enum qcow2_qread_res chk_disk_refcount(struct chk *c, uint64_t k,
				       uint64_t *rc);
enum chk_step chk_oflag_copied(struct chk *c);
uint64_t chk_get(const struct chk *c, const uint8_t *arr, uint64_t k);
void chk_set(const struct chk *c, uint8_t *arr, uint64_t k, uint64_t v);

/* L1/L2 tables (qcow2_check_tables.c). */
enum chk_l2_type {
	CHK_L2_UNALLOCATED = 0,
	CHK_L2_NORMAL,
	CHK_L2_ZERO_PLAIN,
	CHK_L2_ZERO_ALLOC,
	CHK_L2_COMPRESSED,
};
/* What QEMU takes an L2 descriptor for (docs/check.md, "L2 entries"). */
enum chk_l2_type chk_l2_type(const struct chk *c, uint64_t e);

enum chk_step chk_l1(struct chk *c, uint64_t l1_offset, uint32_t l1_size,
		     bool stats);

/* The snapshot table and the bitmaps (qcow2_check_meta.c). */
enum chk_step chk_snapshot_table(struct chk *c, uint64_t *table_bytes);
enum chk_step chk_snapshot_l1s(struct chk *c);
enum chk_step chk_bitmaps(struct chk *c);

#endif
