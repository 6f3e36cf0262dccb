/*
 * amend_cmd.c — the flow of one `instar amend`:
 *   parse argv -> open + lock the image -> lockdown (capabilities,
 *   no_new_privs, seccomp) -> pre-probe (format, header, dirty/corrupt:
 *   the first bytes of the image are read only now) -> build the VM ->
 *   tighten seccomp -> run the guest in KVM -> validate its answer ->
 *   expand zero clusters (a downgrade) -> commit -> print.
 * Trust: the image bytes and everything the guest returns are hostile;
 * they are only handled through src/qcow2 (parse), src/image/validate.c,
 * src/image/zero_report.c, src/image/expand.c and src/image/commit.c.
 * This file only sequences and prints.
 */
#include "src/cli/amend_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/sandbox.h"
#include "seccomp/lockdown.h"
#include "seccomp/precompiled.h"
#include "src/amend/amend_plan.h"
#include "src/amend/amend_status.h"
#include "src/cli/amend_args.h"
#include "src/cli/guest_blob.h"
#include "src/cli/messages.h"
#include "src/cli/outbuf.h"
#include "src/cli/output.h"
#include "src/cli/progress.h"
#include "src/cli/sandbox_steps.h"
#include "src/image/amend_guest.h"
#include "src/image/commit.h"
#include "src/image/expand_file.h"
#include "src/image/image_file.h"
#include "src/image/validate.h"
#include "src/image/zero_report.h"
#include "src/qcow2/image_format.h"
#include "src/qcow2/qcow2_header.h"

/* Ceiling for a guest run that scans the tables (a compat=0.10
 * downgrade): 30 s and 1M VM exits. Measured walk speed (docs/sandbox.md,
 * "Time limits"): about 8-35 us per 64 KiB L2 table and one exit per 64
 * tables, so 30 s is above 400 TiB allocated with 64 KiB clusters; the
 * exit ceiling is far above what 30 s of walking makes. Header-only runs
 * keep the sandbox's default (1 s, 1000 exits). */
#define AMEND_SCAN_BUDGET_NS 30000000000ULL
#define AMEND_SCAN_MAX_EXITS 1000000u

/* The most report a downgrade's guest may hand over: the L2 tables that
 * hold zero entries, 16 bytes each (16 Mi tables: 1 PiB of image with
 * 64 KiB clusters). */
#define AMEND_REPORT_MAX (256u << 20)

/* The highest offset instar writes a sector at, in any image. */
#define AMEND_WRITE_CEILING LOCKDOWN_SETUP_LAST_SECTOR

/* GNU-style (Usage, description, Options, Exit status), so that the
 * manual page instar-amend(1) is generated from it (man/gen_man.sh):
 * each option's continuation lines start in its description column. */
