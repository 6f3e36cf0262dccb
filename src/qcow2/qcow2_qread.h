/*
 * qcow2_qread.h — reads of an image's metadata with the results QEMU's
 * block layer gives them, over the caller's batched sector reader
 * (qcow2_walk.h): bytes past the end of the file read as zeros; from
 * qemu-img 7.2 on a read that ends past 0x7fffffffc0000000 fails with
 * EIO; 5.2 fails a read at a negative offset and aborts (an assertion)
 * on one that ends past INT64_MAX. inspect (info, check) reads through
 * this, so a table placed past the end of a file, or near 2^63, behaves
 * as it does for qemu-img (docs/check.md, "Reads").
 *
 * Trust: offsets and lengths come from the hostile image; every sum is
 * overflow-checked and only the part of a read that lies inside the file
 * reaches the device. Freestanding.
 */
#ifndef INSTAR_QCOW2_QREAD_H
#define INSTAR_QCOW2_QREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/qcow2/qcow2_walk.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The end of the readable range from qemu-img 7.2 on. */
#define QCOW2_QREAD_LIMIT 0x7fffffffc0000000ULL

struct qcow2_qread {
	const struct qcow2_io *io;  /* whole sectors inside the file */
	uint64_t file_bytes;
	bool limit;                 /* 7.2's read limit (else 5.2's rules) */
};

enum qcow2_qread_res {
	QCOW2_QREAD_OK = 0,
	QCOW2_QREAD_EIO,            /* QEMU's read fails with EIO */
	QCOW2_QREAD_ABORT,          /* 5.2 aborts on an assertion */
	QCOW2_QREAD_DEVICE,         /* our own reader failed */
};

/* What QEMU's read of `len` bytes at `off` would do, before any byte is
 * read: QCOW2_QREAD_OK, EIO or ABORT. */
enum qcow2_qread_res qcow2_qread_verdict(const struct qcow2_qread *q,
					 uint64_t off, uint64_t len);

/* One read for qcow2_qread_many(): `off` a multiple of 512, `buf` room
 * for `len` rounded up to 512 bytes (the tail of the last sector is
 * filled too). */
struct qcow2_qreq {
	uint64_t off;
	uint8_t *buf;
	uint32_t len;
};

/* Do the reads whose verdict is OK (the caller checked it), in batches of
 * the reader's size: zeros past the end of the file. QCOW2_QREAD_OK, or
 * QCOW2_QREAD_DEVICE if the reader failed or a request is malformed. */
enum qcow2_qread_res qcow2_qread_many(const struct qcow2_qread *q,
				      const struct qcow2_qreq *r, uint32_t n);

/* One read: the verdict, then the read if it is OK. */
enum qcow2_qread_res qcow2_qread(const struct qcow2_qread *q, uint64_t off,
				 uint8_t *buf, uint32_t len);

#ifdef __cplusplus
}
#endif

#endif
