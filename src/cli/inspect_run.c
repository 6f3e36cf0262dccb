/*
 * inspect_run.c — the flow info and check share (see inspect_run.h).
 *
 * Trust: as inspect_run.h. The report's bytes are copied into a buffer
 * of the host's (bounded by INSPECT_REPORT_MAX) and parsed only once the
 * guest has finished; nothing of it reaches a printer before
 * report_parse() and the header cross-check accept it.
 */
#include "src/cli/inspect_run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/cli/guest_blob.h"
#include "src/cli/messages.h"
#include "src/cli/outbuf.h"
#include "src/cli/output.h"
#include "src/cli/qemu_messages.h"
#include "src/cli/sandbox_steps.h"
#include "src/qcow2/qcow2_header.h"
#include "src/qcow2/qcow2_open.h"

/* Protocols qemu-img knows: a name with one of these prefixes is not a
 * local file to instar; any other prefix qemu-img calls unknown. */
static const char *const protocols[] = {
	"json", "host_device", "host_cdrom", "nbd", "nbd+tcp", "nbd+unix",
	"http", "https", "ftp", "ftps", "ssh", "iscsi", "rbd", "gluster",
	"gluster+tcp", "gluster+unix", "gluster+rdma", "nfs", "null-co",
	"null-aio", "blkdebug", "blkverify", "fat", "nvme", "throttle",
	"vvfat", "quorum", "copy-on-read", "replication",
};

bool inspect_emit(const char *p, size_t n, int fd)
{
	FILE *f = fd == STDOUT_FILENO ? stdout : stderr;

	if (n != 0 && fwrite(p, 1, n, f) != n)
		return false;
	return fflush(f) == 0 && !ferror(f);
}

static int emit_err(struct outbuf *b, int rc)
{
	(void)inspect_emit(b->p, b->len, STDERR_FILENO);
	outbuf_free(b);
	return rc;
}

static int instar_error(enum inspect_err e, const char *a1, const char *a2)
{
	msg_print(stderr, msg_inspect(e), a1, a1 != NULL ? strlen(a1) : 0, a2);
	return EXIT_REFUSED;
}

/* "a:b": a protocol prefix if the ':' comes before any '/'. */
static int name_of(struct inspect_run *r, const char *arg)
{
	const char *colon = strchr(arg, ':');
	const char *slash = strchr(arg, '/');
	char proto[64];
	size_t n;
	struct outbuf b;

	r->path = arg;
	r->shown = arg;
	if (colon == NULL || (slash != NULL && slash < colon))
		return EXIT_OK;
	n = (size_t)(colon - arg);
	if (n == 4 && strncmp(arg, "file", 4) == 0) {
		r->path = colon + 1;
		r->shown = colon + 1;
		return EXIT_OK;
	}
	if (n >= sizeof(proto))
		n = sizeof(proto) - 1u;
	memcpy(proto, arg, n);
	proto[n] = '\0';
	for (size_t i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++) {
		if (strcmp(proto, protocols[i]) == 0)
			return instar_error(INSPECT_ERR_PROTOCOL, arg, proto);
	}
	outbuf_init(&b);
	outbuf_puts(&b, "qemu-img: Could not open '");
	qmsg_put_escaped(&b, arg, strlen(arg));
	outbuf_puts(&b, "': Unknown protocol '");
	qmsg_put_escaped(&b, proto, strlen(proto));
	outbuf_puts(&b, "'\n");
	return emit_err(&b, EXIT_REFUSED);
}

/* qemu-img's words when the file itself cannot be opened. */
static int open_error(struct inspect_run *r, enum image_err e)
{
	struct outbuf b;

	outbuf_init(&b);
	if (e == IMAGE_ERR_DIRECTORY || e == IMAGE_ERR_NOT_FILE) {
		if (e == IMAGE_ERR_NOT_FILE)
			return instar_error(INSPECT_ERR_NOT_FILE, r->shown, NULL);
		outbuf_puts(&b, "qemu-img: Could not open '");
		qmsg_put_escaped(&b, r->args->filename, strlen(r->args->filename));
		if (r->args->compat->regular_file_message) {
			outbuf_puts(&b, "': 'file' driver requires '");
			qmsg_put_escaped(&b, r->path, strlen(r->path));
			outbuf_puts(&b, "' to be a regular file\n");
		} else {
			outbuf_puts(&b, "': A regular file was expected by the 'file' "
					"driver, but something else was given\n");
		}
		return emit_err(&b, EXIT_REFUSED);
	}
	if (e == IMAGE_ERR_OPEN) {
		outbuf_puts(&b, "qemu-img: Could not open '");
		qmsg_put_escaped(&b, r->args->filename, strlen(r->args->filename));
		outbuf_puts(&b, "': Could not open '");
		qmsg_put_escaped(&b, r->path, strlen(r->path));
		outbuf_printf(&b, "': %s\n", strerror(r->img.sys_errno));
		return emit_err(&b, EXIT_REFUSED);
	}
	outbuf_free(&b);
	return instar_error(INSPECT_ERR_IO, r->shown,
			    strerror(r->img.sys_errno != 0 ? r->img.sys_errno : EIO));
}