void amend_usage(void)
{
	/* A help text that cannot be written is caught once, in main():
	 * stdout's error indicator is sticky. */
	(void)fputs(
"Usage: instar amend [OPTION]... -o KEY=VALUE[,KEY=VALUE...] FILE\n"
"\n"
"Change a qcow2 image's compat version and lazy_refcounts flag in place,\n"
"as `qemu-img amend` would. The header is read, planned and patched inside\n"
"a KVM guest; the host drops all capabilities and installs a seccomp\n"
"allow-list before opening /dev/kvm, checks everything the guest returns,\n"
"then writes only the changed bytes of the header cluster. A downgrade of\n"
"an image with zero clusters (compat=0.10 has no zero flag) also rewrites\n"
"the L2 entries the guest names, each by a rule the host checks itself:\n"
"a zero cluster becomes unallocated, or (over a backing file) a new\n"
"cluster of zeros past the end of the file, or keeps its host cluster,\n"
"filled with zeros; one whose host cluster a snapshot shares is detached\n"
"from it (qemu-img would zero the snapshot's data).\n"
"\n"
"Options:\n"
"  -f, --format <FMT>             Force format detection. qcow2 only;\n"
"                                 default: auto-detect from the file's\n"
"                                 magic bytes. A file that is not qcow2\n"
"                                 is refused even with -f qcow2.\n"
"  -o, --options <KEY=VALUE,...>  qemu-img-style options. Repeatable;\n"
"                                 comma-separated. At least one of\n"
"                                 compat=0.10, compat=1.1,\n"
"                                 lazy_refcounts=on|off\n"
"                                 (also true|false, yes|no).\n"
"                                 Other keys (refcount_bits, data_file,\n"
"                                 backing_file, cluster_size, ...) are\n"
"                                 refused. Giving one key two different\n"
"                                 values is refused. -o help (or -o ?)\n"
"                                 lists the keys as qemu-img amend does;\n"
"                                 no file is needed or read.\n"
"  -p, --progress                 Show progress on stdout while the guest\n"
"                                 works, as qemu-img amend -p does\n"
"                                 (\"    (12.34/100%)\" lines ending in a\n"
"                                 carriage return): how far into the image\n"
"                                 the guest has read. Not with -q (which\n"
"                                 wins) or --output json (refused).\n"
"  -q, --quiet                    Suppress \"Image amended.\" or \"No change.\"\n"
"                                 on success. Errors still go to stderr.\n"
"      --output <FORMAT>          human (default) | json\n"
"      --stats                    After the guest's run, print its counters\n"
"                                 on stderr: \"instar amend: stats: ...\"\n"
"                                 (VM exits, queue notifications, virtio\n"
"                                 requests, guest run and sandbox times).\n"
"  -h, --help                     Show this help.\n"
"\n"
"Refused (nothing is written): images that are not qcow2, unparsable,\n"
"dirty, corrupt or encrypted, or whose tables lie outside the file;\n"
"images another process (QEMU, qemu-nbd) holds locked; lazy_refcounts=on\n"
"on a v2 image without compat=1.1; compat=0.10 on an image with extended\n"
"L2, an external data file, refcount_bits != 16, compressed zstd\n"
"clusters, persistent bitmaps or a snapshot of another size, or whose\n"
"zero clusters would need a larger refcount table or lie on metadata;\n"
"compat=1.1 on an image whose snapshots lack v3's size fields.\n"
"A downgrade reads the image's L1/L2 and snapshot tables (in the guest)\n"
"to decide; everything else reads only the header cluster.\n"
"\n"
"Requires /dev/kvm (root, or a member of the kvm group).\n"
"\n"
"Exit status:\n"
"  0  the image was amended, or no change was needed\n"
"  1  refused or failed (nothing was written)\n"
"  2  bad command line (nothing was opened)\n",
		stdout);
}

/* -o help: the keys instar amend takes, in qemu-img amend -o help's
 * words and layout (learned by running qemu-img 7.2 on a qcow2 image:
 * the same lines for these two keys, the other keys left out). */
static int options_help(void)
{
	(void)fputs("Amend options for 'qcow2':\n"
		    "  compat=<str>           - Compatibility level (v2 [0.10] or v3 [1.1])\n"
		    "  lazy_refcounts=<bool (on/off)> - Postpone refcount updates\n",
		    stdout);
	return EXIT_OK;   /* a failed write is caught in main() */
}

static int usage_error(const struct args_error *err)
{
	msg_print(stderr, msg_args(err->code), err->arg, err->arg_len, NULL);
	if (err->code == ARGS_NOT_QCOW2_FORMAT)
		return EXIT_REFUSED;
	return EXIT_USAGE;
}

static int refuse(enum amend_status s)
{
	msg_print(stderr, msg_amend(s), NULL, 0, NULL);
	return EXIT_REFUSED;
}

static int image_error(const char *path, const struct image_file *img,
		       enum image_err e)
{
	const char *why = img->sys_errno ? strerror(img->sys_errno)
					 : "unexpected end of file";
	msg_print(stderr, msg_image(e), path, strlen(path), why);
	return EXIT_REFUSED;
}

