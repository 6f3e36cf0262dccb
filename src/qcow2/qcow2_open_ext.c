/*
 * qcow2_open_ext.c — the header extension area as QEMU reads it when it
 * opens an image (see qcow2_open.h): the backing format, the data file
 * name, the crypto header extension, the bitmaps extension and its
 * checks, and, for a refusal of unknown incompatible features, the names
 * the feature-name table gives them.
 *
 * Trust: the extension area is hostile; it lies inside the header cluster
 * ([header_length, end) with end <= the cluster size <= hdr_len), and no
 * byte outside it is read: an entry whose 8-byte head or data would pass
 * `end` is refused before it is looked at.
 */
#include "src/qcow2/qcow2_be.h"
#include "src/qcow2/qcow2_format.h"
#include "src/qcow2/qcow2_open.h"
#include "src/qcow2/qcow2_open_stages.h"

#define BACKING_FMT_MAX  16u   /* QEMU's char[16]: lengths >= 16 refused */
#define CRYPTO_EXT_LEN   16u
#define BITMAPS_EXT_LEN  24u
#define FEATURE_NAME     46u

uint32_t qopen_strnlen(const uint8_t *buf, size_t buf_len, uint32_t off,
		       uint32_t len)
{
	uint32_t n = 0;

	while (n < len && (size_t)off + n < buf_len && buf[off + n] != 0)
		n++;
	return n;
}

/* Where the extension area ends: the backing name, or the cluster's end. */
static uint64_t area_end(const struct qcow2_fields *f)
{
	return f->backing_offset != 0 ? f->backing_offset
				      : (uint64_t)1 << f->cluster_bits;
}

static void warn(struct qcow2_opened *o, uint32_t code)
{
	if (o->n_warnings < QCOW2_OPEN_MAX_WARNINGS)
		o->warnings[o->n_warnings++] = code;
}

/* The bitmaps extension at data offset `d` (24 bytes inside the area). */
static enum qcow2_open_result bitmaps_ext(const struct qcow2_open_input *in,
					  struct qcow2_opened *o, uint32_t d,
					  uint32_t len, struct qcow2_open_err *e)
{
	const uint8_t *p = in->hdr + d;
	uint32_t nb;
	uint64_t dir_size, dir_off;

	if (len != BITMAPS_EXT_LEN)
		return qopen_refuse(e, QOPEN_BITMAPS_EXT_LEN, 0, 0);
	if (!(o->f.autoclear & QCOW2_AUTOCLEAR_BITMAPS)) {
		warn(o, o->f.version < 3 ? QWARN_BITMAPS_V2 : QWARN_BITMAPS_V3);
		return QCOW2_OPEN_OK;
	}
	nb = qcow2_be32(p);
	dir_size = qcow2_be64(p + 8);
	dir_off = qcow2_be64(p + 16);
	if (qcow2_be32(p + 4) != 0)
		return qopen_refuse(e, QOPEN_BITMAPS_RESERVED, 0, 0);
	if (nb > QCOW2_OPEN_MAX_BITMAPS)
		return qopen_refuse(e, QOPEN_BITMAPS_TOO_MANY, nb, 0);
	if (nb == 0)
		return qopen_refuse(e, QOPEN_BITMAPS_ZERO, 0, 0);
	if ((dir_off & (((uint64_t)1 << o->f.cluster_bits) - 1u)) != 0)
		return qopen_refuse(e, QOPEN_BITMAPS_DIR_OFFSET, 0, 0);
	if (dir_size > QCOW2_OPEN_MAX_BM_DIR)
		return qopen_refuse(e, QOPEN_BITMAPS_DIR_SIZE, dir_size, 0);
	o->bitmaps = true;
	o->nb_bitmaps = nb;
	o->bm_dir_size = dir_size;
	o->bm_dir_offset = dir_off;
	return QCOW2_OPEN_OK;
}

/* The crypto header extension. instar does not read LUKS images: after
 * QEMU's own checks of the extension, the refusal is instar's. */
static enum qcow2_open_result crypto_ext(const struct qcow2_open_input *in,
					 const struct qcow2_fields *f,
					 uint32_t d, uint32_t len,
					 struct qcow2_open_err *e)
{
	uint64_t off;

