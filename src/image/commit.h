/*
 * commit.h — write a validated header cluster to the image in a
 * crash-safe order: a crash after any single write leaves an image that
 * QEMU opens and checks clean, in the old or the new state
 * (docs/crash-consistency.md). The common case — every change inside one
 * 512-byte sector — is exactly one pwrite and one fdatasync; otherwise
 * the bytes no current header references go first, the header sector
 * last, with fdatasync between the steps (long backing names borrow
 * scratch bytes in the header cluster, restored by the last step).
 * A no-op writes nothing.
 * Trust: the ranges were produced by the host (amend_diff over the
 * validated staged cluster) and are re-checked against the cluster size;
 * img->cluster must be what the file holds (image_check_unchanged()).
 */
#ifndef INSTAR_COMMIT_H
#define INSTAR_COMMIT_H

#include "src/amend/amend_plan.h"
#include "src/image/image_file.h"

#ifdef __cplusplus
extern "C" {
#endif

enum image_err image_commit(struct image_file *img, const uint8_t *staged,
			    const struct amend_plan *ranges);

#ifdef __cplusplus
}
#endif

#endif
