/*
 * qcow2_open.h — what opening a qcow2 image the way qemu-img opens it
 * for `info` or `check` finds: the first refusal, in QEMU's order, with
 * the numbers and text its message names; the warnings it prints and
 * goes on; and, when it opens, the facts the two commands report (header
 * fields, the backing name and format, the data file name, the bitmaps
 * extension). The order and every condition were learned by running
 * qemu-img 5.2, 7.2, 10.0 and 11.1 on crafted images (docs/info.md,
 * "Opening").
 *
 * The messages are codes; their words are the host's
 * (src/cli/qemu_messages.c). Strings that a message or the report takes
 * from the image (feature names, bitmap names, the backing name) are
 * returned as offsets into the caller's buffers, never copied.
 *
 * Trust: every byte is hostile. The header cluster is read only inside
 * its length; the snapshot table and bitmap directory are read through
 * qcow2_qread (zeros past the end of the file, QEMU's read limits) into
 * the caller's work memory, every length bounded as QEMU bounds it.
 * Freestanding and pure but for the reader.
 */
#ifndef INSTAR_QCOW2_OPEN_H
#define INSTAR_QCOW2_OPEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/qcow2/qcow2_qread.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Everything opening can say, refusals first, then warnings. Arguments
 * in the order the message prints them. */
enum qcow2_open_msg {
	QOPEN_NOT_QCOW2 = 0,          /* - (only with -f qcow2) */
	QOPEN_VERSION,                /* version */
	QOPEN_CLUSTER_BITS,           /* cluster_bits */
	QOPEN_HEADER_SHORT,           /* - */
	QOPEN_HEADER_EXCEEDS,         /* - */
	QOPEN_BACKING_OFFSET,         /* - */
	QOPEN_COMPRESSION_UNKNOWN,    /* compression type */
	QOPEN_COMPRESSION_BIT_SET,    /* - (zlib with the bit) */
	QOPEN_COMPRESSION_BIT_CLEAR,  /* - (zstd without it) */
	QOPEN_FEATURES,               /* - ; text: the feature list */
	QOPEN_SUBCLUSTER,             /* subcluster size */
	QOPEN_REFCOUNT_ORDER,         /* - */
	QOPEN_NO_REFTABLE,            /* - */
	QOPEN_REFTABLE_TOO_LARGE,     /* - */
	QOPEN_REFTABLE_OFFSET,        /* - */
	QOPEN_SNAPTABLE_TOO_LARGE,    /* - */
	QOPEN_SNAPTABLE_OFFSET,       /* - */
	QOPEN_L1_TOO_LARGE,           /* - */
	QOPEN_L1_OFFSET,              /* - */
	QOPEN_TOO_BIG,                /* - */
	QOPEN_L1_TOO_SMALL,           /* - */
	QOPEN_L1_READ,                /* - (EIO) */
	QOPEN_CRYPT_METHOD,           /* crypt method */
	QOPEN_REFCOUNT_INIT,          /* - (EIO) */
	QOPEN_EXT_TOO_LARGE,          /* - */
	QOPEN_BACKING_FMT_LEN,        /* length */
	QOPEN_CRYPTO_NOT_LUKS,        /* - */
	QOPEN_CRYPTO_EXT_SIZE,        /* length */
	QOPEN_CRYPTO_OFFSET,          /* offset, cluster size */
	QOPEN_BITMAPS_EXT_LEN,        /* - */
	QOPEN_BITMAPS_RESERVED,       /* - */
	QOPEN_BITMAPS_TOO_MANY,       /* count */
	QOPEN_BITMAPS_ZERO,           /* - */
	QOPEN_BITMAPS_DIR_OFFSET,     /* - */
	QOPEN_BITMAPS_DIR_SIZE,       /* directory size */
	QOPEN_DATA_FILE_REQUIRED,     /* - (5.2) */
	QOPEN_DATA_FILE_RAW,          /* - (5.2) */
	QOPEN_DATA_FILE_EMPTY,        /* - (5.2) */
	QOPEN_LUKS_NO_EXT,            /* - (10.0) */
	QOPEN_BACKING_TOO_LONG,       /* - */
	QOPEN_SNAP_EXTRA,             /* entry index (+ hint) */
	QOPEN_SNAP_TOO_BIG,           /* overhanging snapshots (+ hint) */
	QOPEN_SNAP_READ,              /* - (EIO) */
	QOPEN_BM_DIR_ZERO,            /* - */
	QOPEN_BM_DIR_BROKEN,          /* - */
	QOPEN_BM_MORE,                /* - */
	QOPEN_BM_EXTRA,               /* - */
	QOPEN_BM_CONSTRAINTS,         /* - ; text: the name */
	QOPEN_BM_LESS,                /* - */
	QOPEN_BM_EXISTS,              /* - ; text: the name */
	QOPEN_BM_TABLE,               /* - ; text: the name */
	QOPEN_BM_DATA,                /* - ; text: the name */
	QOPEN_SIZE_WRAP,              /* - */
	QOPEN_BM_DIR_READ,            /* - (EIO) */
	QOPEN_READ_ABORT,             /* - (5.2's assertion on a read past INT64_MAX) */
	/* Refusals of instar's own: images qemu-img opens, or crashes on,
	 * that instar does not read (yet). */
	QOPEN_INSTAR_LUKS,            /* - : LUKS encryption */
	QOPEN_INSTAR_LUKS_NO_EXT,     /* - : where 5.2/7.2 crash */
	QOPEN_INSTAR_ENCRYPTED_CHECK, /* - : check of an encrypted image */
	QOPEN_ERROR_COUNT_,
	/* Warnings: printed, and the open goes on. */
	QWARN_BITMAPS_V3 = QOPEN_ERROR_COUNT_,
	QWARN_BITMAPS_V2,
	QOPEN_MSG_COUNT_
};