int inspect_open(struct inspect_run *r, const struct inspect_args *a)
{
	enum image_err e;
	int rc;

	memset(r, 0, sizeof(*r));
	r->img.fd = -1;
	r->args = a;
	rc = name_of(r, a->filename);
	if (rc != EXIT_OK)
		return rc;
	/* check reads the image (consistent read); info opens it without
	 * I/O permission, as qemu-img does. */
	e = image_open_reader(r->path, a->cmd == INSPECT_CHECK, a->force_share,
			      &r->img);
	r->opened = true;
	if (e != IMAGE_OK)
		return open_error(r, e);
	return EXIT_OK;
}

int inspect_lockdown_probe(struct inspect_run *r)
{
	enum image_err e;
	int rc;

	r->bind.image_fd = r->img.fd;
	r->bind.kvm_path = sandbox_kvm_path();
	r->bind.write_last_sector = 0;
	r->bind.read_only = true;
	rc = steps_lockdown(&r->bind);
	if (rc != EXIT_OK)
		return rc;
	/* The VM does not depend on the image: built while this probes. */
	steps_prebuild(&r->pre);
	r->prebuilt = true;
	e = image_read_probe(&r->img);
	if (e != IMAGE_OK)
		return instar_error(INSPECT_ERR_IO, r->shown,
				    strerror(r->img.sys_errno != 0 ? r->img.sys_errno : EIO));
	switch (r->args->format) {
	case FORMAT_QCOW2:
		r->format = IMAGE_FORMAT_QCOW2;
		break;
	case FORMAT_RAW:
		r->format = IMAGE_FORMAT_RAW;
		break;
	default:
		r->format = image_format_probe_qemu(r->img.head, r->img.head_len,
						    r->path);
		break;
	}
	return EXIT_OK;
}

int inspect_lock_verdict(struct inspect_run *r)
{
	struct outbuf b;

	if (r->img.lock_conflict < 0)
		return EXIT_OK;
	outbuf_init(&b);
	qmsg_lock_error(&b, r->args->filename, r->img.lock_conflict);
	return emit_err(&b, EXIT_REFUSED);
}

int inspect_refuse_format(const struct inspect_run *r)
{
	return instar_error(INSPECT_ERR_FORMAT, r->shown,
			    image_format_name(r->format));
}

/* The report sink: append the records of a flush or of the end, up to
 * INSPECT_REPORT_MAX bytes in all. */
static bool take(void *ctx, const uint8_t *p, uint32_t len)
{
	struct inspect_run *r = ctx;

	if (len > INSPECT_REPORT_MAX - r->report.len)
		return false;
	outbuf_put(&r->report, (const char *)p, len);
	return !r->report.failed;
}

static const char *report_err_name(enum report_err e)
{
	switch (e) {
	case REPORT_ERR_RECORD: return "a malformed record";
	case REPORT_ERR_FIELD: return "a field out of range";
	case REPORT_ERR_ORDER: return "records out of order";
	case REPORT_ERR_COUNT: return "counts that disagree";
	case REPORT_ERR_NO_END: return "no end record";
	case REPORT_ERR_TRAILING: return "bytes after the end record";
	default: return "unknown";
	}
}

static const char *guest_status_name(uint32_t s)
{
	switch (s) {
	case GUEST_INSPECT_ERR_PARAMS: return "parameters";
	case GUEST_INSPECT_ERR_IO: return "a read failed";
	case GUEST_INSPECT_ERR_REPORT: return "the report could not be written";
	case GUEST_INSPECT_ERR_MEMORY: return "not enough work memory";
	case GUEST_INSPECT_ERR_LIMIT: return "a table walk went past its bound";
	default: return "unknown status";
	}
}

/* The image record must say what the header the host read says. */
static bool matches_header(const struct inspect_run *r)
{
	const struct report_image *im = &r->view.image;
	struct qcow2_fields f;

	if (!r->view.has_image)
		return true;
	qcow2_fields_read(r->img.cluster, &f);
	return im->version == f.version && im->cluster_bits == f.cluster_bits &&
	       im->size == f.size && im->incompat == f.incompat &&
	       im->compat == f.compat && im->autoclear == f.autoclear &&
	       im->refcount_order == f.refcount_order &&
	       im->compression_type == f.compression_type &&
	       im->crypt_method == f.crypt_method &&
	       im->nb_snapshots <= f.nb_snapshots;
}