/* Pre-probe, after lockdown: read the head/tail and the header cluster,
 * name the format, and let the planner's preflight (src/amend) parse the
 * header and refuse what it refuses before any guest runs. */
static int preprobe(const char *path, struct image_file *img,
		    struct qcow2_header *h)
{
	enum image_format fmt;
	enum image_err ie;
	enum amend_status s;
	uint32_t cs;

	ie = image_read_probe(img);
	if (ie != IMAGE_OK)
		return image_error(path, img, ie);
	fmt = image_format_detect(img->head, img->head_len, img->tail,
				  img->tail_len);
	if (fmt != IMAGE_FORMAT_QCOW2)
		return refuse(AMEND_ERR_NOT_QCOW2);
	if (qcow2_probe_cluster_size(img->head, img->head_len, &cs) != QCOW2_OK)
		return refuse(AMEND_ERR_PARSE);
	ie = image_read_cluster(img, cs);
	if (ie == IMAGE_ERR_READ && img->sys_errno == 0)
		return refuse(AMEND_ERR_PARSE);   /* shorter than a cluster */
	if (ie != IMAGE_OK)
		return image_error(path, img, ie);
	s = amend_preflight(img->cluster, img->cluster_len, img->size, h);
	return s == AMEND_CHANGED ? EXIT_OK : refuse(s);
}

/* The result line or JSON object; EXIT_OK only if all of it reached
 * stdout (a full disk or a closed pipe must not read as success to the
 * caller who parses it: the image is amended then, and exit status 1
 * says the command failed). */