	if (f->crypt_method != QCOW2_CRYPT_LUKS)
		return qopen_refuse(e, QOPEN_CRYPTO_NOT_LUKS, 0, 0);
	if (len != CRYPTO_EXT_LEN)
		return qopen_refuse(e, QOPEN_CRYPTO_EXT_SIZE, len, 0);
	off = qcow2_be64(in->hdr + d);
	if ((off & (((uint64_t)1 << f->cluster_bits) - 1u)) != 0)
		return qopen_refuse(e, QOPEN_CRYPTO_OFFSET, off,
				    (uint64_t)1 << f->cluster_bits);
	return qopen_refuse(e, QOPEN_INSTAR_LUKS, 0, 0);
}

/* One walk of the area. With `table` set (the pass for unknown features)
 * it only notes where the last feature-name table is, and any error just
 * ends the walk, as in QEMU's first pass; otherwise it interprets every
 * extension. */
struct walk {
	const struct qcow2_open_input *in;
	struct qcow2_opened *o;
	bool *crypto;
	bool features_only;
	struct qcow2_span table;     /* the last feature-name table */
	bool has_table;
};

static enum qcow2_open_result one_ext(struct walk *w, uint32_t type,
				      uint32_t d, uint32_t len,
				      struct qcow2_open_err *e)
{
	struct qcow2_opened *o = w->o;

	switch (type) {
	case QCOW2_EXT_BACKING_FORMAT:
		if (len >= BACKING_FMT_MAX)
			return qopen_refuse(e, QOPEN_BACKING_FMT_LEN, len, 0);
		o->has_backing_fmt = true;
		o->backing_fmt.off = d;
		o->backing_fmt.len = qopen_strnlen(w->in->hdr, w->in->hdr_len, d, len);
		return QCOW2_OPEN_OK;
	case QCOW2_EXT_FEATURE_TABLE:
		w->has_table = true;
		w->table.off = d;
		w->table.len = len;
		return QCOW2_OPEN_OK;
	case QCOW2_EXT_CRYPTO_HEADER:
		*w->crypto = true;
		if (w->features_only)
			return QCOW2_OPEN_OK;  /* QEMU's first pass: no verdict */
		return crypto_ext(w->in, &o->f, d, len, e);
	case QCOW2_EXT_BITMAPS:
		return bitmaps_ext(w->in, o, d, len, e);
	case QCOW2_EXT_DATA_FILE:
		o->has_data_file = true;
		o->data_file.off = d;
		o->data_file.len = qopen_strnlen(w->in->hdr, w->in->hdr_len, d, len);
		return QCOW2_OPEN_OK;
	default:
		return QCOW2_OPEN_OK;   /* kept by QEMU, not interpreted */
	}
}

static enum qcow2_open_result walk_area(struct walk *w,
					struct qcow2_open_err *e)
{
	const struct qcow2_fields *f = &w->o->f;
	uint64_t end = area_end(f);
	uint64_t off = f->header_length;

	while (off < end) {
		uint32_t type, len;
		enum qcow2_open_result r;

		if (end - off < 8u)
			return qopen_refuse(e, QOPEN_EXT_TOO_LARGE, 0, 0);
		type = qcow2_be32(w->in->hdr + off);
		len = qcow2_be32(w->in->hdr + off + 4);
		off += 8u;
		if (len > end - off)
			return qopen_refuse(e, QOPEN_EXT_TOO_LARGE, 0, 0);
		if (type == QCOW2_EXT_END)
			return QCOW2_OPEN_OK;
		r = one_ext(w, type, (uint32_t)off, len, e);
		if (r != QCOW2_OPEN_OK)
			return r;
		off += ((uint64_t)len + 7u) & ~(uint64_t)7u;
	}
	return QCOW2_OPEN_OK;
}

enum qcow2_open_result qopen_extensions(const struct qcow2_open_input *in,
					struct qcow2_opened *o,
					bool *crypto_ext_seen,
					struct qcow2_open_err *e)
{
	struct walk w;