bool qcow2_open_msg_is_error(uint32_t code);
bool qcow2_open_msg_is_warning(uint32_t code);
uint32_t qcow2_open_msg_args(uint32_t code);
bool qcow2_open_msg_has_text(uint32_t code);

/* The behaviour of the qemu-img release imitated. */
#define QOPEN_B_ZSTD          (1u << 0)  /* 7.2: zstd images open */
#define QOPEN_B_READ_LIMIT    (1u << 1)  /* 7.2: QCOW2_QREAD_LIMIT */
#define QOPEN_B_DATA_FILE     (1u << 2)  /* 5.2: opens the external data file */
#define QOPEN_B_LUKS_NO_EXT   (1u << 3)  /* 10.0: refuses LUKS without its extension */
#define QOPEN_B_KNOWN         0xfu

/* How the command opens: check mode skips the snapshot table and accepts
 * an image without a refcount table. */
enum qcow2_open_mode { QOPEN_MODE_INFO = 0, QOPEN_MODE_CHECK = 1 };

/* QEMU's limits. */
#define QCOW2_OPEN_MAX_SNAPSHOTS   65536u
#define QCOW2_OPEN_MAX_BITMAPS     65535u
#define QCOW2_OPEN_MAX_L1_ENTRIES  0x400000u      /* 32 MiB of entries */
#define QCOW2_OPEN_MAX_REFTABLE    (8u << 20)     /* bytes */
#define QCOW2_OPEN_MAX_SNAP_TABLE  (64u << 20)    /* bytes */
#define QCOW2_OPEN_MAX_BM_DIR      67107840u      /* bytes */
#define QCOW2_OPEN_MAX_FEATURES_TEXT 4096u        /* the feature list */

/* The header fields as read (v2: the v3 fields as v2 implies them). */
struct qcow2_fields {
	uint32_t version;
	uint64_t backing_offset;
	uint32_t backing_size;
	uint32_t cluster_bits;
	uint64_t size;
	uint32_t crypt_method;
	uint32_t l1_size;
	uint64_t l1_offset;
	uint64_t refcount_offset;
	uint32_t refcount_clusters;
	uint32_t nb_snapshots;
	uint64_t snapshots_offset;
	uint64_t incompat;
	uint64_t compat;
	uint64_t autoclear;
	uint32_t refcount_order;
	uint32_t header_length;
	uint32_t compression_type;
};

/* Decode the fixed header fields of a buffer of at least 112 bytes (the
 * missing bytes of a short file are zeros there). No check. */
void qcow2_fields_read(const uint8_t *hdr, struct qcow2_fields *f);

/* Most warnings kept (one per bitmaps extension QEMU warns about). */
#define QCOW2_OPEN_MAX_WARNINGS 4u

/* A string inside the header cluster: bytes [off, off + len). */
struct qcow2_span {
	uint32_t off;
	uint32_t len;
};

