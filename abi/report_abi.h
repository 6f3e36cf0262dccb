/*
 * report_abi.h — the records in which the inspection programs (info,
 * check) hand what they found to the host, through the report region
 * (guest_abi.h: guest_params.report_gpa, GUEST_DOORBELL_FLUSH). Part of
 * the guest/host contract beside guest_abi.h; self-contained like it:
 * it includes nothing but <stdint.h>.
 *
 * (amend writes one kind of record here too: report_zero_table.)
 *
 * A report is a stream of records, each a struct report_hdr and a body,
 * 8-byte aligned, `len` bytes in all (header included). Strings are raw
 * bytes from the image, counted, not NUL-terminated, and follow the
 * record's fixed part. The stream ends with one REPORT_T_END record that
 * counts the records before it.
 *
 * Trust: the host trusts nothing here. src/image/report_parse.c checks
 * every record (type, length, every count and string length against its
 * bound, the END record's counts) before anything is printed; the guest
 * only ever writes these records.
 */
#ifndef INSTAR_REPORT_ABI_H
#define INSTAR_REPORT_ABI_H

#include <stdint.h>

/* Unsigned constants, written so that test tools can read them too
 * (tests/tools/guest_abi.py reads this header as it reads guest_abi.h). */
#define REPORT_U(x) x##U

#define REPORT_ALIGN        REPORT_U(8)
#define REPORT_MAX_RECORD   REPORT_U(0x30000) /* the longest record there
					 * can be: a snapshot with a 64 KiB
					 * id and a 64 KiB name */
#define REPORT_MAX_STRING   REPORT_U(0xffff)  /* a name is at most 65535 bytes */

struct report_hdr {
	uint32_t type;             /* REPORT_T_* */
	uint32_t len;              /* the whole record, a multiple of 8 */
};

enum report_type {
	REPORT_T_OPEN_ERROR = 1,   /* struct report_message: the open failed */
	REPORT_T_IMAGE = 2,        /* struct report_image */
	REPORT_T_NAME = 3,         /* struct report_name + bytes */
	REPORT_T_SNAPSHOT = 4,     /* struct report_snapshot + id + name */
	REPORT_T_BITMAP = 5,       /* struct report_bitmap + name */
	REPORT_T_FINDING = 6,      /* struct report_finding */
	REPORT_T_CHECK = 7,        /* struct report_check: check's totals */
	REPORT_T_END = 8,          /* struct report_end */
	REPORT_T_WARNING = 9,      /* struct report_message: QEMU warns, goes on */
	REPORT_T_ZERO_TABLE = 10,  /* struct report_zero_table (amend) */
	REPORT_T_COUNT_
};

/* What QEMU would say while opening the image: `code` is one of enum
 * qcow2_open_msg (src/qcow2/qcow2_open.h), args the numbers and `str`
 * the text from the image that its message names (the unknown feature
 * bits, a bitmap's name, the feature names of the feature table). After
 * an OPEN_ERROR nothing but the END record follows; a WARNING is printed
 * and the command goes on. */
struct report_message {
	struct report_hdr hdr;
	uint32_t code;
	uint32_t n_args;           /* <= 3 */
	uint64_t arg[3];
	uint32_t str_len;          /* bytes that follow */
	uint32_t reserved;         /* 0 */
};

/* The header's facts, as the guest parsed them. */
struct report_image {
	struct report_hdr hdr;
	uint32_t version;          /* 2 or 3 */
	uint32_t cluster_bits;
	uint64_t size;             /* virtual size, bytes */
	uint64_t incompat;
	uint64_t compat;
	uint64_t autoclear;
	uint32_t refcount_order;
	uint32_t compression_type;
	uint32_t crypt_method;
	uint32_t nb_snapshots;     /* SNAPSHOT records that follow */
	uint32_t nb_bitmaps;       /* BITMAP records that follow */
	uint32_t flags;            /* REPORT_IMAGE_* */
};
/* The bitmaps are listed (QEMU lists them only when the autoclear bit
 * says the extension is consistent). */
#define REPORT_IMAGE_BITMAPS_LISTED  REPORT_U(1)

/* Which name a REPORT_T_NAME record carries. */
enum report_name_kind {
	REPORT_NAME_BACKING_FILE = 1,
	REPORT_NAME_BACKING_FORMAT = 2,
	REPORT_NAME_DATA_FILE = 3,
};

struct report_name {
	struct report_hdr hdr;
	uint32_t kind;             /* enum report_name_kind */
	uint32_t len;              /* bytes that follow */
};

struct report_snapshot {
	struct report_hdr hdr;
	uint64_t vm_state_size;
	uint64_t vm_clock_nsec;
	uint64_t icount;           /* UINT64_MAX when the entry has none */
	uint32_t date_sec;
	uint32_t date_nsec;
	uint32_t id_len;           /* bytes of the id, then of the name */
	uint32_t name_len;
};

struct report_bitmap {
	struct report_hdr hdr;
	uint32_t flags;            /* the directory entry's flags word */
	uint32_t granularity_bits;
	uint32_t name_len;
	uint32_t reserved;         /* 0 */
};

/* One thing `check` found, in the order found: `code` is one of enum
 * qcow2_finding (src/qcow2/qcow2_check.h), args the numbers its message
 * prints; a finding about a snapshot carries its id and name (the bytes
 * that follow). */
struct report_finding {
	struct report_hdr hdr;
	uint32_t code;
	uint32_t n_args;           /* <= 4 */
	uint64_t arg[4];
	uint32_t id_len;
	uint32_t name_len;
};

/* check's totals, once, after the last finding. */
struct report_check {
	struct report_hdr hdr;
	uint64_t corruptions;
	uint64_t leaks;
	uint64_t check_errors;
	uint64_t allocated_clusters;
	uint64_t total_clusters;
	uint64_t fragmented_clusters;
	uint64_t compressed_clusters;
	uint64_t image_end_offset;
	uint32_t flags;            /* REPORT_CHECK_* */
	uint32_t failed_errno;     /* a step failed the check: its errno (0:
				    * the check ran to its end) */
};
#define REPORT_CHECK_ABORTED     REPORT_U(1)  /* 5.2's assertion ended it */
#define REPORT_CHECK_FLAGS_KNOWN REPORT_U(1)

/* amend's report, for a compat=0.10 downgrade of an image with zero
 * clusters: one record per distinct L2 table that holds a zero-flagged
 * entry, then END. The host reads and rewrites those tables itself, by
 * rules it checks against its own reading of the image
 * (src/image/expand.h); this only says where to look. */
struct report_zero_table {
	struct report_hdr hdr;
	uint64_t l2_offset;
};

/* The last record: how many records of each kind came before it, so the
 * host can tell a complete report from a cut one. */
struct report_end {
	struct report_hdr hdr;
	uint64_t records;          /* records before this one */
	uint64_t findings;         /* of which REPORT_T_FINDING */
};

#endif /* INSTAR_REPORT_ABI_H */
