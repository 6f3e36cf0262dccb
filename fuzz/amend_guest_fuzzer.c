/*
 * amend_guest_fuzzer.c — fuzz target 9, end to end across the guest
 * boundary: each input image goes to the real guest.bin running in KVM
 * (one VM kept for every input: sandbox/session.h resets its memory and
 * registers between runs), and what the guest returns goes to the real
 * host validator, as in `instar amend`.
 *
 * Input: [0] compat, [1] lazy (fuzz_amend.h), then the whole image file
 * (cut to whole 512-byte sectors: the device has no partial sector). The
 * pre-probe is taken as the CLI takes it: the first cluster, its size
 * from the header's cluster_bits; an input whose cluster_bits is out of
 * range or that is shorter than one cluster is refused by the CLI before
 * any guest runs, and ignored here.
 *
 * Trust: the image is hostile; the guest is the product's and is held to
 * what it must do. Asserted (a violation traps):
 *  - the run ends with the doorbell and a result (SANDBOX_OK): no fault,
 *    timeout, exit flood, protocol error or write outside the header;
 *  - the guest's status is the status of the same planner and table scan
 *    run here in-process on the same bytes, and an AMENDED guest staged
 *    exactly the pre-probe with the sectors covering the in-process
 *    plan's patches taken from its new cluster (nothing else staged
 *    otherwise);
 *  - the validator accepts the answer (AMENDED, NOOP or REFUSED), and
 *    expects to commit exactly that cluster.
 *
 * Needs /dev/kvm: run in CI by the fuzz smoke test; not built for
 * OSS-Fuzz, whose runners have no KVM (fuzz/README.md).
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "abi/guest_abi.h"
#include "fuzz/fuzz_amend.h"
#include "fuzz/fuzz_util.h"
#include "guest/guest_embedded.h"
#include "sandbox/session.h"
#include "src/amend/amend_plan.h"
#include "src/amend/amend_scan.h"
#include "src/image/amend_guest.h"
#include "src/image/validate.h"
#include "src/qcow2/qcow2_header.h"
#include "tests/tools/table_reader.h"

static struct sandbox_session session;
static int image_fd = -1;
static uint8_t *staged, *expected, *next, *want, *work;

static void setup(void)
{
	if (image_fd >= 0)
		return;
	image_fd = memfd_create("amend_guest_fuzz", MFD_CLOEXEC);
	staged = malloc(GUEST_MAX_CLUSTER);
	expected = malloc(GUEST_MAX_CLUSTER);
	next = malloc(GUEST_MAX_CLUSTER);
	want = malloc(GUEST_MAX_CLUSTER);
	work = aligned_alloc(8, GUEST_WORK_BYTES);
	FUZZ_ASSERT(image_fd >= 0 && staged != NULL && expected != NULL &&
		    next != NULL && want != NULL && work != NULL);
	/* No /dev/kvm is a broken set-up, not an input to skip. */
	FUZZ_ASSERT(sandbox_session_open(&session) == SANDBOX_OK);
}

/* How many inputs reached the guest (the rest were refused as the CLI
 * refuses them before any guest runs), for the smoke run's log. */
__attribute__((destructor)) static void report(void)
{
	if (image_fd >= 0)   /* a log line: nothing to do if it is lost */
		(void)fprintf(stderr,
			      "amend_guest_fuzzer: %u guest runs in one VM (%u rebuilt)\n",
			      session.runs, session.rebuilds);
}

static void put_image(const uint8_t *img, size_t len)
{
	FUZZ_ASSERT(ftruncate(image_fd, 0) == 0);
	FUZZ_ASSERT(pwrite(image_fd, img, len, 0) == (ssize_t)len);
}

/* The cluster an honest guest stages for a plan: the pre-probe with the
 * whole 512-byte sectors that cover each patch taken from the planner's
 * new cluster (the guest writes sectors, and the planner leaves the bytes
 * it does not patch as they may be). */
static void sectors_applied(const uint8_t *img, size_t cs,
			    const struct amend_plan *plan)
{
	memcpy(want, img, cs);
	for (uint32_t i = 0; i < plan->n_patches; i++) {
		const struct amend_patch *p = &plan->patches[i];
		size_t first = p->offset / GUEST_SECTOR_SIZE;
		size_t last = (p->offset + p->length - 1u) / GUEST_SECTOR_SIZE;

		FUZZ_ASSERT(p->length > 0 && (last + 1u) * GUEST_SECTOR_SIZE <= cs);
		memcpy(want + first * GUEST_SECTOR_SIZE,
		       next + first * GUEST_SECTOR_SIZE,
		       (last - first + 1u) * GUEST_SECTOR_SIZE);
	}
}

