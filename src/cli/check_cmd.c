/*
 * check_cmd.c — the flow of one `instar check`: parse argv -> open the
 * image read-only with qemu-img's reader locks -> lockdown (read-only
 * profile) -> probe -> raw: qemu-img's "does not support checks"; qcow2:
 * the guest opens it in check mode and walks every table, counting every
 * cluster's references and reporting each finding -> the report is
 * checked -> print it as qemu-img does, with its exit status.
 *
 * Trust: argv is user input; the image's bytes and the guest's report are
 * hostile and reach this file only through src/qcow2, inspect_run.c and
 * src/image/report_parse.c. This file only sequences and prints.
 */
#include "src/cli/check_cmd.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sandbox/sandbox.h"
#include "src/cli/check_print.h"
#include "src/cli/inspect_args.h"
#include "src/cli/inspect_run.h"
#include "src/cli/messages.h"
#include "src/cli/outbuf.h"
#include "src/cli/output.h"
#include "src/qcow2/qcow2_check.h"
#include "src/qcow2/qcow2_open.h"

/* The guest's ceiling: a walk of every table. Measured walk speed
 * (docs/check.md, "Limits"): far below it for images of tens of TiB. */
#define CHECK_BUDGET_NS 300000000000ULL
#define CHECK_MAX_EXITS 10000000u
#define EXIT_NO_CHECK 63   /* qemu-img: the format has no check */

void check_usage(void)
{
	(void)fputs(
"Usage: instar check [OPTION]... FILE\n"
"\n"
"Check a qcow2 image as `qemu-img check` does, without repairing it:\n"
"every L1 and L2 table (active and of every snapshot), the refcount table\n"
"and blocks, the snapshot table and the bitmaps are read, every cluster's\n"
"references counted and compared with its refcount, and every finding\n"
"printed byte for byte as the chosen qemu-img release prints it (stdout,\n"
"stderr and exit status). All of it runs inside a KVM guest, under a host\n"
"that has dropped its capabilities and allows no write to the image. A\n"
"backing file or an external data file the image names is never opened.\n"
"\n"
"Options:\n"
"  -f, --format <FMT>             qcow2 or raw; default: probe the file\n"
"                                 as qemu-img does. Other formats are\n"
"                                 refused: not supported yet.\n"
"      --output <FORMAT>          human (default) or json; also\n"
"                                 --output=json.\n"
"      --qemu-compat <VERSION>    print as this qemu-img release does:\n"
"                                 5.2, 7.2, 10.0 or 11.1 (default 11.1).\n"
"  -U, --force-share              check the image even if another process\n"
"                                 holds it open (takes and tests no lock).\n"
"  -q, --quiet                    print no report on stdout; findings\n"
"                                 still go to stderr.\n"
"      --stats                    after the guest's run, print its\n"
"                                 counters on stderr.\n"
"  -h, --help                     show this help and exit.\n"
"\n"
"Snapshot names and the file name have their control characters escaped\n"
"as \\xHH in messages; qemu-img prints them raw.\n"
"\n"
"Exit status:\n"
"  0   no errors were found\n"
"  1   the image could not be opened, the check failed, or a bad\n"
"      command line (as qemu-img check: 2 means corruptions)\n"
"  2   errors (corruptions) were found\n"
"  3   only leaked clusters were found\n"
"  63  the format has no check (raw)\n"
"\n"
"Requires /dev/kvm (root, or a member of the kvm group).\n",
		stdout);
}

static int usage_error(const struct iargs_error *err)
{
	const char *a = err->arg;

	msg_print(stderr, msg_iargs(INSPECT_CHECK, err->code), a, a != NULL ? strlen(a) : 0, NULL);
	/* Not EXIT_USAGE: qemu-img check's 2 means corruptions were found,
	 * and a bad command line is 1 there, as here, so that a script never
	 * takes the one for the other. */
	return EXIT_REFUSED;
}

/* The counter memory the guest needs for this file, from the header the
 * host read: 0 when the header is one the open refuses, or the image has
 * more clusters than qemu-img checks (the guest then says so itself);
 * false when it passes the ceiling of guest memory. */
