/*
 * inspect_check_fuzzer.c — src/qcow2/qcow2_check*.c, qemu-img's check,
 * over a whole image (the input) in memory, after the open in check mode.
 *
 * Input: [behaviour byte] then the image (at most 4 MiB). Invariants: the
 * engine ends OK (a check that failed is still an OK run: its result says
 * so); every finding has a known code and its code's number of arguments,
 * names only where the code names a snapshot; the result's counters are
 * exactly the findings' (corruptions, leaks, internal errors); a failed or
 * aborted check has no statistics; every read stays inside the image
 * (fuzz_memio.h).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_memio.h"
#include "fuzz/fuzz_util.h"
#include "src/qcow2/qcow2_check.h"
#include "src/qcow2/qcow2_open.h"

#define WORK_BYTES (72u << 20)
#define MAX_IMAGE (4u << 20)

static uint8_t *work;
static uint8_t *counters;
static size_t counters_cap;
static uint8_t hdr[2u << 20];
static uint8_t text[QCOW2_OPEN_MAX_FEATURES_TEXT];

struct tally {
	uint64_t c, l, e;
};

static bool emit(void *ctx, const struct qcow2_finding_rec *f)
{
	struct tally *t = ctx;

	FUZZ_ASSERT(f->code < QCOW2_FINDING_COUNT_);
	FUZZ_ASSERT(f->n_args == qcow2_finding_args(f->code));
	FUZZ_ASSERT(qcow2_finding_has_names(f->code) ||
		    (f->id_len == 0 && f->name_len == 0));
	switch (qcow2_finding_counter_of(f->code)) {
	case QCOW2_COUNT_CORRUPTION:
		t->c++;
		break;
	case QCOW2_COUNT_LEAK:
		t->l++;
		break;
	case QCOW2_COUNT_CHECK_ERROR:
		t->e++;
		break;
	default:
		break;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_memio m;
	struct qcow2_io io;
	struct qcow2_open_input in;
	struct qcow2_opened o;
	struct qcow2_open_err e;
	struct qcow2_check_input ci;
	struct qcow2_check_result res;
	struct tally t = { 0, 0, 0 };
	uint64_t need = 0;
	uint32_t bits;

	if (size < 1 || size - 1 > MAX_IMAGE)
		return 0;
	if (work == NULL) {
		work = aligned_alloc(4096, WORK_BYTES);
		FUZZ_ASSERT(work != NULL);
	}
	m.data = data + 1;
	m.len = size - 1;
	m.reads = 0;
	io = fuzz_memio_io(&m);
	bits = m.len >= 24 ? fuzz_be32(m.data + 20) : 0;
	size_t hdr_len = bits >= 9 && bits <= 21 ? (size_t)1 << bits : 512u;
	memset(hdr, 0, hdr_len);
	memcpy(hdr, m.data, m.len < hdr_len ? m.len : hdr_len);
	memset(&in, 0, sizeof(in));
	in.hdr = hdr;
	in.hdr_len = hdr_len;
	in.file_bytes = m.len;
	in.mode = QOPEN_MODE_CHECK;
	in.behaviour = data[0] & QOPEN_B_KNOWN;
	in.io = &io;
	in.work = work;
	in.work_len = WORK_BYTES;
	in.text = text;
	in.text_cap = sizeof(text);
	if (qcow2_open(&in, &o, &e) != QCOW2_OPEN_OK)
		return 0;
	/* A check reads every L2 table once per L1 entry that names it, as
	 * qemu-img does: bound the work one input can ask for (a hostile
	 * image's time is bounded by the guest's budget, not here). */
	if (o.f.cluster_bits > 16u || o.f.l1_size > 65536u ||
	    o.f.nb_snapshots > 64u)
		return 0;
	FUZZ_ASSERT(qcow2_check_counter_bytes(m.len, o.f.cluster_bits,
					      o.f.refcount_order, &need));
	if (need > counters_cap) {
		free(counters);
		counters = aligned_alloc(4096, (need + 4095u) & ~(size_t)4095u);
		FUZZ_ASSERT(counters != NULL);
		counters_cap = (need + 4095u) & ~(size_t)4095u;
	}
	memset(&ci, 0, sizeof(ci));
	ci.img = &o;
	ci.header = hdr;
	ci.file_bytes = m.len;
	ci.flags = (uint32_t)(data[0] >> 4) & QCOW2_CHECK_KNOWN;
	ci.io = &io;
	ci.work = work;
	ci.work_len = WORK_BYTES;
	ci.counters = counters;
	ci.counters_len = (size_t)need;
	FUZZ_ASSERT(qcow2_check(&ci, emit, &t, &res) == QCOW2_CHECK_OK);
	FUZZ_ASSERT(res.corruptions == t.c && res.leaks == t.l &&
		    res.check_errors == t.e);
	if (res.failed_errno != 0 || res.aborted)
		FUZZ_ASSERT(res.allocated_clusters == 0 && res.image_end_offset == 0);
	FUZZ_ASSERT(res.compressed_clusters <= res.allocated_clusters);
	return 0;
}
