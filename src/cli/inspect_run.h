/*
 * inspect_run.h — the flow `instar info` and `instar check` share, in
 * DESIGN.md's order: the image name as qemu-img reads it (a "file:"
 * prefix, other protocols), a read-only open with qemu-img's reader
 * locks, lockdown (the read-only seccomp profile: no pwrite64, no
 * fdatasync), the format probe as qemu-img probes it, and, for a qcow2
 * image, the guest's run with its report, checked record by record
 * (src/image/report_parse.c) and held against the header the host read
 * itself; then the open's outcome in qemu-img's words (its warnings, its
 * open error or instar's refusal). The rest of what is printed is the
 * commands' own (info_cmd.c, check_cmd.c).
 *
 * Trust: the file name is user input; the image's bytes are only copied
 * here (the probe and the checks are src/qcow2's); the report is hostile
 * until report_parse() accepts it.
 */
#ifndef INSTAR_INSPECT_RUN_H
#define INSTAR_INSPECT_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox/sandbox.h"
#include "seccomp/lockdown.h"
#include "src/cli/inspect_args.h"
#include "src/cli/inspect_err.h"
#include "src/image/image_file.h"
#include "src/cli/outbuf.h"
#include "src/image/report_parse.h"
#include "src/qcow2/image_format.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most report bytes the host takes from one guest run (about six
 * million check findings); a report past it is refused with
 * SANDBOX_ERR_REPORT_REFUSED (docs/check.md, "Limits"). */
#define INSPECT_REPORT_MAX (256u << 20)

struct inspect_run {
	const struct inspect_args *args;
	const char *path;              /* the file opened (no "file:" prefix) */
	const char *shown;             /* the name qemu-img shows as the image */
	struct image_file img;
	bool opened;
	enum image_format format;      /* as qemu-img's probe (or -f) says */
	struct lockdown_binding bind;
	struct sandbox_prebuilt pre;
	bool prebuilt;                 /* pre is being built and not yet used */
	struct sandbox_outcome out;
	struct outbuf report;          /* the records the guest handed over */
	struct report_view view;
};

/* The name, the open and the locks: EXIT_OK to go on, else the exit
 * status after printing qemu-img's or instar's message. */
int inspect_open(struct inspect_run *r, const struct inspect_args *a);

/* Lockdown and the probe (r->format): EXIT_OK to go on, else the exit
 * status after printing why. Starts building the VM. */
int inspect_lockdown_probe(struct inspect_run *r);

/* The lock conflict qemu-img reports for a qcow2 image (after the
 * probe): EXIT_OK, or 1 after printing qemu-img's two lines. */
int inspect_lock_verdict(struct inspect_run *r);

/* Refuse a format instar does not read: exit 1 after saying so. */
int inspect_refuse_format(const struct inspect_run *r);

/* Run the guest with `request` on the qcow2 image, the report's records
 * in r->view (checked for `kind`): EXIT_OK, or the exit status after
 * printing why not. extra_work: more work memory than GUEST_WORK_BYTES
 * (check's counters); budget_ns / max_exits: the run's ceiling. */
int inspect_run_guest(struct inspect_run *r, struct guest_request request,
		      enum report_kind kind, uint64_t extra_work,
		      uint64_t budget_ns, uint32_t max_exits);

/* How the guest's open of the image ended, as qemu-img reports it. */
enum inspect_opened {
	INSPECT_OPENED,        /* go on to the command's report */
	INSPECT_OPEN_FAILED,   /* qemu-img's open error: print, exit *rc */
	INSPECT_OPEN_REFUSED,  /* a failure instar states in its own words */
};

/* After inspect_run_guest(): the open's warnings appended to err in the
 * guest's order; if the open failed, qemu-img's open error appended and
 * *rc set to its exit status (INSPECT_OPEN_FAILED), or nothing more
 * (INSPECT_OPEN_REFUSED: write err, then inspect_print_refusal()). */
enum inspect_opened inspect_open_outcome(const struct inspect_run *r,
					 struct outbuf *err, int *rc);

/* instar's own words for the failed open of INSPECT_OPEN_REFUSED, on
 * stderr; returns the exit status (1). */
int inspect_print_refusal(const struct inspect_run *r);

/* Release everything (the VM, the report, the file and its locks). */
void inspect_finish(struct inspect_run *r);

/* Write a whole buffer to stdout or stderr; false on a write error
 * (printed as the stdout message of the table). */
bool inspect_emit(const char *p, size_t n, int fd);

#ifdef __cplusplus
}
#endif

#endif
