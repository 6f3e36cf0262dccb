/*
 * amend_layout.h — decide what goes into the rewritten header cluster
 * after the fixed header fields: which extensions, in which order, with
 * which bytes, and the backing file name — following the rules QEMU's
 * header writer uses, so the result reads back the same in qemu-img.
 *
 * Trust: `cluster` is hostile but has been parsed by qcow2_parse(), so
 * every extension and the backing name lie inside it. Freestanding.
 */
#ifndef INSTAR_AMEND_LAYOUT_H
#define INSTAR_AMEND_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "src/qcow2/qcow2_header.h"
#include "src/qcow2/qcow2_write.h"

#ifdef __cplusplus
extern "C" {
#endif

/* QEMU 7.2 writes a feature-name table of 8 entries. */
#define AMEND_FEATURE_ENTRIES 8u
#define AMEND_FEATURE_TABLE_LEN (AMEND_FEATURE_ENTRIES * 48u)

struct amend_layout {
	struct qcow2_ext_out ext[QCOW2_MAX_EXTENSIONS + 1];
	uint8_t feature_table[AMEND_FEATURE_TABLE_LEN];
	struct qcow2_layout layout;
};

/* Fill `out` for writing header `n` (the new header) from the parsed old
 * header `h` of `cluster`. Returns false only on an internal
 * inconsistency (an extension outside the cluster). */
bool amend_layout_build(const uint8_t *cluster, const struct qcow2_header *h,
			const struct qcow2_header *n, struct amend_layout *out);

/* The feature-name table QEMU writes into every v3 header it rewrites. */
void amend_feature_table(uint8_t out[AMEND_FEATURE_TABLE_LEN]);

#ifdef __cplusplus
}
#endif

#endif
