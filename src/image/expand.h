/*
 * expand.h — the host's side of a compat=0.10 downgrade that expands
 * zero clusters (version 2 has no zero flag). The guest walks every
 * L1/L2 table and names the L2 tables that hold zero-flagged entries;
 * it writes nothing of them. The host then decides and makes every
 * write itself, each by a rule it checks without trusting the guest
 * (SECURITY.md, "Writes beyond the header"):
 *
 *   - a named table is rewritten only if the host's own reading of the
 *     L1 tables (the active one and each snapshot's, found through the
 *     shared snapshot-table parser) references it, and it holds a zero
 *     entry (the host sorts the list and drops repeats);
 *   - only zero-flagged entries change, and each by a fixed transition
 *     that keeps what the guest sees: a plain zero entry becomes
 *     unallocated when there is no backing file, or points at a new
 *     cluster full of zeros when there is; a zero entry with a host
 *     cluster that nothing else references (its refcount is the
 *     table's) keeps that cluster, which is first filled with zeros;
 *     one whose cluster others reference too (a snapshot's data) is
 *     detached from it instead, as a plain zero entry, and the
 *     cluster's refcount is lowered afterwards (QEMU zeroes such a
 *     cluster under the snapshot); COPIED is set when the table's
 *     refcount is 1, as QEMU does;
 *   - zeros go only into clusters such an entry names, never into
 *     metadata (header, L1, L2, refcount table and blocks, snapshot
 *     table), and into the new clusters;
 *   - new clusters (and a refcount block for them where one is missing)
 *     only past the old end of the file; refcount writes only into
 *     blocks the refcount table names (entries that were 0, past the
 *     old end of file) or into the new blocks; refcount table writes
 *     only into entries that were 0, pointing at a new block.
 *
 * Order (docs/crash-consistency.md): new clusters and blocks, sync;
 * refcounts and refcount table entries, sync; zeros into the existing
 * clusters, sync; L2 entries, sync; lowered refcounts of detached
 * clusters, sync; then the header (commit.c). A crash
 * after any single write leaves an image whose content is unchanged and
 * that checks clean or with leaked clusters only.
 *
 * Pure but for the I/O callbacks: the file is reached only through
 * `struct expand_io` (pread/pwrite/fdatasync in the CLI, memory in tests
 * and the fuzzer). Every offset and size is overflow-checked. Trust: the
 * table list is the guest's, the file's bytes are hostile; the header
 * is the host's parse of its pre-probe.
 */
#ifndef INSTAR_IMAGE_EXPAND_H
#define INSTAR_IMAGE_EXPAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/qcow2/qcow2_header.h"

#ifdef __cplusplus
extern "C" {
#endif

enum expand_err {
	EXPAND_OK = 0,
	EXPAND_ERR_LIST,        /* the guest's table list: empty, too long,
				 * or a table unaligned or outside the file */
	EXPAND_ERR_NOT_REFERENCED, /* a named table no L1 table references */
	EXPAND_ERR_NO_ZERO,     /* a named table holds no zero entry */
	EXPAND_ERR_ENTRY,       /* a zero entry's cluster is unaligned or
				 * outside the file */
	EXPAND_ERR_OVERLAP,     /* a zero entry's cluster is metadata */
	EXPAND_ERR_TABLES,      /* L1/snapshot/refcount tables the host reads
				 * are malformed */
	EXPAND_ERR_REFCOUNT,    /* a table's refcount is 0, or a cluster past
				 * the end of the file has one */
	EXPAND_ERR_GROW,        /* the new clusters need what instar does not
				 * do (a larger refcount table, a block
				 * outside its own range) or cannot (a block
				 * device cannot grow) */
	EXPAND_ERR_CHANGED,     /* a table changed between the host's reads */
	EXPAND_ERR_READ,
	EXPAND_ERR_WRITE,
	EXPAND_ERR_NOMEM,
	EXPAND_ERR_COUNT_
};

/* The most tables a list may name: every L2 table of the largest image
 * QEMU opens is far fewer. */
#define EXPAND_MAX_TABLES (1u << 24)

struct expand_io {
	/* Exactly `len` bytes at `off`, all inside the file; false on error
	 * or when any of them lies past the end. */
	bool (*read)(void *ctx, uint64_t off, uint8_t *buf, size_t len);
	/* One whole 512-byte sector at `off` (a multiple of 512). */
	bool (*write)(void *ctx, uint64_t off, const uint8_t *sector);
	/* Optional (NULL: zeros are written a sector at a time): make the
	 * cluster of `len` bytes at `off` read as zeros, in one step. */
	bool (*zero)(void *ctx, uint64_t off, uint32_t len);
	bool (*sync)(void *ctx);
	void *ctx;
};

struct expand_plan {
	/* In (expand_prepare's arguments). */
	const struct qcow2_header *h;
	uint64_t file_size;
	bool can_grow;
	/* Built by expand_prepare(), freed by expand_free(). */
	uint64_t *tables;          /* the named tables, sorted */
	uint64_t *table_rc;        /* each one's refcount */
	uint64_t *table_sum;       /* a hash of its bytes as first read */
	uint32_t n_tables;
	uint64_t *targets;         /* clusters of zero entries, sorted, unique */
	uint64_t n_targets;
	uint64_t *target_rc;       /* each one's refcount, as planned */
	uint64_t *reftable;        /* the refcount table (host byte order) */
	uint32_t reftable_entries;
	/* What the expansion does. */
	uint64_t to_unallocated;   /* plain zero entries cleared */
	uint64_t to_zeroed;        /* entries whose cluster is filled with zeros */
	uint64_t to_new;           /* plain entries given a new zeroed cluster */
	uint64_t to_detached;      /* entries detached from a shared cluster */
	uint64_t new_clusters;     /* new data clusters in all */
	uint64_t *drop_off;        /* clusters whose refcount drops, sorted */
	uint64_t *drop_by;         /* by how much */
	uint64_t *drop_old;        /* from what */
	uint64_t n_drops;
	uint64_t new_blocks;       /* new refcount blocks */
	uint64_t new_end;          /* end of the file afterwards */
	uint64_t writes;           /* sector writes expand_apply() made */
	uint64_t syncs;
};

/* The largest file the expansion of an image can leave (for the write
 * bound of the seccomp filter): the old end rounded up to a cluster,
 * then one new cluster per guest cluster of the virtual size and one
 * refcount block per (cluster_size / 2) of them, plus one. Without a
 * backing file nothing is added. UINT64_MAX on overflow. */
uint64_t expand_max_end(const struct qcow2_header *h, uint64_t file_size);

/* Check the guest's list (`tables`, n of them, copied) against the file
 * and plan the expansion; nothing is written. On anything but EXPAND_OK
 * the plan holds nothing to free beyond what expand_free() frees. */
enum expand_err expand_prepare(struct expand_plan *p,
			       const struct qcow2_header *h,
			       uint64_t file_size, bool can_grow,
			       const uint64_t *tables, uint32_t n,
			       const struct expand_io *io);

/* Make the writes of a prepared plan, in the crash-safe order above.
 * The header is not touched. */
enum expand_err expand_apply(struct expand_plan *p, const struct expand_io *io);

void expand_free(struct expand_plan *p);

#ifdef __cplusplus
}
#endif

#endif
