/*
 * info_prog.c — the guest's info program (GUEST_CMD_INFO): open the
 * image the way qemu-img info does (src/qcow2/qcow2_open.c), and report
 * what it found: the warnings, then either the refusal, or the header's
 * facts, the backing and data file names, every snapshot and every
 * bitmap (abi/report_abi.h). The host formats the report.
 *
 * Trust: guest/main.c checked the parameter page; the image is hostile
 * and only the shared code in src/qcow2 interprets it. The host checks
 * every record of the report.
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
#include "src/qcow2/qcow2_format.h"
#include "src/qcow2/qcow2_open.h"

static bool put_name(uint32_t kind, const uint8_t *hdr,
		     const struct qcow2_span *s)
{
	struct report_name n;

	__builtin_memset(&n, 0, sizeof(n));
	n.hdr.type = REPORT_T_NAME;
	n.kind = kind;
	n.len = s->len;
	return report_put(&n, sizeof(n), hdr + s->off, s->len, NULL, 0);
}

static bool put_snapshot(void *ctx, const struct qcow2_snap_info *s)
{
	struct report_snapshot r;

	(void)ctx;
	__builtin_memset(&r, 0, sizeof(r));
	r.hdr.type = REPORT_T_SNAPSHOT;
	r.vm_state_size = s->vm_state_size;
	r.vm_clock_nsec = s->vm_clock_nsec;
	r.icount = s->icount;
	r.date_sec = s->date_sec;
	r.date_nsec = s->date_nsec;
	r.id_len = s->id_len;
	r.name_len = s->name_len;
	return report_put(&r, sizeof(r), s->id, s->id_len, s->name, s->name_len);
}

/* The bitmaps, from the directory the open accepted (read again here). */
static bool put_bitmaps(const struct qcow2_open_input *in,
			const struct qcow2_opened *o)
{
	const struct qcow2_qread q = { in->io, in->file_bytes,
				       (in->behaviour & QOPEN_B_READ_LIMIT) != 0 };
	struct qcow2_qreq r = { o->bm_dir_offset, in->work,
				(uint32_t)o->bm_dir_size };
	struct qcow2_bitmap_entry b;
	size_t pos = 0;

	if (o->bm_dir_size + 512u > in->work_len ||
	    qcow2_qread_many(&q, &r, 1) != QCOW2_QREAD_OK)
		return false;
	while (qcow2_open_bitmap_next(in->work, (size_t)o->bm_dir_size, &pos, &b)) {
		struct report_bitmap rb;

		__builtin_memset(&rb, 0, sizeof(rb));
		rb.hdr.type = REPORT_T_BITMAP;
		rb.flags = b.flags;
		rb.granularity_bits = b.granularity_bits;
		rb.name_len = b.name_len;
		if (!report_put(&rb, sizeof(rb), b.name, b.name_len, NULL, 0))
			return false;
	}
	return true;
}

/* The image record and everything after it. */
static bool put_image(const struct qcow2_open_input *in,
		      const struct qcow2_opened *o)
{
	const struct qcow2_fields *f = &o->f;
	/* QEMU lists no snapshot of an image with an external data file. */
	bool list_snapshots = !(f->incompat & QCOW2_INCOMPAT_EXTERNAL_DATA);
	struct report_image im;
	struct qcow2_open_err e;

	__builtin_memset(&im, 0, sizeof(im));
	im.hdr.type = REPORT_T_IMAGE;
	im.version = f->version;
	im.cluster_bits = f->cluster_bits;
	im.size = f->size;
	im.incompat = f->incompat;
	im.compat = f->compat;
	im.autoclear = f->autoclear;
	im.refcount_order = f->refcount_order;
	im.compression_type = f->compression_type;
	im.crypt_method = f->crypt_method;
	im.nb_snapshots = list_snapshots ? f->nb_snapshots : 0;
	im.nb_bitmaps = o->bitmaps ? o->nb_bitmaps : 0;
	im.flags = o->bitmaps ? REPORT_IMAGE_BITMAPS_LISTED : 0;
	if (!report_put(&im, sizeof(im), NULL, 0, NULL, 0))
		return false;
	if ((o->has_backing &&
	     !put_name(REPORT_NAME_BACKING_FILE, in->hdr, &o->backing)) ||
	    (o->has_backing_fmt &&
	     !put_name(REPORT_NAME_BACKING_FORMAT, in->hdr, &o->backing_fmt)) ||
	    (o->has_data_file &&
	     !put_name(REPORT_NAME_DATA_FILE, in->hdr, &o->data_file)))
		return false;
	if (list_snapshots && f->nb_snapshots != 0 &&
	    qcow2_open_snapshots(in, o, put_snapshot, NULL, &e) != QCOW2_OPEN_OK)
		return false;
	return !o->bitmaps || put_bitmaps(in, o);
}

void info_run(const struct guest_params *p, struct guest_result *res)
{
	struct qcow2_io io = disk_io();
	struct qcow2_open_input in;
	struct qcow2_opened o;
	struct qcow2_open_err e;
	enum qcow2_open_result r;
	bool ok;

	if (!report_begin(p) ||
	    !inspect_open_input(p, p->request.arg[0], QOPEN_MODE_INFO, &io, &in)) {
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
	ok = inspect_report_warnings(&o);
	if (ok && r == QCOW2_OPEN_REFUSED)
		ok = inspect_report_refusal(&e);
	else if (ok)
		ok = put_image(&in, &o);
	if (!ok || !report_finish()) {
		res->status = GUEST_INSPECT_ERR_REPORT;
		return;
	}
	res->status = GUEST_INSPECT_OK;
	res->report_len = report_used();
}
