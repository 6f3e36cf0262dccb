/*
 * qcow2_open_stages.h — the stages of qcow2_open() after the header
 * fields, one file each (internal to src/qcow2): the extension area
 * (qcow2_open_ext.c), the snapshot table (qcow2_open_snap.c), the bitmap
 * directory and tables (qcow2_open_bitmaps.c). Each returns
 * QCOW2_OPEN_OK to go on, or the refusal QEMU would make.
 *
 * Trust: as qcow2_open.h. Freestanding.
 */
#ifndef INSTAR_QCOW2_OPEN_STAGES_H
#define INSTAR_QCOW2_OPEN_STAGES_H

#include <stdbool.h>
#include <stdint.h>

#include "src/qcow2/qcow2_open.h"

/* Fill *e with a refusal and its numbers (or its text); return
 * QCOW2_OPEN_REFUSED. */
enum qcow2_open_result qopen_refuse(struct qcow2_open_err *e, uint32_t code,
				    uint64_t a0, uint64_t a1);
enum qcow2_open_result qopen_refuse_text(struct qcow2_open_err *e,
					 uint32_t code, const uint8_t *text,
					 uint32_t len);

/* Bytes of buf[off, off + len) before the first NUL (clipped to
 * buf_len). */
uint32_t qopen_strnlen(const uint8_t *buf, size_t buf_len, uint32_t off,
		       uint32_t len);

/* Unknown incompatible feature bits: the feature list QEMU prints, from
 * the extension area's feature-name table. */
enum qcow2_open_result qopen_unsupported_features(const struct qcow2_open_input *in,
						  struct qcow2_opened *o,
						  struct qcow2_open_err *e);

/* The header extensions; *crypto_ext tells whether a crypto header
 * extension was met. */
enum qcow2_open_result qopen_extensions(const struct qcow2_open_input *in,
					struct qcow2_opened *o,
					bool *crypto_ext,
					struct qcow2_open_err *e);

/* The snapshot table (info mode). */
enum qcow2_open_result qopen_snapshots(const struct qcow2_open_input *in,
				       struct qcow2_opened *o,
				       struct qcow2_open_err *e);

/* The bitmap directory and the tables of the bitmaps not in use. */
enum qcow2_open_result qopen_bitmaps(const struct qcow2_open_input *in,
				     struct qcow2_opened *o,
				     struct qcow2_open_err *e);

#endif
