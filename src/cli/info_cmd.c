/*
 * info_cmd.c — the flow of one `instar info`: parse argv -> open the
 * image read-only (qemu-img's reader locks) -> lockdown (read-only
 * profile) -> probe the format as qemu-img does -> raw: its sizes, from
 * the host; qcow2: the guest opens it as qemu-img would and reports ->
 * the report is checked -> print it as the chosen qemu-img release does.
 *
 * Trust: argv is user input; the image's bytes and the guest's report are
 * hostile and reach this file only through src/qcow2, inspect_run.c and
 * src/image/report_parse.c. This file only sequences and prints.
 */
#include "src/cli/info_cmd.h"

#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "src/cli/info_print.h"
#include "src/cli/inspect_args.h"
#include "src/cli/inspect_run.h"
#include "src/cli/messages.h"
#include "src/cli/outbuf.h"
#include "src/cli/output.h"

/* The guest's ceiling: reading a snapshot table of at most 64 MiB and a
 * bitmap directory of at most 64 MiB is far below it on these machines
 * (docs/info.md, "Limits"). */
#define INFO_BUDGET_NS 30000000000ULL
#define INFO_MAX_EXITS 1000000u
/* Work memory past GUEST_WORK_BYTES: the bitmap directory (at most
 * 64 MiB) read whole, a window over the bitmap tables and the set of
 * bitmap names. */
#define INFO_EXTRA_WORK (40u << 20)

/* GNU-style, for the manual page instar-info(1) (man/gen_man.sh). */
void info_usage(void)
{
	(void)fputs(
"Usage: instar info [OPTION]... FILE\n"
"\n"
"Show what `qemu-img info` shows of a qcow2 or raw image, byte for byte as\n"
"the chosen qemu-img release prints it (stdout, stderr and exit status).\n"
"The image is opened read-only; everything in it is interpreted inside a\n"
"KVM guest, by a host that has dropped its capabilities and installed a\n"
"seccomp allow-list without any write to the image. A backing file or an\n"
"external data file the image names is never opened.\n"
"\n"
"Options:\n"
"  -f, --format <FMT>             qcow2 or raw; default: probe the file\n"
"                                 as qemu-img does. Other formats (vmdk,\n"
"                                 vpc, vhdx, qcow, qed, vdi, ...) are\n"
"                                 refused: not supported yet.\n"
"      --output <FORMAT>          human (default) or json; also\n"
"                                 --output=json.\n"
"      --qemu-compat <VERSION>    print as this qemu-img release does:\n"
"                                 5.2, 7.2, 10.0 or 11.1 (default 11.1).\n"
"  -U, --force-share              open the image even if another process\n"
"                                 holds it open for writing (takes and\n"
"                                 tests no lock).\n"
"      --stats                    after the guest's run, print its\n"
"                                 counters on stderr.\n"
"  -h, --help                     show this help and exit.\n"
"\n"
"Names taken from the image (backing file, snapshots, bitmaps, data file)\n"
"and the file name have their control characters escaped as \\xHH in\n"
"human output and in messages; qemu-img prints them raw.\n"
"\n"
"Exit status:\n"
"  0  the image was shown\n"
"  1  it could not be opened (qemu-img's message), or instar refused it\n"
"  2  bad command line\n"
"\n"
"Requires /dev/kvm (root, or a member of the kvm group) for qcow2 images.\n",
		stdout);
}

static int usage_error(const struct iargs_error *err)
{
	const char *a = err->arg;

	msg_print(stderr, msg_iargs(INSPECT_INFO, err->code), a, a != NULL ? strlen(a) : 0, NULL);
	return err->code == IARGS_UNSUPPORTED_FORMAT ? EXIT_REFUSED : EXIT_USAGE;
}

/* The report on stdout; EXIT_OK only if all of it got there. */
static int print_report(const struct inspect_args *a,
			const struct info_facts *f)
{
	struct outbuf out;
	bool ok;

	outbuf_init(&out);
	if (a->output == OUTPUT_JSON)
		info_print_json(&out, f, a->compat);
	else
		info_print_human(&out, f, a->compat);
	ok = !out.failed && inspect_emit(out.p, out.len, STDOUT_FILENO);
	outbuf_free(&out);
	if (!ok) {
		msg_print(stderr, msg_stdout(), "write error", 11, NULL);
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

static void facts_of(const struct inspect_run *r, bool qcow2,
		     struct info_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->filename = r->shown;
	f->qcow2 = qcow2;
	f->v = qcow2 ? &r->view : NULL;
	f->file_bytes = r->img.size;
	f->actual_size = r->img.alloc_bytes;
	f->block_device = r->img.block_device;
}

/* The guest's report: its warnings on stderr, then a refusal or the
 * report on stdout. */
static int qcow2_info(struct inspect_run *r)
{
	const struct inspect_args *a = r->args;
	struct guest_request req = { GUEST_CMD_INFO,
				     { a->compat->open_behaviour, 0, 0 } };
	struct outbuf err;
	struct info_facts f;
	enum inspect_opened opened;
	int rc;

	rc = inspect_lock_verdict(r);
	if (rc == EXIT_OK)
		rc = inspect_run_guest(r, req, REPORT_KIND_INFO, INFO_EXTRA_WORK,
				       INFO_BUDGET_NS, INFO_MAX_EXITS);
	if (rc != EXIT_OK)
		return rc;
	outbuf_init(&err);
	opened = inspect_open_outcome(r, &err, &rc);
	(void)inspect_emit(err.p, err.len, STDERR_FILENO);
	outbuf_free(&err);
	if (opened == INSPECT_OPEN_REFUSED)
		return inspect_print_refusal(r);
	if (opened == INSPECT_OPEN_FAILED)
		return rc;
	facts_of(r, true, &f);
	return print_report(a, &f);
}

int info_main(int argc, char *const argv[])
{
	struct inspect_args a;
	struct iargs_error err;
	struct inspect_run r;
	struct info_facts f;
	enum iargs_err ae;
	int rc;

	ae = inspect_args_parse(INSPECT_INFO, argc, argv, &a, &err);
	if (ae == IARGS_HELP) {
		info_usage();
		return EXIT_OK;
	}
	if (ae != IARGS_OK)
		return usage_error(&err);
	/* Snapshot dates are local time: the zone is loaded now, before
	 * lockdown forbids opening /etc/localtime. */
	tzset();
	rc = inspect_open(&r, &a);
	if (rc == EXIT_OK)
		rc = inspect_lockdown_probe(&r);
	if (rc == EXIT_OK) {
		switch (r.format) {
		case IMAGE_FORMAT_RAW:
			facts_of(&r, false, &f);
			rc = print_report(&a, &f);
			break;
		case IMAGE_FORMAT_QCOW2:
			rc = qcow2_info(&r);
			break;
		default:
			rc = inspect_refuse_format(&r);
			break;
		}
	}
	inspect_finish(&r);
	return rc;
}
