/*
 * expand_file.h — a zero-cluster expansion (src/image/expand.h) run
 * against the image file: reads with pread inside the file as it was
 * opened, writes with one 512-byte pwrite per sector (what the seccomp
 * filter allows: pwrite64 of 512 bytes at an offset no higher than the
 * expansion's bound), fdatasync between the phases.
 *
 * Test builds (//src/image:image_io_fault_injection) count these writes
 * with the commit's (commit_fault.h): a run stopped after the k-th
 * write of the expansion and the header commit together is what a crash
 * there would leave. Trust: as expand.h; the file is only read and
 * written here, never interpreted.
 */
#ifndef INSTAR_IMAGE_EXPAND_FILE_H
#define INSTAR_IMAGE_EXPAND_FILE_H

#include <stdint.h>

#include "src/image/expand.h"
#include "src/image/image_file.h"
#include "src/qcow2/qcow2_header.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Plan (expand_prepare) and, if the plan holds, make the writes
 * (expand_apply) of the expansion the guest's `tables` ask for; *plan
 * keeps the counts (the caller frees it with expand_free()). IMAGE_OK
 * with *ee == EXPAND_OK when it was made; IMAGE_ERR_WRITE when a write
 * failed (img->sys_errno); IMAGE_ERR_CHANGED when the file changed
 * under it; otherwise *ee says which rule refused (nothing written). */
enum image_err image_expand(struct image_file *img,
			    const struct qcow2_header *h,
			    const uint64_t *tables, uint32_t n,
			    struct expand_plan *plan, enum expand_err *ee);

#ifdef __cplusplus
}
#endif

#endif
