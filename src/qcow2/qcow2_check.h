/*
 * qcow2_check.h — `qemu-img check` of a qcow2 image, read-only: count
 * every cluster's references from the metadata (header, active and
 * snapshot L1/L2 tables, snapshot table, refcount table and blocks,
 * bitmaps), check each table entry on the way, compare with the refcounts
 * stored on disk, check the COPIED flags, and report each finding, in the
 * order and with the numbers qemu-img's check prints them, plus the totals
 * and statistics. What qemu-img does, step by step, and how that was
 * learned (by running each release): docs/check.md.
 *
 * The findings are codes with numbers (and, for snapshots, the id and
 * name); the words are the host's (src/cli/check_print.c).
 *
 * Trust: the image is hostile. Every table offset and size is checked
 * before it is read or used as an index; every sum is overflow-checked;
 * the counters are written only inside the memory given; reads go
 * through the caller's batched reader. Freestanding and pure but for
 * that reader and the emit callback; run in the guest, and in the fuzzer
 * over memory.
 */
#ifndef INSTAR_QCOW2_CHECK_H
#define INSTAR_QCOW2_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/qcow2/qcow2_open.h"
#include "src/qcow2/qcow2_walk.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What check prints, one code per message (docs/check.md has each with
 * its words). Arguments in the order the message prints them. */
enum qcow2_finding {
	QCOW2_F_EXCEEDS_EOF = 0,       /* offset, size */
	QCOW2_F_OVERFLOW,              /* cluster offset (two lines) */
	QCOW2_F_SNAP_TOO_MANY,         /* overhanging snapshots (two lines) */
	QCOW2_F_SNAP_OFFSET_INVALID,   /* - */
	QCOW2_F_SNAP_EXTRA_TOO_BIG,    /* entry index (two lines) */
	QCOW2_F_SNAP_TABLE_TOO_BIG,    /* overhanging snapshots (two lines) */
	QCOW2_F_SNAP_TABLE_READ,       /* errno */
	QCOW2_F_SNAP_INCOMPLETE,       /* entry index */
	QCOW2_F_SNAPS_WITH_DATA_FILE,  /* number of snapshots */
	QCOW2_F_SNAP_L1_UNALIGNED,     /* l1 offset; id, name */
	QCOW2_F_SNAP_L1_TOO_LARGE,     /* l1 size; id, name */
	QCOW2_F_L1_IO,                 /* - */
	QCOW2_F_L1_RESERVED,           /* the L1 entry */
	QCOW2_F_L2_TABLE_UNALIGNED,    /* l2 offset */
	QCOW2_F_L2_RESERVED,           /* the L2 descriptor */
	QCOW2_F_COMPRESSED_COPIED,     /* coffset */
	QCOW2_F_COMPRESSED_DATA_FILE,  /* index in its L2 table, entry */
	QCOW2_F_COMPRESSED_BITMAP,     /* index in its L2 table, entry */
	QCOW2_F_SUBCLUSTER_CORRUPT,    /* host offset */
	QCOW2_F_PREALLOC_UNALIGNED,    /* host offset */
	QCOW2_F_DATA_UNALIGNED,        /* host offset */
	QCOW2_F_UNALLOC_SUBCLUSTER,    /* - */
	QCOW2_F_BITMAP_TABLE_BAD,      /* - (prints nothing) */
	QCOW2_F_REFTABLE_RESERVED,     /* reftable index */
	QCOW2_F_REFBLOCK_UNALIGNED,    /* reftable index */
	QCOW2_F_REFBLOCK_OUTSIDE,      /* reftable index */
	QCOW2_F_REFBLOCK_REFCOUNT,     /* reftable index, references */
	QCOW2_F_IMAGE_CORRUPT_REFBLOCK,/* refblock offset, reftable index */
	QCOW2_F_CANT_GET_REFCOUNT,     /* cluster, errno */
	QCOW2_F_REFCOUNT_LOW,          /* cluster, refcount, references */
	QCOW2_F_LEAK,                  /* cluster, refcount, references */
	QCOW2_F_OFLAG_L2,              /* l1 index, l1 entry, refcount */
	QCOW2_F_OFLAG_DATA,            /* l2 entry, refcount */
	QCOW2_F_READ_ABORT,            /* - (5.2's assertion: exit 134) */
	QCOW2_F_ALLOC_FAILED,          /* - (prints nothing: the counters could
					* not grow) */
	QCOW2_F_FILE_TOO_LARGE,        /* - (prints nothing: > 2^31 - 1 clusters) */
	QCOW2_FINDING_COUNT_
};

/* Arguments each finding carries, and whether it names a snapshot (id
 * and name strings); for the host's check of the guest's report. */
