/*
 * validate.c — the host's check of the guest's answer (see validate.h).
 *
 * The host states the only acceptable result itself: it runs the shared,
 * pure planner (src/amend) on its own pre-probe copy of the header
 * cluster and the request, as if the guest's table scan had found
 * nothing that forbids the change, and so knows the exact header cluster
 * an honest guest writes. A staged cluster is accepted only if it equals
 * that one in every byte; a no-op or a refusal only if nothing was
 * staged and the host's plan agrees (a refusal the header alone cannot
 * explain must be one only the table scan can make, for a request that
 * needs the scan). Nothing the guest wrote is parsed or interpreted.
 */
#include "src/image/validate.h"

#include <string.h>

#include "src/image/byte_diff.h"

#include "src/amend/amend_scan.h"
#include "src/amend/amend_status.h"
#include "src/qcow2/qcow2_format.h"

void validate_expected(const struct qcow2_header *pre,
		       const struct amend_request *req,
		       uint32_t *version, bool *lazy)
{
	bool cur = (pre->compat & QCOW2_COMPAT_LAZY_REFCOUNTS) != 0;

	*version = req->compat == AMEND_COMPAT_KEEP ? pre->version : req->compat;
	if (req->lazy == AMEND_LAZY_ON)
		*lazy = true;
	else if (req->lazy == AMEND_LAZY_OFF)
		*lazy = false;
	else
		*lazy = *version == 3 ? cur : false;
	if (*version == 2)
		*lazy = false;
}

static bool record_well_formed(const struct guest_result *r)
{
	if (r->magic != GUEST_ABI_MAGIC || r->abi_version != GUEST_ABI_VERSION)
		return false;
	if (r->status >= AMEND_STATUS_COUNT_)
		return false;
	if (r->result_version != 2 && r->result_version != 3 &&
	    r->action != GUEST_ACTION_NONE)
		return false;
	if (r->result_lazy > 1)
		return false;
	switch (r->action) {
	case GUEST_ACTION_AMENDED:
		return r->status == AMEND_CHANGED;
	case GUEST_ACTION_NOOP:
		return r->status == AMEND_NOOP;
	case GUEST_ACTION_NONE:
		return r->status != AMEND_CHANGED && r->status != AMEND_NOOP;
	default:
		return false;
	}
}

/* A refusal is believable if the host's own plan makes the same one, or
 * if the host's plan (which assumes a clean scan) would change the header
 * or change nothing, and the refusal is one the scan this request needs
 * can give and the header cannot (amend_scan_may_refuse()). */
static bool refusal_believable(const struct validate_input *in,
			       enum amend_status host, uint32_t guest)
{
	if (host != AMEND_CHANGED && host != AMEND_NOOP)
		return (uint32_t)host == guest;
	return guest < (uint32_t)AMEND_STATUS_COUNT_ &&
	       amend_scan_may_refuse(in->pre, in->len, in->req,
				     (enum amend_status)guest);
}

static size_t first_difference(const uint8_t *a, const uint8_t *b, size_t len)
{
	return byte_first_diff(a, b, 0, len);
}

enum validate_err validate_guest(const struct validate_input *in,
				 struct validate_output *out)
{
	const struct guest_result *r = in->res;
	struct amend_scan clean;
	enum amend_status host;
	bool staged_changed;

	memset(out, 0, sizeof(*out));
	out->first_difference = in->len;
	if (r->magic == GUEST_ABI_MAGIC && r->abi_version == GUEST_ABI_VERSION &&
	    r->io_error != 0)
		return VALIDATE_ERR_GUEST_IO;   /* nothing is written either way */
	if (!record_well_formed(r) || r->io_error != 0)
		return VALIDATE_ERR_RECORD;
	out->guest_status = r->status;
	validate_expected(in->pre_hdr, in->req, &out->version, &out->lazy);
	staged_changed = memcmp(in->pre, in->staged, in->len) != 0;

	/* The host's statement of the only acceptable result: the planner on
	 * the pre-probe, with a scan that found nothing (the planner writes
	 * only the first plan.out_len bytes; the rest stays the pre-probe). */
	memset(&clean, 0, sizeof(clean));
	clean.done = true;
	memcpy(in->expected, in->pre, in->len);
	host = amend_plan_scanned(in->pre, in->len, in->req, &clean,
				  in->expected, &out->ranges);
	if (host != AMEND_CHANGED)
		memcpy(in->expected, in->pre, in->len);
	out->host_status = host;

	if (r->action == GUEST_ACTION_NONE) {
		if (staged_changed)
			return VALIDATE_ERR_WROTE_WITHOUT_CHANGE;
		return refusal_believable(in, host, r->status)
			       ? VALIDATE_REFUSED
			       : VALIDATE_ERR_REFUSAL_LIE;
	}
	if (r->result_version != out->version ||
	    (r->result_lazy != 0) != out->lazy)
		return VALIDATE_ERR_RECORD_MISMATCH;
	if (r->action == GUEST_ACTION_NOOP) {
		if (staged_changed)
			return VALIDATE_ERR_WROTE_WITHOUT_CHANGE;
		return host == AMEND_NOOP ? VALIDATE_NOOP : VALIDATE_ERR_NOOP_LIE;
	}
	if (host != AMEND_CHANGED)
		return VALIDATE_ERR_NOT_EXPECTED;
	if (!staged_changed)
		return VALIDATE_ERR_NO_WRITE;
	out->first_difference = first_difference(in->expected, in->staged,
						 in->len);
	if (out->first_difference != in->len)
		return VALIDATE_ERR_NOT_EXPECTED;
	return VALIDATE_AMENDED;
}