/* What the guest must answer: the same scan and planner, in-process. */
static enum amend_status reference(const uint8_t *img, size_t len,
				   size_t cs, const struct amend_request *req,
				   struct amend_plan *plan)
{
	static struct amend_scan scan;
	const struct amend_scan *scanned = NULL;

	memset(next, 0, cs);
	if (amend_needs_scan(img, cs, req)) {
		struct qcow2_header h;
		struct table_mem tm = { img, len, 0, 0 };
		const struct qcow2_io io = { table_mem_read, &tm, TABLE_BATCH };
		enum amend_status ss;

		if (qcow2_parse(img, cs, &h) != QCOW2_OK)
			return AMEND_ERR_PARSE;
		ss = amend_scan_tables(&h, amend_scan_reach(img, cs, req), len,
				       &io, work, GUEST_WORK_BYTES,
				       &scan);
		if (ss != AMEND_CHANGED)
			return ss;
		scanned = &scan;
	}
	return amend_plan_scanned(img, cs, req, scanned, next, plan);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct amend_plan plan;
	struct amend_request req;
	struct sandbox_config cfg;
	struct sandbox_outcome out;
	enum sandbox_err se;

	if (size < 2u + GUEST_SECTOR_SIZE)
		return 0;
	setup();
	req.compat = fuzz_map_compat(data[0]);
	req.lazy = fuzz_map_lazy(data[1]);
	const uint8_t *img = data + 2;
	size_t len = (size - 2u) & ~(size_t)(GUEST_SECTOR_SIZE - 1u);
	if (len < QCOW2_OFF_CLUSTER_BITS + 4u)
		return 0;
	uint32_t bits = fuzz_be32(img + QCOW2_OFF_CLUSTER_BITS);
	if (bits < QCOW2_MIN_CLUSTER_BITS || bits > QCOW2_MAX_CLUSTER_BITS)
		return 0;
	size_t cs = (size_t)1 << bits;
	if (len < cs)
		return 0;
	put_image(img, len);

	memset(&cfg, 0, sizeof(cfg));
	cfg.image_fd = image_fd;
	cfg.disk_bytes = len;
	cfg.cluster_size = (uint32_t)cs;
	cfg.preprobe = img;
	cfg.request = amend_guest_request(req);
	cfg.guest = (struct sandbox_guest)SANDBOX_EMBEDDED_GUEST(instar_guest_bin);
	cfg.walk_tables = amend_needs_scan(img, cs, &req);
	cfg.budget_ns = 10ull * 1000000000ull;
	cfg.max_exits = 1000000u;
	memset(&out, 0, sizeof(out));
	out.staged = staged;
	se = sandbox_session_run(&session, &cfg, &out);
	if (se != SANDBOX_OK)   /* the report before the trap below */
		(void)fprintf(stderr,
			      "amend_guest_fuzzer: sandbox error %d after %u exits, "
			      "%llu us, rip 0x%llx (run %u of the session)\n",
			      (int)se, out.exits,
			      (unsigned long long)(out.run_ns / 1000u),
			      (unsigned long long)out.guest_rip, session.runs);
	FUZZ_ASSERT(se == SANDBOX_OK);
	FUZZ_ASSERT(out.result_present);

	enum amend_status status = reference(img, len, cs, &req, &plan);
	FUZZ_ASSERT(out.result.status == (uint32_t)status);
	if (status == AMEND_CHANGED) {
		FUZZ_ASSERT(out.result.action == GUEST_ACTION_AMENDED);
		sectors_applied(img, cs, &plan);
		FUZZ_ASSERT(memcmp(staged, want, cs) == 0);
	} else {
		FUZZ_ASSERT(memcmp(staged, img, cs) == 0);
	}

	/* The host's judgement, as the CLI makes it (it needs the header
	 * the CLI would have parsed before running the guest). */
	struct qcow2_header h;
	if (qcow2_parse(img, cs, &h) != QCOW2_OK)
		return 0;
	struct validate_input vin = {
		.pre = img,
		.pre_hdr = &h,
		.len = cs,
		.req = &req,
		.res = &out.result,
		.staged = staged,
		.expected = expected,
	};
	struct validate_output vout;
	enum validate_err ve = validate_guest(&vin, &vout);
	FUZZ_ASSERT(ve == VALIDATE_AMENDED || ve == VALIDATE_NOOP ||
		    ve == VALIDATE_REFUSED);
	FUZZ_ASSERT((ve == VALIDATE_AMENDED) == (status == AMEND_CHANGED));
	if (ve == VALIDATE_AMENDED)
		FUZZ_ASSERT(memcmp(expected, want, cs) == 0);
	return 0;
}
