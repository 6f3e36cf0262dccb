/*
 * inspect_open_fuzzer.c — src/qcow2/qcow2_open.c, the open info and check
 * make as qemu-img does, over a whole image (the input) in memory.
 *
 * Input: [behaviour byte] [mode byte] then the image. Invariants: a
 * refusal's code is a refusal, with as many arguments as its code takes
 * and text only where its code has text (inside the text buffer); the
 * warnings are warnings; an opened image's spans (backing name, backing
 * format, data file name) lie inside the header cluster; the bitmap
 * directory the open accepted lists exactly nb_bitmaps entries; every
 * read stays inside the image's sectors (fuzz_memio.h).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_memio.h"
#include "fuzz/fuzz_util.h"
#include "src/qcow2/qcow2_open.h"

#define WORK_BYTES (72u << 20)

static uint8_t *work;
static uint8_t hdr[2u << 20];
static uint8_t text[QCOW2_OPEN_MAX_FEATURES_TEXT];

static void check_refusal(const struct qcow2_open_err *e)
{
	FUZZ_ASSERT(qcow2_open_msg_is_error(e->code));
	FUZZ_ASSERT(e->n_args == qcow2_open_msg_args(e->code));
	FUZZ_ASSERT(e->text_len == 0 || qcow2_open_msg_has_text(e->code));
	if (e->text_len != 0 && e->code == QOPEN_FEATURES)
		FUZZ_ASSERT(e->text >= text && e->text_len <= sizeof(text));
}

static void check_opened(const struct qcow2_opened *o, size_t hdr_len)
{
	FUZZ_ASSERT(o->n_warnings <= QCOW2_OPEN_MAX_WARNINGS);
	for (uint32_t i = 0; i < o->n_warnings; i++)
		FUZZ_ASSERT(qcow2_open_msg_is_warning(o->warnings[i]));
	if (o->has_backing)
		FUZZ_ASSERT((size_t)o->backing.off + o->backing.len <= hdr_len);
	if (o->has_backing_fmt)
		FUZZ_ASSERT((size_t)o->backing_fmt.off + o->backing_fmt.len <= hdr_len &&
			    o->backing_fmt.len < 16);
	if (o->has_data_file)
		FUZZ_ASSERT((size_t)o->data_file.off + o->data_file.len <= hdr_len);
	FUZZ_ASSERT(o->f.version == 2 || o->f.version == 3);
	FUZZ_ASSERT(o->f.cluster_bits >= 9 && o->f.cluster_bits <= 21);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_memio m;
	struct qcow2_io io;
	struct qcow2_open_input in;
	struct qcow2_opened o;
	struct qcow2_open_err e;
	enum qcow2_open_result r;
	uint32_t bits;

	if (size < 2)
		return 0;
	if (work == NULL) {
		work = aligned_alloc(4096, WORK_BYTES);
		FUZZ_ASSERT(work != NULL);
	}
	m.data = data + 2;
	m.len = size - 2;
	m.reads = 0;
	io = fuzz_memio_io(&m);
	/* The header cluster as the host gives it: the size the header
	 * names (512 if none), zero-padded past the end of the image. */
	bits = m.len >= 24 ? fuzz_be32(m.data + 20) : 0;
	size_t hdr_len = bits >= 9 && bits <= 21 ? (size_t)1 << bits : 512u;
	memset(hdr, 0, hdr_len);
	memcpy(hdr, m.data, m.len < hdr_len ? m.len : hdr_len);
	memset(&in, 0, sizeof(in));
	in.hdr = hdr;
	in.hdr_len = hdr_len;
	in.file_bytes = m.len;
	in.mode = (data[1] & 1u) ? QOPEN_MODE_CHECK : QOPEN_MODE_INFO;
	in.behaviour = data[0] & QOPEN_B_KNOWN;
	in.io = &io;
	in.work = work;
	in.work_len = WORK_BYTES;
	in.text = text;
	in.text_cap = sizeof(text);
	r = qcow2_open(&in, &o, &e);
	FUZZ_ASSERT(r == QCOW2_OPEN_OK || r == QCOW2_OPEN_REFUSED);
	if (r == QCOW2_OPEN_REFUSED)
		check_refusal(&e);
	else
		check_opened(&o, hdr_len);
	return 0;
}