	__builtin_memset(&w, 0, sizeof(w));
	w.in = in;
	w.o = o;
	w.crypto = crypto_ext_seen;
	return walk_area(&w, e);
}

/* Append bytes to the message text; false when it is full. */
static bool put(uint8_t *t, size_t cap, uint32_t *n, const uint8_t *s,
		uint32_t len)
{
	if (len > cap - *n)
		return false;
	for (uint32_t i = 0; i < len; i++)
		t[*n + i] = s[i];
	*n += len;
	return true;
}

/* Lower-case hex without leading zeros, as QEMU prints the bits. */
static uint32_t hex64(uint64_t v, uint8_t out[16])
{
	static const char digits[] = "0123456789abcdef";
	uint8_t tmp[16];
	uint32_t n = 0;

	do {
		tmp[n++] = (uint8_t)digits[v & 0xfu];
		v >>= 4;
	} while (v != 0);
	for (uint32_t i = 0; i < n; i++)
		out[i] = tmp[n - 1u - i];
	return n;
}

enum qcow2_open_result qopen_unsupported_features(const struct qcow2_open_input *in,
						  struct qcow2_opened *o,
						  struct qcow2_open_err *e)
{
	const struct qcow2_fields *f = &o->f;
	static const uint8_t sep[] = { ',', ' ' };
	static const char unknown[] = "Unknown incompatible feature: ";
	struct qcow2_opened scratch;
	struct qcow2_open_err ignored;
	struct walk w;
	bool crypto = false;
	uint64_t mask = f->incompat & ~QCOW2_INCOMPAT_KNOWN;
	uint32_t n = 0;
	uint8_t hex[16];

	/* QEMU's first pass over the area, whose errors only end it (the
	 * warnings it prints are printed here too: by the caller, from o). */
	__builtin_memset(&scratch, 0, sizeof(scratch));
	scratch.f = *f;
	__builtin_memset(&w, 0, sizeof(w));
	w.in = in;
	w.o = &scratch;
	w.crypto = &crypto;
	w.features_only = true;
	(void)walk_area(&w, &ignored);
	for (uint32_t i = 0; i < scratch.n_warnings; i++)
		warn(o, scratch.warnings[i]);

	if (w.has_table) {
		/* 48-byte entries: type, bit, 46-byte name; QEMU pads the table
		 * with zeros, so a cut last entry reads as zeros, and the walk
		 * ends at the first empty name. */
		for (uint32_t k = 0;; k++) {
			uint64_t at = (uint64_t)k * QCOW2_FEATURE_ENTRY_LEN;
			uint8_t entry[QCOW2_FEATURE_ENTRY_LEN];

			if (at >= w.table.len)
				break;
			for (uint32_t i = 0; i < QCOW2_FEATURE_ENTRY_LEN; i++)
				entry[i] = at + i < w.table.len
						   ? in->hdr[w.table.off + at + i] : 0;
			if (entry[2] == 0)
				break;
			if (entry[0] != QCOW2_FEAT_TYPE_INCOMPAT)
				continue;
			/* A bit number >= 64 shifts as x86 does: by its low six bits. */
			uint64_t bit = (uint64_t)1 << (entry[1] & 63u);
			if (!(mask & bit))
				continue;
			uint32_t len = qopen_strnlen(entry, sizeof(entry), 2, FEATURE_NAME);
			if ((n != 0 && !put(in->text, in->text_cap, &n, sep, 2)) ||
			    !put(in->text, in->text_cap, &n, entry + 2, len))
				return QCOW2_OPEN_MEMORY;
			mask &= ~bit;
		}
	}
	if (mask != 0) {
		uint32_t hl = hex64(mask, hex);

		if ((n != 0 && !put(in->text, in->text_cap, &n, sep, 2)) ||
		    !put(in->text, in->text_cap, &n, (const uint8_t *)unknown,
			 (uint32_t)sizeof(unknown) - 1u) ||
		    !put(in->text, in->text_cap, &n, hex, hl))
			return QCOW2_OPEN_MEMORY;
	}
	return qopen_refuse_text(e, QOPEN_FEATURES, in->text, n);
}
