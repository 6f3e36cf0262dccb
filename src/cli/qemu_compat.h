/*
 * qemu_compat.h — the qemu-img releases whose `info` and `check` output
 * instar reproduces (--qemu-compat), and how each one's output differs
 * from the others: one row per release, one field per difference, so
 * that the printers ask the table and never test a version number.
 * What each field means, and how it was learned (by running each
 * release): tests/oracles/FORMATS.md. Trust: constant data.
 */
#ifndef INSTAR_QEMU_COMPAT_H
#define INSTAR_QEMU_COMPAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The human snapshot table's layout. */
enum qemu_snapshot_table {
	QEMU_SNAPSHOTS_52 = 0,   /* "VM SIZE"; id in 9, tag in 17, size in 7 */
	QEMU_SNAPSHOTS_72,       /* same header; tag in 16, size in 8 */
	QEMU_SNAPSHOTS_100,      /* "VM_SIZE"; id in 7, 4-digit hours, "--" */
};

struct qemu_compat {
	const char *version;           /* as --qemu-compat takes it: "7.2" */
	/* info */
	bool child_node;               /* the "Child node '/file':" block and
					* the JSON "children" array */
	enum qemu_snapshot_table snapshots;
	bool dirty_flag;               /* "cleanly shut down: no" and
					* "dirty-flag": true for a dirty image */
	bool regular_file_message;     /* a directory: "'file' driver requires
					* '%s' to be a regular file" (else
					* 5.2's wording) */
	bool stale_errno_suffix;       /* two bitmaps_ext messages end with
					* ": Unknown error -8" / "-24" */
	bool size_wrap_in_open;        /* an impossible size is refused while
					* opening (else "Can't get image size") */
	/* what the guest imitates */
	uint32_t open_behaviour;       /* QOPEN_B_* */
	uint32_t check_behaviour;      /* QCOW2_CHECK_* */
};

/* The releases, oldest first; the last is the default. */
extern const struct qemu_compat qemu_compat_table[];
extern const size_t qemu_compat_count;

/* The row of `version` ("5.2", "7.2", "10.0", "11.1"), or NULL. */
const struct qemu_compat *qemu_compat_find(const char *version);

/* The default: the newest release. */
const struct qemu_compat *qemu_compat_default(void);

#ifdef __cplusplus
}
#endif

#endif