uint32_t qcow2_finding_args(uint32_t code);
bool qcow2_finding_has_names(uint32_t code);

/* Which counter a finding raises. */
enum qcow2_finding_counter {
	QCOW2_COUNT_NONE = 0,
	QCOW2_COUNT_CORRUPTION,
	QCOW2_COUNT_LEAK,
	QCOW2_COUNT_CHECK_ERROR,
};
enum qcow2_finding_counter qcow2_finding_counter_of(uint32_t code);

/* errno values a check can fail with (Linux numbers, as qemu-img prints
 * their strerror). */
#define QCOW2_EIO    5u
#define QCOW2_ENOMEM 12u
#define QCOW2_EINVAL 22u
#define QCOW2_EFBIG  27u

/* The behaviour of the qemu-img release imitated (GUEST_CHECK_* bits of
 * abi/guest_abi.h carry them to the guest). */
#define QCOW2_CHECK_RESERVED_BITS  (1u << 0) /* 7.2: reserved-bit checks of
						L1, L2 and reftable entries */
#define QCOW2_CHECK_SUBCLUSTERS    (1u << 1) /* 7.2: extended-L2 bitmaps */
#define QCOW2_CHECK_EXACT_COMPRESSED (1u << 2) /* 7.2: a compressed range
						starts at its byte, not its sector */
#define QCOW2_CHECK_READ_LIMIT     (1u << 3) /* 7.2: reads past
						0x7fffffffc0000000 fail (5.2:
						aborts past INT64_MAX) */
#define QCOW2_CHECK_KNOWN          0xfu

/* One finding as the engine emits it. */
struct qcow2_finding_rec {
	uint32_t code;
	uint32_t n_args;
	uint64_t arg[4];
	const uint8_t *id;       /* snapshot findings: the id and the name */
	uint32_t id_len;
	const uint8_t *name;
	uint32_t name_len;
};

/* Return false to stop the check (the report could not be written). */
typedef bool (*qcow2_emit_fn)(void *ctx, const struct qcow2_finding_rec *f);

struct qcow2_check_result {
	uint64_t corruptions;
	uint64_t leaks;
	uint64_t check_errors;
	uint64_t total_clusters;
	uint64_t allocated_clusters;
	uint64_t fragmented_clusters;
	uint64_t compressed_clusters;
	uint64_t image_end_offset;
	uint32_t failed_errno;   /* a step failed the check (errno), else 0 */
	bool aborted;            /* QCOW2_F_READ_ABORT ended it */
};

enum qcow2_check_err {
	QCOW2_CHECK_OK = 0,      /* the check ran (it may have found or
				  * failed: see the result) */
	QCOW2_CHECK_IO,          /* the reader failed (not a qemu outcome) */
	QCOW2_CHECK_MEMORY,      /* the counter or work memory is too small */
	QCOW2_CHECK_STOPPED,     /* emit returned false */
	QCOW2_CHECK_LIMIT,       /* a walk went past its bound */
};

struct qcow2_check_input {
	const struct qcow2_opened *img; /* qcow2_open()'s result (check mode) */
	const uint8_t *header;   /* the header cluster */
	uint64_t file_bytes;     /* the file's size */
	uint32_t flags;          /* QCOW2_CHECK_* */
	const struct qcow2_io *io;  /* reads whole sectors inside the file */
	uint8_t *work;           /* work memory (8-byte aligned) */
	size_t work_len;         /* at least QCOW2_CHECK_MIN_WORK */
	uint8_t *counters;       /* the counter memory (8-byte aligned) */
	size_t counters_len;     /* qcow2_check_counter_bytes() */
	void (*progress)(void *ctx, uint32_t done_65536);  /* may be NULL */
};

/* The work memory the engine needs: the snapshot table window, the
 * refcount table (at most 8 MiB), and read buffers. */
#define QCOW2_CHECK_MIN_WORK (24u << 20)

/* The counter memory for a file of file_bytes and this cluster size and
 * refcount width: two arrays (references counted, refcounts on disk) of
 * one counter per cluster and one more, and a bitmap of the clusters
 * whose on-disk refcount could not be read. False if more than 2^31 - 1
 * clusters (qemu-img refuses those: the check then needs no counters) or
 * on overflow. */
bool qcow2_check_counter_bytes(uint64_t file_bytes, uint32_t cluster_bits,
			       uint32_t refcount_order, uint64_t *bytes);

enum qcow2_check_err qcow2_check(const struct qcow2_check_input *in,
				 qcow2_emit_fn emit, void *emit_ctx,
				 struct qcow2_check_result *res);

#ifdef __cplusplus
}
#endif

#endif
