/*
 * commit_crash_driver.c — test-only driver for the crash-consistency test
 * (tests/crash/crash_test.sh). It amends IMAGE in place the way instar's
 * host side does — image_open (locks), image_read_probe,
 * image_read_cluster, the planner src/amend (and, for a downgrade, its
 * table scan over the file, naming the L2 tables with zero entries as the
 * guest does: run on the host here instead of in the guest, fine for a
 * test of the write layer), image_check_unchanged, then for a downgrade
 * with zero clusters image_expand (src/image/expand_file.h), and
 * image_commit — but with the test-only fault-injection point armed
 * (commit_fault.h): with K >= 1 the run stops right after the K-th write
 * of the expansion and the commit together (a 512-byte pwrite, or the
 * expansion's fallocate of a cluster of zeros), as a crash would; K = 0
 * runs both to the end.
 *
 * Usage: commit_crash_driver IMAGE OPTIONS K
 *   OPTIONS: comma-separated compat=0.10|1.1, lazy_refcounts=on|off
 * Prints one line on stdout: `writes=N syncs=M complete=0|1 status=S`
 * (N, M: writes and fdatasyncs of the expansion and the commit
 * together). When an expansion ran, one more line on stderr:
 *   `expand: tables=T unallocated=U zeroed=Z new=W detached=D
 *    new_clusters=C new_blocks=B writes=E syncs=F stopped=0|1`
 * (stopped=1: K landed inside the expansion, whose counts are then the
 * plan's and writes= is K; otherwise E is the expansion's share of N).
 * Exit: 0 when the writes ran (to the end, or to the injected stop),
 * 3 when the planner refused or had nothing to do, 1 on any other error
 * (a refusal of the expansion's rules included).
 *
 * Trust: test code; the image is a scratch copy the test made.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
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
#include "src/image/expand.h"
#include "src/image/expand_file.h"
#include "src/image/image_file.h"
#include "src/qcow2/qcow2_header.h"
#include "tests/tools/table_reader.h"

/* Diagnostics on stderr are not checked ((void)): one that cannot be
 * written has nowhere else to go, and the exit status still tells. */

/* The expansion's line on stderr (see the top of the file). */
static void print_expand(const struct expand_plan *ep, uint32_t n,
			 unsigned writes, unsigned syncs, int stopped)
{
	(void)fprintf(stderr,
		      "expand: tables=%u unallocated=%llu zeroed=%llu new=%llu "
		      "detached=%llu new_clusters=%llu new_blocks=%llu "
		      "writes=%u syncs=%u stopped=%d\n",
		      n, (unsigned long long)ep->to_unallocated,
		      (unsigned long long)ep->to_zeroed,
		      (unsigned long long)ep->to_new,
		      (unsigned long long)ep->to_detached,
		      (unsigned long long)ep->new_clusters,
		      (unsigned long long)ep->new_blocks, writes, syncs,
		      stopped);
}

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
	struct qcow2_header *h = NULL;
	struct zero_list zeros = { NULL, 0, 0 };
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
	 * real one over the file, as the guest would, naming every L2 table
	 * with zero entries when it walks them all (as the guest does for
	 * the expansion: guest/amend_prog.c). The parsed header stays: the
	 * expansion checks the list against it, as the CLI's does. */
	memset(&scan, 0, sizeof(scan));
	if (amend_needs_scan(img.cluster, img.cluster_len, &req)) {
		uint8_t *scratch = malloc(GUEST_WORK_BYTES);
		struct table_file tf = { img.fd, img.size, 0, 0 };
		const struct qcow2_io io = { table_file_read, &tf, TABLE_BATCH };
		const struct amend_zero_sink sink = { zero_list_put, &zeros };
		enum amend_scan_reach reach =
			amend_scan_reach(img.cluster, img.cluster_len, &req);

		h = malloc(sizeof(*h));
		st = AMEND_ERR_PARSE;
		if (h != NULL && scratch != NULL &&
		    qcow2_parse(img.cluster, img.cluster_len, h) == QCOW2_OK)
			st = amend_scan_tables_zeros(
				h, reach, img.size, &io, scratch,
				GUEST_WORK_BYTES,
				reach == AMEND_SCAN_ALL_TABLES ? &sink : NULL,
				&scan);
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
	/* The counters are the expansion's and the commit's together, reset
	 * by nobody but the caller. */
	commit_fault_writes = 0;
	commit_fault_syncs = 0;
	commit_fault_stop_after = k;
	e = IMAGE_OK;
	if (zeros.n != 0) {
		/* The zero clusters first, by the host's rules, then the
		 * header: as src/cli/amend_cmd.c's judge_and_commit. */
		struct expand_plan ep;
		enum expand_err ee = EXPAND_OK;

		e = image_expand(&img, h, zeros.v, zeros.n, &ep, &ee);
		if (e == IMAGE_OK && ee != EXPAND_OK) {
			(void)fprintf(stderr, "image_expand refused: %d\n",
				      (int)ee);
			expand_free(&ep);
			goto done;
		}
		print_expand(&ep, zeros.n, commit_fault_writes,
			     commit_fault_syncs,
			     e != IMAGE_OK && img.sys_errno == ECANCELED);
		expand_free(&ep);
		if (e != IMAGE_OK && img.sys_errno != ECANCELED) {
			(void)fprintf(stderr, "image_expand: %d ee=%d (%s)\n",
				      (int)e, (int)ee, strerror(img.sys_errno));
			goto done;
		}
	}
	if (e == IMAGE_OK)
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
	free(h);
	free(zeros.v);
	free(plan);
	free(out);
	free(staged);
	image_close(&img);
	return rc;
}
