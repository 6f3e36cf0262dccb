/*
 * amend_diff.h — turn two versions of a header cluster into the short
 * list of byte ranges that differ (the patch set). Pure, freestanding.
 */
#ifndef INSTAR_AMEND_DIFF_H
#define INSTAR_AMEND_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/amend/amend_plan.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Fill plan->patches / n_patches / patch_bytes with the ranges where
 * `old` and `new` differ. Ranges closer than a merge gap are joined; the
 * gap widens until the list fits AMEND_MAX_PATCHES. Returns false if
 * `len` does not fit in 32 bits. */
bool amend_diff(const uint8_t *old, const uint8_t *new_bytes, size_t len,
		struct amend_plan *plan);

#ifdef __cplusplus
}
#endif

#endif