static bool counters_for(const struct inspect_run *r, uint64_t *bytes)
{
	struct qcow2_fields f;
	uint64_t max = sandbox_max_extra_work((uint32_t)r->img.cluster_len);

	*bytes = 0;
	qcow2_fields_read(r->img.cluster, &f);
	if ((f.version != 2 && f.version != 3) ||
	    f.cluster_bits < 9u || f.cluster_bits > 21u || f.refcount_order > 6u)
		return true;
	if (!qcow2_check_counter_bytes(r->img.size, f.cluster_bits,
				       f.refcount_order, bytes)) {
		*bytes = 0;
		return true;
	}
	return max > GUEST_INSPECT_WORK_BYTES - GUEST_WORK_BYTES &&
	       *bytes <= max - (GUEST_INSPECT_WORK_BYTES - GUEST_WORK_BYTES);
}

static int emit_all(struct outbuf *err, struct outbuf *out, int rc)
{
	bool ok;

	(void)inspect_emit(err->p, err->len, STDERR_FILENO);
	ok = !out->failed && inspect_emit(out->p, out->len, STDOUT_FILENO);
	outbuf_free(err);
	outbuf_free(out);
	if (!ok) {
		msg_print(stderr, msg_stdout(), "write error", 11, NULL);
		return EXIT_REFUSED;
	}
	return rc;
}

static int qcow2_check_run(struct inspect_run *r)
{
	const struct inspect_args *a = r->args;
	struct guest_request req = { GUEST_CMD_CHECK,
				     { a->compat->open_behaviour,
				       a->compat->check_behaviour, 0 } };
	struct outbuf err, out;
	uint64_t counters;
	int rc;

	rc = inspect_lock_verdict(r);
	if (rc != EXIT_OK)
		return rc;
	/* The header, for the counters' size; the guest gets it too. */
	if (image_read_padded(&r->img, 512u) != IMAGE_OK)
		return EXIT_REFUSED;
	if (!counters_for(r, &counters)) {
		char n[32];
		(void)snprintf(n, sizeof(n), "%llu bytes of counters",
			       (unsigned long long)counters);
		msg_print(stderr, msg_inspect(INSPECT_ERR_TOO_LARGE), n, strlen(n), NULL);
		return EXIT_REFUSED;
	}
	req.arg[2] = (uint32_t)counters;
	rc = inspect_run_guest(r, req, REPORT_KIND_CHECK,
			       (GUEST_INSPECT_WORK_BYTES - GUEST_WORK_BYTES) + counters,
			       CHECK_BUDGET_NS, CHECK_MAX_EXITS);
	if (rc != EXIT_OK)
		return rc;
	outbuf_init(&err);
	outbuf_init(&out);
	switch (inspect_open_outcome(r, &err, &rc)) {
	case INSPECT_OPEN_REFUSED:
		(void)emit_all(&err, &out, 0);
		return inspect_print_refusal(r);
	case INSPECT_OPEN_FAILED:
		return emit_all(&err, &out, rc);
	case INSPECT_OPENED:
		break;
	}
	check_print_findings(&err, &r->view);
	rc = check_print_report(&out, &err, &r->view, a->filename,
				a->output == OUTPUT_JSON, a->quiet);
	return emit_all(&err, &out, rc);
}

int check_main(int argc, char *const argv[])
{
	struct inspect_args a;
	struct iargs_error err;
	struct inspect_run r;
	enum iargs_err ae;
	int rc;

	ae = inspect_args_parse(INSPECT_CHECK, argc, argv, &a, &err);
	if (ae == IARGS_HELP) {
		check_usage();
		return EXIT_OK;
	}
	if (ae != IARGS_OK)
		return usage_error(&err);
	rc = inspect_open(&r, &a);
	if (rc == EXIT_OK)
		rc = inspect_lockdown_probe(&r);
	if (rc == EXIT_OK) {
		switch (r.format) {
		case IMAGE_FORMAT_RAW:
			(void)fputs("qemu-img: This image format does not support "
				    "checks\n", stderr);
			rc = EXIT_NO_CHECK;
			break;
		case IMAGE_FORMAT_QCOW2:
			rc = qcow2_check_run(&r);
			break;
		default:
			rc = inspect_refuse_format(&r);
			break;
		}
	}
	inspect_finish(&r);
	return rc;
}
