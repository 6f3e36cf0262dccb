/*
 * amend_prog.c — the guest's amend program (GUEST_CMD_AMEND). Takes the
 * image's header cluster the host copied to the start of scratch (its
 * pre-probe: what a virtio-blk read would return), walks the tables a
 * downgrade needs (src/amend/amend_scan.c), runs the shared planner
 * (src/amend), writes the sectors that cover each patch back through
 * virtio-blk and fills the result record.
 *
 * Trust: guest/main.c checked the parameter page (magic, version,
 * cluster size, scratch room); the header cluster is hostile and only
 * the shared parser/planner interpret it; the planner's patch list is
 * re-checked against the cluster before any sector is written. The host
 * in turn trusts nothing this program reports.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/guest_abi.h"
#include "guest/disk.h"
#include "guest/lib.h"
#include "guest/programs.h"
#include "guest/report.h"
#include "guest/virtio_blk_drv.h"
#include "src/amend/amend_plan.h"
#include "src/amend/amend_scan.h"
#include "src/amend/amend_status.h"
#include "src/qcow2/qcow2_header.h"

static struct amend_plan plan;
static struct amend_scan scan;

/* A downgrade with a report region names each L2 table that holds a
 * zero entry (the host expands them: src/image/expand.h). */
static bool put_zero_table(void *ctx, uint64_t l2_offset)
{
	struct report_zero_table r;

	(void)ctx;
	memset(&r, 0, sizeof(r));
	r.hdr.type = REPORT_T_ZERO_TABLE;
	r.l2_offset = l2_offset;
	return report_put(&r, sizeof(r), NULL, 0, NULL, 0);
}

enum wb_result { WB_OK, WB_BAD_PATCH, WB_IO };

/* The planner's patches must lie inside the cluster; checked before the
 * first write so a bad plan writes nothing. */
static bool patches_ok(uint32_t cluster_size)
{
	if (plan.n_patches > AMEND_MAX_PATCHES)
		return false;
	for (uint32_t i = 0; i < plan.n_patches; i++) {
		const struct amend_patch *pt = &plan.patches[i];
		uint32_t end;
		if (pt->length == 0 ||
		    __builtin_add_overflow(pt->offset, pt->length, &end) ||
		    end > cluster_size)
			return false;
	}
	return true;
}

/* Write back the 512-byte sectors covering each patch, from `next`, in
 * one batch served when the doorbell rings; *sectors counts the sectors
 * written. */
static enum wb_result write_patches(const uint8_t *next,
				    uint32_t cluster_size, uint32_t *sectors)
{
	struct vblk_io io[AMEND_MAX_PATCHES];

	_Static_assert(AMEND_MAX_PATCHES <= VBLK_MAX_BATCH, "one batch");
	*sectors = 0;
	if (!patches_ok(cluster_size))
		return WB_BAD_PATCH;
	for (uint32_t i = 0; i < plan.n_patches; i++) {
		const struct amend_patch *pt = &plan.patches[i];
		uint32_t first = pt->offset / GUEST_SECTOR_SIZE;
		uint32_t last = (pt->offset + pt->length - 1u) /
				GUEST_SECTOR_SIZE;
		io[i].sector = first;
		io[i].buf = (void *)(uintptr_t)(next + (size_t)first * GUEST_SECTOR_SIZE);
		io[i].nsectors = last - first + 1u;
		io[i].write = true;
		*sectors += io[i].nsectors;
	}
	if (plan.n_patches != 0 &&
	    vblk_submit_final(io, plan.n_patches) != VBLK_OK) {
		*sectors = 0;
		return WB_IO;
	}
	return WB_OK;
}

/* The tables the request needs walked (reads only), in the work memory
 * past the two header clusters: AMEND_CHANGED and *scanned set (NULL
 * when nothing needs walking), or the refusal, with res->io_error for a
 * failed read. */
static enum amend_status scan_if_needed(const struct guest_params *p,
					const struct amend_request *req,
					const uint8_t *cur, uint8_t *next,
					const struct amend_scan **scanned,
					struct guest_result *res)
{
	uint32_t cs = p->cluster_size;
	enum amend_scan_reach reach = amend_scan_reach(cur, cs, req);
	struct qcow2_header h;
	enum amend_status ss;

	*scanned = NULL;
	if (reach == AMEND_SCAN_NOTHING)
		return AMEND_CHANGED;
	if (qcow2_parse(cur, cs, &h) != QCOW2_OK)
		return AMEND_ERR_PARSE;
	const struct qcow2_io io = disk_io_progress(&scan.walk);
	uint8_t *work = next + cs;
	size_t work_len = (size_t)(p->scratch_bytes - 2u * (uint64_t)cs);
	const struct amend_zero_sink sink = { put_zero_table, NULL };
	bool listing = p->report_gpa != 0 && report_begin(p);

	ss = amend_scan_tables_zeros(&h, reach,
				     vblk_capacity() * GUEST_SECTOR_SIZE, &io,
				     work, work_len, listing ? &sink : NULL,
				     &scan);
	if (listing && ss == AMEND_CHANGED) {
		if (report_finish())
			res->report_len = report_used();
		else
			ss = AMEND_ERR_SCAN_IO;
	}
	if (ss == AMEND_ERR_SCAN_IO)
		res->io_error = 1;
	if (ss == AMEND_CHANGED)
		*scanned = &scan;
	return ss;
}

/* Plan, and write the patches of a plan that changes the header. */
static void plan_and_write(const struct amend_request *req,
			   const struct amend_scan *scanned, const uint8_t *cur,
			   uint8_t *next, uint32_t cs, struct guest_result *res)
{
	enum amend_status st = amend_plan_scanned(cur, cs, req, scanned, next,
						  &plan);
	uint32_t sectors = 0;

	res->status = (uint32_t)st;
	res->result_version = plan.result_version;
	res->result_lazy = plan.result_lazy ? 1u : 0u;
	res->n_patches = plan.n_patches;
	res->patch_bytes = plan.patch_bytes;
	if (st == AMEND_NOOP) {
		res->action = GUEST_ACTION_NOOP;
		return;
	}
	if (st != AMEND_CHANGED)
		return;
	switch (write_patches(next, cs, &sectors)) {
	case WB_OK:
		res->action = GUEST_ACTION_AMENDED;
		break;
	case WB_BAD_PATCH:
		res->status = AMEND_ERR_OVERFLOW;
		break;
	case WB_IO:
		res->io_error = 1;
		break;
	}
	res->sectors_written = sectors;
}

void amend_run(const struct guest_params *p, struct guest_result *res)
{
	uint32_t cs = p->cluster_size;
	struct amend_request req = { .compat = p->request.arg[0],
				     .lazy = p->request.arg[1] };
	/* The header cluster is already at `cur` (guest/main.c). (scratch_gpa
	 * is 2 MiB-aligned and cs a power of two, so `next` and the work
	 * memory after it are 8-byte aligned.) */
	uint8_t *cur = (uint8_t *)(uintptr_t)p->scratch_gpa;
	uint8_t *next = cur + cs;
	const struct amend_scan *scanned;
	enum amend_status ss;

	ss = scan_if_needed(p, &req, cur, next, &scanned, res);
	if (ss != AMEND_CHANGED) {
		res->status = (uint32_t)ss;
		return;
	}
	plan_and_write(&req, scanned, cur, next, cs, res);
}
