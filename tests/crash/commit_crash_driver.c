/*
 * commit_crash_driver.c — test-only driver for the crash-consistency test
 * (tests/crash/crash_test.sh). It amends IMAGE in place the way instar's
 * host side commits — image_open (locks), image_read_probe, image_read_cluster, the planner
 * src/amend (and, for a downgrade, its table scan over the file) run on
 * the host instead of in the guest — fine for a test of the commit layer, image_check_unchanged, image_commit — but with the
 * commit's test-only fault-injection point armed: with K >= 1 the commit
 * stops right after its K-th pwrite, as a crash would; K = 0 runs it to
 * the end.
 *
 * Usage: commit_crash_driver IMAGE OPTIONS K
 *   OPTIONS: comma-separated compat=0.10|1.1, lazy_refcounts=on|off
 * Prints one line: `writes=N syncs=M complete=0|1 status=S`.
 * Exit: 0 when the commit ran (to the end, or to the injected stop),
 * 3 when the planner refused or had nothing to do, 1 on any other error.
 *
 * Trust: test code; the image is a scratch copy the test made.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "abi/guest_abi.h"
#include "src/amend/amend_plan.h"
#include "src/amend/amend_request.h"
#include "src/amend/amend_scan.h"
#include "src/image/commit.h"
#include "src/image/commit_fault.h"
#include "src/image/image_file.h"
#include "src/qcow2/qcow2_header.h"
#include "tests/tools/table_reader.h"

/* Diagnostics on stderr are not checked ((void)): one that cannot be
 * written has nowhere else to go, and the exit status still tells. */

static int parse_options(const char *s, struct amend_request *req)
{
	char buf[256];
	char *save = NULL;
	size_t n = strlen(s);

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n + 1);
	req->compat = AMEND_COMPAT_KEEP;
	req->lazy = AMEND_LAZY_KEEP;
	for (char *t = strtok_r(buf, ",", &save); t != NULL;
	     t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, "compat=0.10") == 0)
			req->compat = AMEND_COMPAT_V2;
		else if (strcmp(t, "compat=1.1") == 0)
			req->compat = AMEND_COMPAT_V3;
		else if (strcmp(t, "lazy_refcounts=on") == 0)
			req->lazy = AMEND_LAZY_ON;
		else if (strcmp(t, "lazy_refcounts=off") == 0)
			req->lazy = AMEND_LAZY_OFF;
		else
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct image_file img;
	struct amend_request req;
	struct amend_plan *plan;
	struct amend_scan scan;
	uint8_t *out, *staged;
	unsigned k;
	uint32_t bits;
	enum image_err e;
	enum amend_status st;
	int rc = 1;

	if (argc != 4 || parse_options(argv[2], &req) != 0) {
		(void)fprintf(stderr, "usage: %s IMAGE OPTIONS K\n", argv[0]);
		return 1;
	}
	k = (unsigned)strtoul(argv[3], NULL, 10);
	e = image_open(argv[1], &img);
	if (e == IMAGE_OK)
		e = image_read_probe(&img);
	if (e != IMAGE_OK) {
		(void)fprintf(stderr, "image_open: %d (%s)\n", (int)e,
			      strerror(img.sys_errno));
		image_close(&img);
		return 1;
	}
	if (img.head_len < 24) {
		(void)fprintf(stderr, "short image\n");
		image_close(&img);
		return 1;
	}
	bits = (uint32_t)img.head[20] << 24 | (uint32_t)img.head[21] << 16 |
	       (uint32_t)img.head[22] << 8 | img.head[23];
	if (bits < 9 || bits > 21 ||
	    image_read_cluster(&img, (size_t)1 << bits) != IMAGE_OK) {
		(void)fprintf(stderr, "cannot read the header cluster\n");
		image_close(&img);
		return 1;
	}
	plan = calloc(1, sizeof(*plan));
	out = calloc(1, img.cluster_len);
	staged = malloc(img.cluster_len);
	if (plan == NULL || out == NULL || staged == NULL) {
		(void)fprintf(stderr, "out of memory\n");
		goto done;
	}
	/* A downgrade needs the table scan (zero clusters etc.): run the
	 * real one over the file, as the guest would. */
	memset(&scan, 0, sizeof(scan));
	if (amend_needs_scan(img.cluster, img.cluster_len, &req)) {
		struct qcow2_header *h = malloc(sizeof(*h));
		uint8_t *scratch = malloc(GUEST_WORK_BYTES);
		struct table_file tf = { img.fd, img.size, 0, 0 };
		const struct qcow2_io io = { table_file_read, &tf, TABLE_BATCH };

		st = AMEND_ERR_PARSE;
		if (h != NULL && scratch != NULL &&
		    qcow2_parse(img.cluster, img.cluster_len, h) == QCOW2_OK)
			st = amend_scan_tables(h, amend_scan_reach(img.cluster,
								   img.cluster_len, &req),
					       img.size, &io, scratch,
					       GUEST_WORK_BYTES, &scan);
		free(h);
		free(scratch);
		if (st != AMEND_CHANGED) {
			printf("writes=0 syncs=0 complete=1 status=%d\n",
			       (int)st);
			rc = 3;
			goto done;
		}
	}
	st = amend_plan_scanned(img.cluster, img.cluster_len, &req, &scan,
				out, plan);
	if (st != AMEND_CHANGED) {
		printf("writes=0 syncs=0 complete=1 status=%d\n", (int)st);
		rc = 3;
		goto done;
	}
	/* The staged cluster as the sandbox returns it: the old cluster with
	 * the planner's new bytes. */
	memcpy(staged, img.cluster, img.cluster_len);
	memcpy(staged, out, plan->out_len);
	if (image_check_unchanged(&img) != IMAGE_OK) {
		(void)fprintf(stderr, "header changed\n");
		goto done;
	}
	commit_fault_stop_after = k;
	e = image_commit(&img, staged, plan);
	if (e == IMAGE_OK) {
		printf("writes=%u syncs=%u complete=1 status=0\n",
		       commit_fault_writes, commit_fault_syncs);
		rc = 0;
	} else if (img.sys_errno == ECANCELED) {
		printf("writes=%u syncs=%u complete=0 status=0\n",
		       commit_fault_writes, commit_fault_syncs);
		rc = 0;
	} else {
		(void)fprintf(stderr, "image_commit: %d (%s)\n", (int)e,
			      strerror(img.sys_errno));
	}
done:
	free(plan);
	free(out);
	free(staged);
	image_close(&img);
	return rc;
}
