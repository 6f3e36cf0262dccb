/*
 * qcow2_err.h — the result codes of the qcow2 codec layer.
 * One code per way a header can be refused; messages for them live in the
 * CLI's message table, never here. Freestanding.
 */
#ifndef INSTAR_QCOW2_ERR_H
#define INSTAR_QCOW2_ERR_H

enum qcow2_err {
	QCOW2_OK = 0,
	QCOW2_ERR_TRUNCATED,         /* buffer shorter than a field needs */
	QCOW2_ERR_MAGIC,             /* not "QFI\xfb" */
	QCOW2_ERR_VERSION,           /* not 2 or 3 */
	QCOW2_ERR_CLUSTER_BITS,      /* outside 9..21 */
	QCOW2_ERR_HEADER_LENGTH,     /* v3 header_length too small/large/odd */
	QCOW2_ERR_REFCOUNT_ORDER,    /* outside 0..6 */
	QCOW2_ERR_UNKNOWN_INCOMPAT,  /* an incompatible bit we do not know */
	QCOW2_ERR_CRYPT_METHOD,      /* not 0, 1 or 2 */
	QCOW2_ERR_COMPRESSION_TYPE,  /* unknown, or zstd without its bit */
	QCOW2_ERR_EXTENSION,         /* extension list malformed */
	QCOW2_ERR_TOO_MANY_EXT,      /* more than QCOW2_MAX_EXTENSIONS */
	QCOW2_ERR_BACKING,           /* backing name out of bounds */
	QCOW2_ERR_TABLE_OVERLAP,     /* a table overlaps the header cluster */
	QCOW2_ERR_TABLE_ALIGN,       /* a table offset is not cluster-aligned */
	QCOW2_ERR_TABLE_SIZE,        /* a table's size overflows */
	QCOW2_ERR_NO_SPACE,          /* serialised header does not fit */
	QCOW2_ERR_OVERFLOW,          /* an offset computation overflowed */
	QCOW2_ERR_FEATURES,          /* a feature combination QEMU refuses */
	QCOW2_ERR_TABLE_EXTENT,      /* a table runs past the end of the file */
	QCOW2_ERR_COUNT_
};

#endif
