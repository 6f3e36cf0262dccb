/*
 * main.c — the sandbox guest's entry (called from entry.S): check the
 * parameter page the host wrote, take over the virtio-blk device, run the
 * program the command names (guest/programs.h), then copy its result
 * record to the result page and ring the doorbell.
 *
 * Trust: the parameter page is checked before use (magic, version,
 * cluster size, the header cluster loaded, scratch room); everything
 * the programs read from the disk is hostile and only the shared,
 * freestanding code in src/ interprets it. The host trusts nothing this
 * guest reports.
 */
#include <stdbool.h>
#include <stdint.h>

#include "abi/guest_abi.h"
#include "guest/lib.h"
#include "guest/programs.h"
#include "guest/virtio_blk_drv.h"
#include "src/amend/amend_status.h"

void guest_main(void);

static bool params_ok(const struct guest_params *p)
{
	uint32_t cs = p->cluster_size;
	uint64_t need;
	uint64_t end;

	if (p->magic != GUEST_ABI_MAGIC || p->abi_version != GUEST_ABI_VERSION ||
	    p->header_loaded != 1u)
		return false;
	if (cs < GUEST_MIN_CLUSTER || cs > GUEST_MAX_CLUSTER ||
	    (cs & (cs - 1u)) != 0)
		return false;
	return p->scratch_gpa == GUEST_SCRATCH_GPA &&
	       !__builtin_mul_overflow((uint64_t)cs, (uint64_t)2, &need) &&
	       need <= p->scratch_bytes &&
	       !__builtin_add_overflow(p->scratch_gpa, p->scratch_bytes, &end);
}

/* Copy the finished record to the result page, then ring the doorbell. */
static void publish(const struct guest_result *res)
{
	volatile struct guest_result *r =
		(volatile struct guest_result *)(uintptr_t)GUEST_RESULT_GPA;

	r->magic = res->magic;
	r->abi_version = res->abi_version;
	r->status = res->status;
	r->action = res->action;
	r->result_version = res->result_version;
	r->result_lazy = res->result_lazy;
	r->n_patches = res->n_patches;
	r->patch_bytes = res->patch_bytes;
	r->sectors_written = res->sectors_written;
	r->io_error = res->io_error;
	r->report_len = res->report_len;
	r->progress = res->progress;
	guest_barrier();
	guest_doorbell();
}

void guest_main(void)
{
	const struct guest_params *p =
		(const struct guest_params *)(uintptr_t)GUEST_PARAMS_GPA;
	struct guest_result res;
	uint32_t cmd = p->request.command;

	memset(&res, 0, sizeof(res));
	res.magic = GUEST_ABI_MAGIC;
	res.abi_version = GUEST_ABI_VERSION;
	res.action = GUEST_ACTION_NONE;

	if (!params_ok(p)) {
		res.status = cmd == GUEST_CMD_AMEND ? (uint32_t)AMEND_ERR_SCRATCH
						    : GUEST_INSPECT_ERR_PARAMS;
	} else if (vblk_init() != VBLK_OK) {
		res.status = cmd == GUEST_CMD_AMEND ? (uint32_t)AMEND_ERR_PARSE
						    : GUEST_INSPECT_ERR_IO;
		res.io_error = 1;
	} else if (cmd == GUEST_CMD_AMEND) {
		amend_run(p, &res);
	} else if (cmd == GUEST_CMD_INFO) {
		info_run(p, &res);
	} else if (cmd == GUEST_CMD_CHECK) {
		check_run(p, &res);
	} else {
		res.status = GUEST_INSPECT_ERR_PARAMS;
	}
	publish(&res);
}
