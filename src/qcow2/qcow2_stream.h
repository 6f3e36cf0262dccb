/*
 * qcow2_stream.h — a window over a region of the image read through
 * qcow2_qread, for tables of variable-length entries that are walked in
 * order (the snapshot table, the bitmap directory): get() returns a
 * pointer to `len` bytes at any offset, reading a new window when the
 * bytes are not in the current one. Each get() is one of QEMU's reads:
 * its verdict (EIO past the read limit, 5.2's abort) is the caller's to
 * take first, with qcow2_qread_verdict().
 *
 * Trust: offsets come from the hostile image; every sum is checked, and
 * a request longer than the window is refused. Freestanding.
 */
#ifndef INSTAR_QCOW2_STREAM_H
#define INSTAR_QCOW2_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/qcow2/qcow2_qread.h"

#ifdef __cplusplus
extern "C" {
#endif

struct qcow2_stream {
	const struct qcow2_qread *q;
	uint8_t *buf;            /* the window: cap bytes, 512-aligned use */
	uint32_t cap;
	uint64_t start;          /* file offset of buf[0] */
	uint32_t have;           /* valid bytes in buf */
};

/* buf: cap bytes (cap >= 1024, a multiple of 512). */
void qcow2_stream_init(struct qcow2_stream *s, const struct qcow2_qread *q,
		       uint8_t *buf, uint32_t cap);

/* Make [off, off + len) available; *p points at it. QCOW2_QREAD_OK, or
 * QCOW2_QREAD_DEVICE if the reader failed or len does not fit the
 * window. The verdict is not looked at here. */
enum qcow2_qread_res qcow2_stream_get(struct qcow2_stream *s, uint64_t off,
				      uint32_t len, const uint8_t **p);

#ifdef __cplusplus
}
#endif

#endif
