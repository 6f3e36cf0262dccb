/*
 * qcow2_snapshot.h — the internal snapshot table: one entry parsed from a
 * buffer (pure), and a walk over the whole table that reads it in large
 * windows through the batched reader of qcow2_walk.h.
 *
 * Trust: the table is hostile. An entry is accepted only if all of it
 * (fixed part, extra data, id and name) lies inside the bytes given;
 * lengths are bounded as QEMU bounds them. Freestanding.
 */
#ifndef INSTAR_QCOW2_SNAPSHOT_H
#define INSTAR_QCOW2_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/qcow2/qcow2_err.h"
#include "src/qcow2/qcow2_header.h"
#include "src/qcow2/qcow2_walk.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QCOW2_SNAPSHOT_FIXED 40u         /* bytes before the extra data */
#define QCOW2_SNAPSHOT_MAX_EXTRA 1024u   /* QEMU's limit on extra data */
/* The longest entry there can be: fixed part, extra data, id and name
 * (16-bit lengths), padded to 8. */
#define QCOW2_SNAPSHOT_MAX_ENTRY \
	(QCOW2_SNAPSHOT_FIXED + QCOW2_SNAPSHOT_MAX_EXTRA + 2u * 65535u + 7u)
/* QEMU's limit on one snapshot's L1 table: 32 MiB of entries. */
#define QCOW2_SNAPSHOT_MAX_L1 ((32u << 20) / 8u)

struct qcow2_snapshot {
	uint64_t l1_offset;
	uint32_t l1_size;
	uint16_t id_len;
	uint16_t name_len;
	uint32_t date_sec;
	uint32_t date_nsec;
	uint64_t vm_clock_ns;
	uint32_t vm_state_size;
	uint32_t extra_len;
	/* From the extra data, where it is long enough to hold them. */
	bool has_vm_state_size_large;
	uint64_t vm_state_size_large;
	bool has_disk_size;
	uint64_t disk_size;
	bool has_icount;
	uint64_t icount;
	/* The id and name, as offsets into the parsed buffer. */
	uint32_t id_off;
	uint32_t name_off;
	uint32_t entry_len;      /* the whole entry, padded to 8 */
};

/* Parse the entry at the start of buf[0, len). QCOW2_ERR_TRUNCATED when
 * the entry runs past len (read more and try again); QCOW2_ERR_EXTENSION
 * for extra data longer than QEMU allows. */
enum qcow2_err qcow2_snapshot_parse(const uint8_t *buf, size_t len,
				    struct qcow2_snapshot *s);

/* Called for each entry, in table order; `entry` points at its bytes
 * (s->entry_len of them). Return false to stop. */
typedef bool (*qcow2_snapshot_visit_fn)(void *ctx, uint32_t index,
					const struct qcow2_snapshot *s,
					const uint8_t *entry);

enum qcow2_snapshot_walk_err {
	QCOW2_SNAPSHOTS_OK = 0,
	QCOW2_SNAPSHOTS_STOPPED,   /* the visitor asked to stop */
	QCOW2_SNAPSHOTS_TABLE,     /* an entry is malformed or runs past the file */
	QCOW2_SNAPSHOTS_IO,
	QCOW2_SNAPSHOTS_MEMORY,    /* window smaller than one largest entry */
};

/* The least window qcow2_snapshot_walk() takes: whole sectors that hold
 * the largest entry wherever it starts in its first sector, and 8 spare
 * bytes for the zero padding of an entry that ends the file. */
#define QCOW2_SNAPSHOT_MIN_WINDOW \
	((((QCOW2_SNAPSHOT_MAX_ENTRY + 511u) + 511u) / 512u) * 512u + 8u)

/* Walk the nb_snapshots entries of the table at h->snapshots_offset in a
 * file of file_bytes, through `io`, with `window` (window_len bytes, at
 * least QCOW2_SNAPSHOT_MIN_WINDOW) as the read buffer. An entry must lie
 * inside the file up to the end of its name; its padding to 8 bytes may
 * lie past the end of the file, as QEMU writes the last one (it does not
 * read the padding). */
enum qcow2_snapshot_walk_err qcow2_snapshot_walk(
	const struct qcow2_header *h, uint64_t file_bytes,
	const struct qcow2_io *io, uint8_t *window, size_t window_len,
	qcow2_snapshot_visit_fn visit, void *ctx);

#ifdef __cplusplus
}
#endif

#endif
