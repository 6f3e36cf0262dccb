/*
 * inspect.c — what the inspection programs (info, check) share: the
 * open's input over the scratch the host laid out, and the report records
 * of the open's warnings and refusal (see inspect.h).
 */
#include "guest/inspect.h"

#include "abi/report_abi.h"
#include "guest/lib.h"
#include "guest/report.h"
#include "src/qcow2/qcow2_format.h"

static uint8_t text[QCOW2_OPEN_MAX_FEATURES_TEXT];

/* The open's input, over the scratch the host laid out: the header
 * cluster at its start, the work memory after the second cluster. */
bool inspect_open_input(const struct guest_params *p, uint32_t behaviour,
		       enum qcow2_open_mode mode, const struct qcow2_io *io,
		       struct qcow2_open_input *in)
{
	uint32_t cs = p->cluster_size;
	uint64_t work = p->scratch_bytes - 2u * (uint64_t)cs;  /* main.c: >= 0 */

	__builtin_memset(in, 0, sizeof(*in));
	in->hdr = (const uint8_t *)(uintptr_t)p->scratch_gpa;
	in->hdr_len = cs;
	in->file_bytes = p->disk_bytes;
	in->mode = mode;
	in->behaviour = behaviour & QOPEN_B_KNOWN;
	in->io = io;
	in->work = (uint8_t *)(uintptr_t)(p->scratch_gpa + 2u * (uint64_t)cs);
	in->work_len = (size_t)work;
	in->text = text;
	in->text_cap = sizeof(text);
	return cs >= QCOW2_V3_FULL_HEADER;
}

bool inspect_report_warnings(const struct qcow2_opened *o)
{
	for (uint32_t i = 0; i < o->n_warnings; i++) {
		struct report_message m;

		__builtin_memset(&m, 0, sizeof(m));
		m.hdr.type = REPORT_T_WARNING;
		m.code = o->warnings[i];
		if (!report_put(&m, sizeof(m), NULL, 0, NULL, 0))
			return false;
	}
	return true;
}

bool inspect_report_refusal(const struct qcow2_open_err *e)
{
	struct report_message m;

	__builtin_memset(&m, 0, sizeof(m));
	m.hdr.type = REPORT_T_OPEN_ERROR;
	m.code = e->code;
	m.n_args = e->n_args;
	for (uint32_t i = 0; i < 3u; i++)
		m.arg[i] = e->arg[i];
	m.str_len = e->text_len;
	return report_put(&m, sizeof(m), e->text, e->text_len, NULL, 0);
}

