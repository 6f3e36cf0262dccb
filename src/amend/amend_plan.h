/*
 * amend_plan.h — the amend planner: (header cluster, request) -> refusal,
 * no-op, or the new header cluster plus the minimal list of byte ranges
 * that differ from the old one.
 *
 * Trust: `cluster` is hostile; it is parsed with qcow2_parse() first.
 * Pure: no I/O, no allocation, no libc. Shared by host tests, fuzzers
 * and the guest.
 */
#ifndef INSTAR_AMEND_PLAN_H
#define INSTAR_AMEND_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/amend/amend_request.h"
#include "src/amend/amend_scan.h"
#include "src/amend/amend_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AMEND_MAX_PATCHES 32u

/* One changed range: new bytes are out_cluster[offset, offset+length). */
struct amend_patch {
	uint32_t offset;
	uint32_t length;
};

struct amend_plan {
	enum amend_status status;
	uint32_t result_version;     /* 2 or 3 */
	bool result_lazy;
	uint32_t n_patches;
	uint32_t patch_bytes;
	uint32_t out_len;            /* bytes of out_cluster written (see below) */
	struct amend_patch patches[AMEND_MAX_PATCHES];
};

/* Plan an amend of the header cluster `cluster` (`len` bytes: the whole
 * first cluster of the image). On AMEND_CHANGED, `out_cluster` (also
 * `len` bytes, not overlapping `cluster`) holds the new header cluster in
 * its first plan->out_len bytes — the rest of the new cluster equals
 * `cluster` and is not written, so a large cluster costs only what its
 * header uses — and plan->patches lists every range where it differs
 * from `cluster` (all inside out_len). On any other status `out_cluster`
 * is unspecified. */
enum amend_status amend_plan(const uint8_t *cluster, size_t len,
			     const struct amend_request *req,
			     uint8_t *out_cluster, struct amend_plan *plan);

/* The same, with the result of amend_scan_tables() for this image. A
 * request for which amend_needs_scan() is true is refused with
 * AMEND_ERR_SCAN_REQUIRED unless `scan` is a completed scan (of the reach
 * amend_scan_reach() names): the zero clusters, compressed clusters and
 * snapshot sizes it reports decide a downgrade, the snapshots' extra data
 * an upgrade.
 * amend_plan() is amend_plan_scanned() with no scan. */
enum amend_status amend_plan_scanned(const uint8_t *cluster, size_t len,
				     const struct amend_request *req,
				     const struct amend_scan *scan,
				     uint8_t *out_cluster,
				     struct amend_plan *plan);

/* What the host decides from the header cluster before it starts the
 * guest, whatever the request: the header parses (else AMEND_ERR_NOT_QCOW2
 * for a wrong magic, AMEND_ERR_PARSE for anything else), its L1, refcount
 * and snapshot tables start inside a file of `file_bytes`
 * (AMEND_ERR_TABLES: QEMU could not open it), and the image is not dirty,
 * corrupt or encrypted (the first gates of the spec, which the planner
 * applies again in the same order). AMEND_CHANGED: go on; *h holds the
 * parse. */
enum amend_status amend_preflight(const uint8_t *cluster, size_t len,
				  uint64_t file_bytes, struct qcow2_header *h);

/* Which tables planning this request needs scanned first (for a request
 * the header alone does not refuse): every table for a v3 -> v2
 * downgrade; otherwise the snapshot table of an image that has
 * snapshots (QEMU reads it on every open and refuses a malformed one; an
 * upgrade needs each entry's version 3 extra data); else nothing. */
enum amend_scan_reach amend_scan_reach(const uint8_t *cluster, size_t len,
				       const struct amend_request *req);

/* amend_scan_reach() != AMEND_SCAN_NOTHING. */
bool amend_needs_scan(const uint8_t *cluster, size_t len,
		      const struct amend_request *req);

/* Whether `status` is a refusal that the scan this request needs can give
 * and the header alone cannot (the host, which does not walk the tables,
 * cannot tell such a refusal false): malformed tables for any scan; a
 * snapshot without v3's extra data for an upgrade; zero clusters,
 * compressed zstd clusters and snapshot sizes for a downgrade. */
bool amend_scan_may_refuse(const uint8_t *cluster, size_t len,
			   const struct amend_request *req,
			   enum amend_status status);

/* Apply plan->patches, copying from `new_cluster` into `target`. Both
 * are `len` bytes. Returns false (and changes nothing) if any patch does
 * not lie inside `len`. */
bool amend_apply(const struct amend_plan *plan, const uint8_t *new_cluster,
		 uint8_t *target, size_t len);

#ifdef __cplusplus
}
#endif

#endif