struct qcow2_opened {
	struct qcow2_fields f;
	bool has_backing;              /* a non-empty backing name */
	struct qcow2_span backing;     /* up to its first NUL */
	bool has_backing_fmt;          /* the last backing-format extension */
	struct qcow2_span backing_fmt; /* up to its first NUL (may be empty) */
	bool has_data_file;            /* a data-file-name extension */
	struct qcow2_span data_file;   /* up to its first NUL */
	bool bitmaps;                  /* the bitmaps extension is in force */
	uint32_t nb_bitmaps;
	uint64_t bm_dir_size;
	uint64_t bm_dir_offset;
	uint32_t n_warnings;           /* QWARN_* printed while opening, in */
	uint32_t warnings[QCOW2_OPEN_MAX_WARNINGS];  /* order (also when the
					* open is then refused) */
	uint64_t snap_table_bytes;     /* info mode: the snapshot table's length */
};

/* A refusal: code, numbers, and text (feature list or bitmap name) in
 * the caller's text buffer or the work memory. */
struct qcow2_open_err {
	uint32_t code;                 /* enum qcow2_open_msg */
	uint32_t n_args;
	uint64_t arg[3];
	const uint8_t *text;
	uint32_t text_len;
};

enum qcow2_open_result {
	QCOW2_OPEN_OK = 0,             /* *o holds the image */
	QCOW2_OPEN_REFUSED,            /* *e says why, as QEMU would */
	QCOW2_OPEN_IO,                 /* our reader failed */
	QCOW2_OPEN_MEMORY,             /* work memory too small */
};

struct qcow2_open_input {
	const uint8_t *hdr;            /* the header cluster: hdr_len bytes, the
					* part past the end of a short file
					* zeroed; at least 2 MiB or the
					* cluster size, whichever is smaller,
					* and at least 112 bytes */
	size_t hdr_len;
	uint64_t file_bytes;
	enum qcow2_open_mode mode;
	uint32_t behaviour;            /* QOPEN_B_* */
	const struct qcow2_io *io;     /* for the tables past the header */
	uint8_t *work;                 /* work memory (8-byte aligned) */
	size_t work_len;               /* at least QCOW2_OPEN_MIN_WORK */
	uint8_t *text;                 /* room for a message's text */
	size_t text_cap;               /* at least QCOW2_OPEN_MAX_FEATURES_TEXT */
};

/* Work memory: a window over the snapshot table and the bitmap directory
 * (64 MiB at most, read in parts) and one bitmap table at a time. */
#define QCOW2_OPEN_MIN_WORK (4u << 20)

enum qcow2_open_result qcow2_open(const struct qcow2_open_input *in,
				  struct qcow2_opened *o,
				  struct qcow2_open_err *e);

/* One snapshot table entry, as QEMU reads it when it opens the image. */
struct qcow2_snap_info {
	uint32_t index;
	uint64_t l1_offset;
	uint32_t l1_size;
	uint32_t date_sec;
	uint32_t date_nsec;
	uint64_t vm_clock_nsec;
	uint64_t vm_state_size;        /* the extra data's, where it has one */
	uint64_t icount;               /* UINT64_MAX: none */
	uint32_t extra_size;
	const uint8_t *id;             /* valid during the visit only */
	uint32_t id_len;
	const uint8_t *name;
	uint32_t name_len;
	uint64_t end;                  /* the file offset just past the name */
};

typedef bool (*qcow2_snap_visit_fn)(void *ctx, const struct qcow2_snap_info *s);

/* Read the snapshot table as QEMU's open does (every refusal of
 * qcow2_open()'s snapshot stage), calling visit (if not NULL) for each
 * entry in order; a visit returning false ends the walk with
 * QCOW2_OPEN_IO. For info's list, after qcow2_open() accepted the image. */
enum qcow2_open_result qcow2_open_snapshots(const struct qcow2_open_input *in,
					    const struct qcow2_opened *o,
					    qcow2_snap_visit_fn visit, void *ctx,
					    struct qcow2_open_err *e);

/* Bitmap directory entries, as the open read them (for info's list):
 * call qcow2_open_bitmap_next() from *pos = 0 until it returns false. */
struct qcow2_bitmap_entry {
	uint64_t table_offset;
	uint32_t table_size;
	uint32_t flags;
	uint8_t type;
	uint8_t granularity_bits;
	uint16_t name_len;
	const uint8_t *name;           /* inside `dir` */
};

/* The next entry of a directory the open accepted (dir: dir_len bytes). */
bool qcow2_open_bitmap_next(const uint8_t *dir, size_t dir_len, size_t *pos,
			    struct qcow2_bitmap_entry *b);

#ifdef __cplusplus
}
#endif

#endif