static int print_success(const struct amend_args *a, bool amended,
			 uint32_t version, bool lazy)
{
	if (a->output == OUTPUT_JSON) {
		print_json_result(stdout, a->filename, amended, version, lazy);
	} else if (!a->quiet) {
		(void)puts(amended ? "Image amended." : "No change.");
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		const char *why = strerror(errno);

		msg_print(stderr, msg_stdout(), why, strlen(why), NULL);
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

/* The report sink of a downgrade: append the records of a flush or of
 * the end, up to AMEND_REPORT_MAX bytes in all. */
static bool take_report(void *ctx, const uint8_t *p, uint32_t len)
{
	struct outbuf *b = ctx;

	if (len > AMEND_REPORT_MAX - b->len)
		return false;
	outbuf_put(b, (const char *)p, len);
	return !b->failed;
}

/* A downgrade of a version 3 image walks every table and may expand
 * zero clusters: its guest lists their tables (report), and the host's
 * writes may reach past the header cluster, up to expand_max_end(). */
static bool may_expand(const struct image_file *img,
		       const struct amend_args *a)
{
	/* (Only a downgrade, of a version 3 image, walks every table.) */
	return amend_scan_reach(img->cluster, img->cluster_len, &a->request) ==
	       AMEND_SCAN_ALL_TABLES;
}

/* Run the guest on the pre-probed image; EXIT_OK when it rang its
 * doorbell under the tightened filter (out then holds what it did). */
static int run_guest(const struct amend_args *a, const struct image_file *img,
		     const struct lockdown_binding *bind,
		     struct sandbox_prebuilt *pre, struct sandbox_outcome *out,
		     struct progress *prog, struct outbuf *report)
{
	struct sandbox_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.progress = progress_update;
	cfg.progress_ctx = prog;
	cfg.image_fd = img->fd;
	cfg.disk_bytes = img->size;
	cfg.cluster_size = (uint32_t)img->cluster_len;
	cfg.preprobe = img->cluster;
	cfg.request = amend_guest_request(a->request);
	cfg.guest = instar_guest_blob();
	/* A downgrade walks every L1/L2 table in the guest, an upgrade of an
	 * image with snapshots its snapshot table: give those the larger,
	 * documented ceiling (docs/sandbox.md, "Time limits"). */
	if (amend_needs_scan(img->cluster, img->cluster_len, &a->request)) {
		cfg.walk_tables = true;
		cfg.budget_ns = AMEND_SCAN_BUDGET_NS;
		cfg.max_exits = AMEND_SCAN_MAX_EXITS;
	}
	if (may_expand(img, a)) {
		cfg.report = true;
		cfg.report_take = take_report;
		cfg.report_ctx = report;
	}
	return steps_run_guest(&cfg, bind, pre, a->stats, out);
}

/* The expansion of the zero clusters the guest's report names (none:
 * nothing to do), by the host's own rules (src/image/expand.h), before
 * the header is committed. */
static int expand_zero_clusters(const struct amend_args *a,
				struct image_file *img,
				const struct qcow2_header *h,
				const struct outbuf *report)
{
	struct expand_plan plan;
	enum expand_err ee;
	enum image_err ie;
	uint64_t *tables;
	uint32_t n = 0;
	size_t max = zero_report_max_tables(report->len);

	if (report->len == 0)
		return EXIT_OK;
	tables = malloc((max ? max : 1u) * sizeof(uint64_t));
	if (tables == NULL)
		return image_error(a->filename, img, IMAGE_ERR_NOMEM);
	if (!zero_report_parse((const uint8_t *)report->p, report->len,
			       tables, &n)) {
		free(tables);
		msg_print(stderr, msg_validate(VALIDATE_ERR_RECORD), NULL, 0,
			  NULL);
		return EXIT_REFUSED;
	}
	if (n == 0) {
		free(tables);
		return EXIT_OK;
	}
	ie = image_expand(img, h, tables, n, &plan, &ee);
	free(tables);
	expand_free(&plan);
	if (ie != IMAGE_OK)
		return image_error(a->filename, img, ie);
	if (ee != EXPAND_OK) {
		msg_print(stderr, msg_expand(ee), NULL, 0, NULL);
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

/* Hold the guest's answer against the host's own expectation; commit an
 * accepted amend (after looking at the file once more, and after the
 * expansion of its zero clusters, if any). */
static int judge_and_commit(const struct amend_args *a, struct image_file *img,
			    const struct qcow2_header *h,
			    const struct sandbox_outcome *out,
			    struct progress *prog, const struct outbuf *report)
{
	struct validate_input vin;
	struct validate_output vout;
	enum validate_err ve;
	enum image_err ie;
	int rc = EXIT_REFUSED;

	memset(&vin, 0, sizeof(vin));
	vin.pre = img->cluster;
	vin.pre_hdr = h;
	vin.len = img->cluster_len;
	vin.req = &a->request;
	vin.res = &out->result;
	vin.staged = out->staged;
	vin.expected = malloc(img->cluster_len);
	if (vin.expected == NULL)
		return image_error(a->filename, img, IMAGE_ERR_NOMEM);
	ve = validate_guest(&vin, &vout);
	switch (ve) {
	case VALIDATE_REFUSED:
		rc = refuse((enum amend_status)vout.guest_status);
		goto done;
	case VALIDATE_NOOP:
		progress_end(prog, true);
		rc = print_success(a, false, vout.version, vout.lazy);
		goto done;
	case VALIDATE_AMENDED:
		break;
	default:
		msg_print(stderr, msg_validate(ve), NULL, 0, NULL);
		goto done;
	}
	/* We hold the image lock, but a writer that ignores locks could
	 * have changed the file meanwhile: look again before writing. */
	ie = image_check_unchanged(img);
	if (ie != IMAGE_OK) {
		rc = image_error(a->filename, img, ie);
		goto done;
	}
	rc = expand_zero_clusters(a, img, h, report);
	if (rc != EXIT_OK)
		goto done;
	ie = image_commit(img, out->staged, &vout.ranges);
	if (ie != IMAGE_OK) {
		rc = image_error(a->filename, img, ie);
		goto done;
	}
	progress_end(prog, true);
	rc = print_success(a, true, vout.version, vout.lazy);
done:
	free(vin.expected);
	return rc;
}

/* The last sector the tightened filter lets pwrite64 reach: the header
 * cluster's, or for a downgrade that may expand zero clusters, the last
 * of the largest file the expansion can leave (expand_max_end()). */
static uint64_t write_bound(const struct amend_args *a,
			    const struct image_file *img,
			    const struct qcow2_header *h)
{
	uint64_t end;
	unsigned bits = h->cluster_bits;

	if (!may_expand(img, a))
		return img->cluster_len - GUEST_SECTOR_SIZE;
	/* A power of two, so that the filter is one of the precompiled
	 * ones (seccomp/precompiled.h: libseccomp cannot run once the
	 * first filter is in). */
	end = expand_max_end(h, img->size);
	while (bits < LOCKDOWN_MAX_WRITE_BITS && (1ULL << bits) < end)
		bits++;
	return (1ULL << bits) - GUEST_SECTOR_SIZE;
}

/* Lock down, then everything that touches the image's bytes: pre-probe,
 * guest, validation, commit. */
static int sandboxed_amend(const struct amend_args *a, struct image_file *img)
{
	/* Until the header is known (after lockdown), writes are bounded by
	 * the ceiling of every image; the filter the guest runs under
	 * narrows it to this image's (write_bound()). */
	struct lockdown_binding bind = {
		.image_fd = img->fd,
		.kvm_path = sandbox_kvm_path(),
		.write_last_sector = AMEND_WRITE_CEILING,
	};
	struct outbuf report;
	struct sandbox_outcome out;
	struct sandbox_prebuilt pre;
	struct qcow2_header *h = NULL;
	struct progress prog = { stdout, false, false, 0.0 };
	int rc;

	rc = steps_lockdown(&bind);
	if (rc != EXIT_OK)
		return rc;
	/* /dev/kvm, the VM and its vCPU do not depend on the image: the
	 * helper thread builds them while this one pre-probes. */
	memset(&out, 0, sizeof(out));
	outbuf_init(&report);
	steps_prebuild(&pre);
	h = malloc(sizeof(*h));
	if (h == NULL) {
		rc = image_error(a->filename, img, IMAGE_ERR_NOMEM);
		goto unused;
	}
	rc = preprobe(a->filename, img, h);
	if (rc != EXIT_OK)
		goto unused;
	out.staged = malloc(img->cluster_len);
	if (out.staged == NULL) {
		rc = image_error(a->filename, img, IMAGE_ERR_NOMEM);
		goto unused;
	}
	bind.write_last_sector = write_bound(a, img, h);
	progress_start(&prog, stdout, a->progress && !a->quiet);
	rc = run_guest(a, img, &bind, &pre, &out, &prog, &report);
	if (rc == EXIT_OK)
		rc = judge_and_commit(a, img, h, &out, &prog, &report);
	progress_end(&prog, false);   /* a refusal: end the line first */
	goto done;
unused:
	steps_prebuilt_unused(&pre);
done:
	steps_finish();
	outbuf_free(&report);
	free(out.staged);
	free(h);
	return rc;
}

int amend_main(int argc, char *const argv[])
{
	struct amend_args args;
	struct args_error err;
	struct image_file img;
	enum args_err ae;
	enum image_err ie;
	int rc;

	ae = amend_args_parse(argc, argv, &args, &err);
	if (ae == ARGS_HELP) {
		amend_usage();
		return EXIT_OK;
	}
	if (ae == ARGS_OPTIONS_HELP)
		return options_help();
	if (ae != ARGS_OK)
		return usage_error(&err);

	ie = image_open(args.filename, &img);
	if (ie == IMAGE_OK)
		rc = sandboxed_amend(&args, &img);
	else
		rc = image_error(args.filename, &img, ie);
	image_close(&img);
	return rc;
}
