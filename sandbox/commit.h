/*
 * commit.h — write a validated header cluster to the image: only the
 * byte ranges that changed, then fdatasync. A no-op never gets here.
 * Trust: the ranges were produced by the host (amend_diff over the
 * validated staged cluster) and are re-checked against the cluster size.
 */
#ifndef INSTAR_COMMIT_H
#define INSTAR_COMMIT_H

#include "sandbox/image_file.h"
#include "src/amend/amend_plan.h"

#ifdef __cplusplus
extern "C" {
#endif

enum image_err image_commit(struct image_file *img, const uint8_t *staged,
			    const struct amend_plan *ranges);

#ifdef __cplusplus
}
#endif

#endif
