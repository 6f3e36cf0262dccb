/*
 * amend_status.h — the result codes of the amend planner. One code per
 * refusal the spec lists (plus what the planner itself needs). The CLI's
 * message table maps each to its verbatim message. Freestanding.
 */
#ifndef INSTAR_AMEND_STATUS_H
#define INSTAR_AMEND_STATUS_H

enum amend_status {
	AMEND_CHANGED = 0,           /* a patch set was produced */
	AMEND_NOOP,                  /* nothing to change */
	AMEND_ERR_NOT_QCOW2,         /* magic is not qcow2 */
	AMEND_ERR_PARSE,             /* header could not be parsed */
	AMEND_ERR_DIRTY,             /* DIRTY bit set */
	AMEND_ERR_CORRUPT,           /* CORRUPT bit set */
	AMEND_ERR_DOWNGRADE_FEATURE, /* v3-only incompatible feature */
	AMEND_ERR_DOWNGRADE_REFCOUNT,/* refcount_bits != 16 */
	AMEND_ERR_LAZY_NEEDS_V3,     /* lazy=on on a (future) v2 image */
	AMEND_ERR_RELOCATION,        /* result does not fit the cluster */
	AMEND_ERR_SCRATCH,           /* cluster larger than the scratch */
	AMEND_ERR_OVERFLOW,          /* size/offset computation overflowed */
	AMEND_ERR_BAD_REQUEST,       /* request fields out of range */
	AMEND_ERR_ENCRYPTED,         /* encrypted image (not supported) */
	/* Downgrade gates that need more than the header (amend_scan.h). */
	AMEND_ERR_ZERO_CLUSTERS,     /* an L2 entry has the v3 zero flag */
	AMEND_ERR_SNAPSHOT_SIZE,     /* a snapshot's size != image size */
	AMEND_ERR_BITMAPS,           /* persistent bitmaps */
	AMEND_ERR_TABLES,            /* L1/L2/snapshot tables malformed */
	AMEND_ERR_SCAN_IO,           /* a table read failed */
	AMEND_ERR_SCAN_REQUIRED,     /* downgrade planned without a scan (caller bug) */
	AMEND_ERR_SNAPSHOT_UPGRADE,  /* a snapshot lacks v3's extra data */
	AMEND_ERR_HEADER_NO_ROOM,    /* QEMU's rewrite of the header as it is
				      * would not fit the cluster */
	AMEND_STATUS_COUNT_
};

#endif