/* The header cluster the guest gets: the cluster size the header names
 * (the least one if it names none a qcow2 may have). */
static uint32_t preprobe_size(const struct inspect_run *r)
{
	uint32_t size;

	if (qcow2_probe_cluster_size(r->img.head, r->img.head_len, &size) != QCOW2_OK)
		return GUEST_MIN_CLUSTER;
	return size;
}

int inspect_run_guest(struct inspect_run *r, struct guest_request request,
		      enum report_kind kind, uint64_t extra_work,
		      uint64_t budget_ns, uint32_t max_exits)
{
	struct sandbox_config cfg;
	enum report_err re;
	uint32_t cs = preprobe_size(r);
	enum image_err e;
	int rc;

	e = image_read_padded(&r->img, cs);
	if (e != IMAGE_OK)
		return instar_error(INSPECT_ERR_IO, r->shown,
				    strerror(r->img.sys_errno != 0 ? r->img.sys_errno : EIO));
	r->out.staged = NULL;   /* a read-only run stages nothing */
	memset(&cfg, 0, sizeof(cfg));
	cfg.image_fd = r->img.fd;
	cfg.disk_bytes = r->img.size;
	cfg.cluster_size = cs;
	cfg.preprobe = r->img.cluster;
	cfg.request = request;
	cfg.guest = instar_guest_blob();
	cfg.walk_tables = true;
	cfg.extra_work_bytes = extra_work;
	cfg.read_only = true;
	cfg.report = true;
	cfg.report_take = take;
	cfg.report_ctx = r;
	cfg.budget_ns = budget_ns;
	cfg.max_exits = max_exits;
	r->prebuilt = false;   /* the run takes the VM over */
	rc = steps_run_guest(&cfg, &r->bind, &r->pre, r->args->stats, &r->out);
	if (rc != EXIT_OK)
		return rc;
	if (r->out.result.magic != GUEST_ABI_MAGIC ||
	    r->out.result.abi_version != GUEST_ABI_VERSION)
		return instar_error(INSPECT_ERR_REPORT, "a malformed result record", NULL);
	if (r->out.result.status != GUEST_INSPECT_OK)
		return instar_error(INSPECT_ERR_GUEST,
				    guest_status_name(r->out.result.status), NULL);
	re = report_parse((const uint8_t *)r->report.p, r->report.len, kind,
			  &r->view);
	if (re != REPORT_OK)
		return instar_error(INSPECT_ERR_REPORT, report_err_name(re), NULL);
	if (!matches_header(r)) {
		msg_print(stderr, msg_inspect(INSPECT_ERR_MISMATCH), NULL, 0, NULL);
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

enum inspect_opened inspect_open_outcome(const struct inspect_run *r,
					 struct outbuf *err, int *rc)
{
	const struct report_message *m = &r->view.open_error;
	const uint8_t *text = NULL;
	struct report_rec rec;
	size_t off = 0;

	while (report_next(&r->view, &off, &rec)) {
		struct report_message w;
		const uint8_t *wtext;

		if (rec.type != REPORT_T_WARNING)
			continue;
		report_get_message(&rec, &w, &wtext);
		qmsg_open_warning(err, w.code);
	}
	if (!r->view.open_failed)
		return INSPECT_OPENED;
	/* The text of the (last) open error record, for the messages that
	 * quote one. */
	off = 0;
	while (report_next(&r->view, &off, &rec)) {
		if (rec.type == REPORT_T_OPEN_ERROR) {
			struct report_message e;
			report_get_message(&rec, &e, &text);
		}
	}
	if (qmsg_is_instar_refusal(m->code))
		return INSPECT_OPEN_REFUSED;
	*rc = qmsg_open_error(err, r->args->compat, r->args->filename, m, text);
	return INSPECT_OPEN_FAILED;
}

int inspect_print_refusal(const struct inspect_run *r)
{
	msg_print(stderr, qmsg_instar_refusal(r->view.open_error.code), r->shown,
		  strlen(r->shown), NULL);
	return EXIT_REFUSED;
}

void inspect_finish(struct inspect_run *r)
{
	if (r->prebuilt)
		steps_prebuilt_unused(&r->pre);
	steps_finish();
	outbuf_free(&r->report);
	if (r->opened)
		image_close(&r->img);
}
