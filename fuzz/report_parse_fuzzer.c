/*
 * report_parse_fuzzer.c — src/image/report_parse.c, the host's check of an
 * inspection program's report (hostile: the guest's), and the printers
 * that run on a report it accepts (src/cli/info_print.c, check_print.c).
 *
 * Input: [kind byte] [release byte] [json byte] then the report bytes.
 * Invariants: a report is accepted or refused, never read out of bounds
 * (ASan); an accepted one walks record by record to its end with every
 * record one of its kind's types; the printers format any accepted report
 * without failing; an accepted check report's totals match its findings.
 */
#include <string.h>

#include "fuzz/fuzz_util.h"
#include "src/cli/check_print.h"
#include "src/cli/info_print.h"
#include "src/cli/outbuf.h"
#include "src/cli/qemu_compat.h"
#include "src/image/report_parse.h"
#include "src/qcow2/qcow2_check.h"

static void walk(const struct report_view *v, enum report_kind kind)
{
	struct report_rec r;
	size_t off = 0;
	uint64_t n = 0, c = 0, l = 0, e = 0;

	while (report_next(v, &off, &r)) {
		n++;
		FUZZ_ASSERT(r.type < REPORT_T_COUNT_);
		if (kind == REPORT_KIND_INFO)
			FUZZ_ASSERT(r.type != REPORT_T_FINDING && r.type != REPORT_T_CHECK);
		if (r.type == REPORT_T_FINDING) {
			struct report_finding f;
			const uint8_t *id, *name;

			report_get_finding(&r, &f, &id, &name);
			switch (qcow2_finding_counter_of(f.code)) {
			case QCOW2_COUNT_CORRUPTION: c++; break;
			case QCOW2_COUNT_LEAK: l++; break;
			case QCOW2_COUNT_CHECK_ERROR: e++; break;
			default: break;
			}
		}
	}
	FUZZ_ASSERT(off == v->len);
	if (kind == REPORT_KIND_CHECK && v->has_check)
		FUZZ_ASSERT(v->check.corruptions == c && v->check.leaks == l &&
			    v->check.check_errors == e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report_view v;
	enum report_kind kind;
	const struct qemu_compat *c;
	struct outbuf out, err;

	if (size < 3)
		return 0;
	kind = (data[0] & 1u) ? REPORT_KIND_CHECK : REPORT_KIND_INFO;
	c = &qemu_compat_table[data[1] % qemu_compat_count];
	if (report_parse(data + 3, size - 3, kind, &v) != REPORT_OK)
		return 0;
	walk(&v, kind);
	outbuf_init(&out);
	outbuf_init(&err);
	if (kind == REPORT_KIND_INFO && v.has_image) {
		struct info_facts f;

		memset(&f, 0, sizeof(f));
		f.filename = "dir/image.qcow2";
		f.qcow2 = true;
		f.v = &v;
		f.file_bytes = 1u << 20;
		f.actual_size = 4096;
		if (data[2] & 1u)
			info_print_json(&out, &f, c);
		else
			info_print_human(&out, &f, c);
		FUZZ_ASSERT(!out.failed);
	} else if (kind == REPORT_KIND_CHECK && v.has_check) {
		check_print_findings(&err, &v);
		(void)check_print_report(&out, &err, &v, "image.qcow2",
					 (data[2] & 1u) != 0, false);
		FUZZ_ASSERT(!out.failed && !err.failed);
	}
	outbuf_free(&out);
	outbuf_free(&err);
	return 0;
}
