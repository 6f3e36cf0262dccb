/*
 * check_prog.c — the guest's check program (GUEST_CMD_CHECK): open the
 * image the way qemu-img check does (check mode: no snapshot table, a
 * refcount table may be missing), then run the check (src/qcow2/
 * qcow2_check.c) and report each finding as it comes, then the totals
 * (abi/report_abi.h). The host words and prints them.
 *
 * Trust: guest/main.c checked the parameter page; the counter memory and
 * the work memory are carved out of the scratch the host gave and checked
 * against it here; the image is hostile and only src/qcow2 interprets it.
 */
#include <stdbool.h>
#include <stdint.h>

#include "abi/guest_abi.h"
#include "abi/report_abi.h"
#include "guest/disk.h"
#include "guest/inspect.h"
#include "guest/lib.h"
#include "guest/programs.h"
#include "guest/report.h"
#include "src/qcow2/qcow2_check.h"
#include "src/qcow2/qcow2_open.h"

static bool put_finding(void *ctx, const struct qcow2_finding_rec *f)
{
	struct report_finding r;

	(void)ctx;
	__builtin_memset(&r, 0, sizeof(r));
	r.hdr.type = REPORT_T_FINDING;
	r.code = f->code;
	r.n_args = f->n_args;
	for (uint32_t i = 0; i < 4u; i++)
		r.arg[i] = f->arg[i];
	r.id_len = f->id_len;
	r.name_len = f->name_len;
	return report_put(&r, sizeof(r), f->id, f->id_len, f->name, f->name_len);
}

static bool put_totals(const struct qcow2_check_result *k)
{
	struct report_check r;

	__builtin_memset(&r, 0, sizeof(r));
	r.hdr.type = REPORT_T_CHECK;
	r.corruptions = k->corruptions;
	r.leaks = k->leaks;
	r.check_errors = k->check_errors;
	r.allocated_clusters = k->allocated_clusters;
	r.total_clusters = k->total_clusters;
	r.fragmented_clusters = k->fragmented_clusters;
	r.compressed_clusters = k->compressed_clusters;
	r.image_end_offset = k->image_end_offset;
	r.flags = k->aborted ? REPORT_CHECK_ABORTED : 0;
	r.failed_errno = k->failed_errno;
	return report_put(&r, sizeof(r), NULL, 0, NULL, 0);
}

/* The check itself, on an image the open accepted. */
static uint32_t run_check(const struct guest_params *p,
			  const struct qcow2_open_input *oi,
			  const struct qcow2_opened *o)
{
	struct qcow2_check_input in;
	struct qcow2_check_result k;
	uint64_t counters = p->request.arg[2];
	uint64_t work = oi->work_len;
	enum qcow2_check_err e;

	if (counters > work || work - counters < GUEST_INSPECT_WORK_BYTES)
		return GUEST_INSPECT_ERR_MEMORY;
	__builtin_memset(&in, 0, sizeof(in));
	in.img = o;
	in.header = oi->hdr;
	in.file_bytes = oi->file_bytes;
	in.flags = p->request.arg[1] & QCOW2_CHECK_KNOWN;
	in.io = oi->io;
	in.work = oi->work;
	in.work_len = GUEST_INSPECT_WORK_BYTES;
	in.counters = oi->work + (work - counters);
	in.counters_len = (size_t)counters;
	e = qcow2_check(&in, put_finding, NULL, &k);
	switch (e) {
	case QCOW2_CHECK_OK:
		return put_totals(&k) ? GUEST_INSPECT_OK : GUEST_INSPECT_ERR_REPORT;
	case QCOW2_CHECK_MEMORY:
		return GUEST_INSPECT_ERR_MEMORY;
	case QCOW2_CHECK_STOPPED:
		return GUEST_INSPECT_ERR_REPORT;
	case QCOW2_CHECK_LIMIT:
		return GUEST_INSPECT_ERR_LIMIT;
	case QCOW2_CHECK_IO:
	default:
		return GUEST_INSPECT_ERR_IO;
	}
}

void check_run(const struct guest_params *p, struct guest_result *res)
{
	struct qcow2_io io = disk_io();
	struct qcow2_open_input in;
	struct qcow2_opened o;
	struct qcow2_open_err e;
	enum qcow2_open_result r;
	uint32_t status = GUEST_INSPECT_OK;

	if (!report_begin(p) ||
	    !inspect_open_input(p, p->request.arg[0], QOPEN_MODE_CHECK, &io, &in)) {
		res->status = GUEST_INSPECT_ERR_PARAMS;
		return;
	}
	r = qcow2_open(&in, &o, &e);
	if (r == QCOW2_OPEN_IO || r == QCOW2_OPEN_MEMORY) {
		res->status = r == QCOW2_OPEN_IO ? GUEST_INSPECT_ERR_IO
						 : GUEST_INSPECT_ERR_MEMORY;
		res->io_error = r == QCOW2_OPEN_IO;
		return;
	}
	/* instar does not check encrypted images (it would need the key
	 * qemu-img asks for). */
	if (r == QCOW2_OPEN_OK && o.f.crypt_method != 0) {
		__builtin_memset(&e, 0, sizeof(e));
		e.code = QOPEN_INSTAR_ENCRYPTED_CHECK;
		r = QCOW2_OPEN_REFUSED;
	}
	if (!inspect_report_warnings(&o) ||
	    (r == QCOW2_OPEN_REFUSED && !inspect_report_refusal(&e))) {
		res->status = GUEST_INSPECT_ERR_REPORT;
		return;
	}
	if (r == QCOW2_OPEN_OK)
		status = run_check(p, &in, &o);
	if (status == GUEST_INSPECT_OK && !report_finish())
		status = GUEST_INSPECT_ERR_REPORT;
	res->status = status;
	res->report_len = status == GUEST_INSPECT_OK ? report_used() : 0;
}
