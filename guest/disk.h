/*
 * disk.h — the batched reader every guest program gives the shared table
 * code (src/qcow2's struct qcow2_io): a batch of whole-sector reads is one
 * virtio-blk batch, one VM exit. Freestanding; guest-only.
 *
 * Trust: the offsets come from the shared code, which has checked them
 * against the file; the device checks them again.
 */
#ifndef INSTAR_GUEST_DISK_H
#define INSTAR_GUEST_DISK_H

#include <stdbool.h>
#include <stdint.h>

#include "src/qcow2/qcow2_walk.h"

/* Do the n reads (n <= VBLK_MAX_BATCH) in one batch; false on any error. */
bool disk_read_batch(void *ctx, const struct qcow2_read *r, uint32_t n);

/* The struct qcow2_io over disk_read_batch(). */
struct qcow2_io disk_io(void);

/* The same, which before each batch also writes a table walk's progress
 * (its L1 entries done of those it has seen, from *st, which the walk
 * updates as it goes) to guest_result.progress, where the host reads it
 * at the exit the batch costs. */
struct qcow2_io disk_io_progress(const struct qcow2_walk_stats *st);

#endif
