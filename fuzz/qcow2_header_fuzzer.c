/*
 * qcow2_header_fuzzer.c — fuzz target 1: the qcow2 header parser
 * (qcow2_parse, qcow2_find_ext) and format detection
 * (image_format_detect), the code the host pre-probe and the guest share.
 *
 * Input: the first bytes of an image. They are parsed as they are, and,
 * when the cluster_bits field names a cluster longer than the input, once
 * more zero-padded to the whole cluster (so seeds that keep only the start
 * of a 2 MiB cluster still reach the extension walk and the table checks).
 *
 * Trust: the input is hostile. What is asserted (a violation traps):
 * a QCOW2_OK parse is self-consistent and every offset it returns lies
 * inside the buffer; parsing is deterministic; detection names a qcow2
 * for whatever parses; qcow2_check_extents gives a verdict monotonic in
 * the file size; and serialising what was parsed (qcow2_serialise,
 * into the whole cluster or, by the input's last byte, a shorter prefix)
 * either reports no space or gives a cluster that parses back to the same
 * fields, extensions and backing name.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_util.h"
#include "src/qcow2/image_format.h"
#include "src/qcow2/qcow2_format.h"
#include "src/qcow2/qcow2_header.h"
#include "src/qcow2/qcow2_write.h"

static void check_roundtrip(const uint8_t *buf, const struct qcow2_header *h,
			    size_t slen)
{
	static struct qcow2_ext_out ext[QCOW2_MAX_EXTENSIONS];
	static struct qcow2_header b;
	struct qcow2_layout l;
	size_t csize = (size_t)1 << h->cluster_bits;
	uint8_t *out = malloc(csize);
	enum qcow2_err e;

	if (out == NULL)
		return;
	for (uint32_t i = 0; i < h->n_ext; i++) {
		ext[i].type = h->ext[i].type;
		ext[i].length = h->ext[i].length;
		ext[i].data = buf + h->ext[i].offset;
	}
	memset(&l, 0, sizeof(l));
	if (h->version == 3 && h->header_length > QCOW2_V3_FULL_HEADER) {
		l.hdr_extra = buf + QCOW2_V3_FULL_HEADER;
		l.hdr_extra_len = h->header_length - QCOW2_V3_FULL_HEADER;
	}
	l.ext = ext;
	l.n_ext = h->n_ext;
	if (h->backing_offset != 0) {
		l.backing = buf + h->backing_offset;
		l.backing_len = h->backing_size;
	}
	if (slen > csize)
		slen = csize;
	memset(out, 0, csize);
	e = qcow2_serialise(h, &l, out, slen);
	FUZZ_ASSERT(e == QCOW2_OK || e == QCOW2_ERR_NO_SPACE);
	if (e != QCOW2_OK)
		goto done;
	FUZZ_ASSERT(qcow2_parse(out, csize, &b) == QCOW2_OK);
	FUZZ_ASSERT(b.version == h->version && b.cluster_bits == h->cluster_bits &&
		    b.size == h->size && b.crypt_method == h->crypt_method &&
		    b.l1_size == h->l1_size && b.l1_offset == h->l1_offset &&
		    b.refcount_offset == h->refcount_offset &&
		    b.refcount_clusters == h->refcount_clusters &&
		    b.nb_snapshots == h->nb_snapshots &&
		    b.snapshots_offset == h->snapshots_offset &&
		    b.incompat == h->incompat && b.compat == h->compat &&
		    b.autoclear == h->autoclear &&
		    b.refcount_order == h->refcount_order &&
		    b.compression_type == h->compression_type);
	FUZZ_ASSERT(b.n_ext == h->n_ext);
	for (uint32_t i = 0; i < b.n_ext; i++)
		FUZZ_ASSERT(b.ext[i].type == h->ext[i].type &&
			    b.ext[i].length == h->ext[i].length &&
			    memcmp(out + b.ext[i].offset, buf + h->ext[i].offset,
				   b.ext[i].length) == 0);
	FUZZ_ASSERT((b.backing_offset != 0) ==
		    (h->backing_offset != 0 && h->backing_size != 0));
	if (b.backing_offset != 0)
		FUZZ_ASSERT(b.backing_size == h->backing_size &&
			    memcmp(out + b.backing_offset,
				   buf + h->backing_offset, b.backing_size) == 0);
done:
	free(out);
}

static void check_parse(const uint8_t *buf, size_t len)
{
	static struct qcow2_header h, again;
	enum qcow2_err e = qcow2_parse(buf, len, &h);

	FUZZ_ASSERT((unsigned)e < (unsigned)QCOW2_ERR_COUNT_);
	FUZZ_ASSERT(qcow2_parse(buf, len, &again) == e);
	/* qcow2_parse() zeroes the whole struct, padding included, then sets
	 * members only: equal parses are equal bytes. */
	/* NOLINTNEXTLINE(bugprone-suspicious-memory-comparison,cert-exp42-c,cert-flp37-c): padding is zeroed, see above */
	FUZZ_ASSERT(memcmp(&h, &again, sizeof(h)) == 0);
	if (e != QCOW2_OK)
		return;

	uint64_t csize = (uint64_t)1 << h.cluster_bits;
	FUZZ_ASSERT(h.version == 2 || h.version == 3);
	FUZZ_ASSERT(h.cluster_bits >= QCOW2_MIN_CLUSTER_BITS &&
		    h.cluster_bits <= QCOW2_MAX_CLUSTER_BITS);
	FUZZ_ASSERT(csize <= len);
	FUZZ_ASSERT(h.header_length >= QCOW2_V2_HEADER_LEN &&
		    h.header_length <= csize);
	FUZZ_ASSERT(h.refcount_order <= QCOW2_MAX_REFCOUNT_ORDER);
	FUZZ_ASSERT((h.incompat & ~QCOW2_INCOMPAT_KNOWN) == 0);
	FUZZ_ASSERT(h.n_ext <= QCOW2_MAX_EXTENSIONS);
	FUZZ_ASSERT(h.ext_end <= csize);
	if (h.backing_offset != 0) {
		FUZZ_ASSERT(h.backing_offset >= h.header_length);
		FUZZ_ASSERT(h.backing_offset + h.backing_size <= csize);
		FUZZ_ASSERT(h.ext_end <= h.backing_offset);
	}
	for (uint32_t i = 0; i < h.n_ext; i++) {
		const struct qcow2_ext *x = &h.ext[i];
		FUZZ_ASSERT(x->type != QCOW2_EXT_END);
		FUZZ_ASSERT(x->offset >= h.header_length + 8u);
		FUZZ_ASSERT((uint64_t)x->offset + x->length <= h.ext_end);
		FUZZ_ASSERT((uint64_t)x->offset + x->length <= len);
		const struct qcow2_ext *f = qcow2_find_ext(&h, x->type);
		FUZZ_ASSERT(f != NULL && f->type == x->type && f <= x);
	}
	FUZZ_ASSERT(image_format_detect(buf, len, NULL, 0) == IMAGE_FORMAT_QCOW2);

	/* The pre-probe's table-extent check: a verdict, monotonic in the
	 * file size (OK for a file of n bytes stays OK for any longer one). */
	{
		uint64_t fsize = len >= 8 ? (uint64_t)fuzz_be32(buf + len - 8) << 32 |
						    fuzz_be32(buf + len - 4)
					  : 0;
		enum qcow2_err a = qcow2_check_extents(&h, fsize);
		enum qcow2_err b = qcow2_check_extents(&h, (uint64_t)len);
		FUZZ_ASSERT(a == QCOW2_OK || a == QCOW2_ERR_TABLE_EXTENT);
		FUZZ_ASSERT(b == QCOW2_OK || b == QCOW2_ERR_TABLE_EXTENT);
		FUZZ_ASSERT(qcow2_check_extents(&h, UINT64_MAX) == QCOW2_OK);
		if (a == QCOW2_OK && fsize < UINT64_MAX)
			FUZZ_ASSERT(qcow2_check_extents(&h, fsize + 1u) == QCOW2_OK);
	}
	check_roundtrip(buf, &h, len > 0 ? (size_t)buf[len - 1] * 8u + 64u : 0);
	check_roundtrip(buf, &h, csize);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *tail = size >= 512 ? data + size - 512 : data;
	size_t tail_len = size >= 512 ? 512 : size;
	enum image_format f = image_format_detect(data, size, tail, tail_len);

	FUZZ_ASSERT((unsigned)f < (unsigned)IMAGE_FORMAT_COUNT_);
	FUZZ_ASSERT(image_format_name(f) != NULL);
	/* A short head and no tail (a file smaller than a sector). */
	FUZZ_ASSERT((unsigned)image_format_detect(data, size < 16 ? size : 16,
						  NULL, 0) <
		    (unsigned)IMAGE_FORMAT_COUNT_);

	check_parse(data, size);

	/* The same bytes as the start of a whole header cluster. */
	if (size >= QCOW2_OFF_CLUSTER_BITS + 4u) {
		uint32_t bits = fuzz_be32(data + QCOW2_OFF_CLUSTER_BITS);
		if (bits >= QCOW2_MIN_CLUSTER_BITS &&
		    bits <= QCOW2_MAX_CLUSTER_BITS &&
		    size < ((size_t)1 << bits)) {
			size_t csize = (size_t)1 << bits;
			uint8_t *buf = malloc(csize);
			if (buf == NULL)
				return 0;
			memcpy(buf, data, size);
			memset(buf + size, 0, csize - size);
			check_parse(buf, csize);
			free(buf);
		}
	}
	return 0;
}
