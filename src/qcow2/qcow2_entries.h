/*
 * qcow2_entries.h — the entries of qcow2's tables as they lie in a
 * buffer: 64-bit big-endian L1, L2 and refcount-table entries, 16-bit
 * big-endian refcounts (refcount_order 4), by index. The one place
 * outside the codec's own files that says how a table's bytes are laid
 * out (the host's expansion rules, src/image/expand.c, use it).
 * Trust: none needed; the caller bounds the index. Freestanding.
 */
#ifndef INSTAR_QCOW2_ENTRIES_H
#define INSTAR_QCOW2_ENTRIES_H

#include <stddef.h>
#include <stdint.h>

#include "src/qcow2/qcow2_be.h"

static inline uint64_t qcow2_entry64(const uint8_t *table, size_t i)
{
	return qcow2_be64(table + 8u * i);
}

static inline void qcow2_set_entry64(uint8_t *table, size_t i, uint64_t v)
{
	qcow2_put_be64(table + 8u * i, v);
}

static inline uint16_t qcow2_refcount16(const uint8_t *block, size_t i)
{
	return qcow2_be16(block + 2u * i);
}

static inline void qcow2_set_refcount16(uint8_t *block, size_t i, uint16_t v)
{
	qcow2_put_be16(block + 2u * i, v);
}

#endif
