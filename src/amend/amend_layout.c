/*
 * amend_layout.c — the extension list and backing name of a rewritten
 * header (see amend_layout.h). The order is QEMU's: backing format,
 * external data file, crypto header, feature-name table (v3 with
 * clusters over 4 KiB only),
 * bitmaps, then the extensions QEMU does not know — in reverse of their
 * order on disk, because QEMU collects them at the head of a list — then
 * the end marker and the backing file name.
 *
 * Trust: relies on qcow2_parse() having bounded every extension; checks
 * again before taking a pointer. Freestanding.
 */
#include "src/amend/amend_layout.h"

#include "src/qcow2/qcow2_format.h"

#define AMEND_FEATURE_TABLE_MIN_CLUSTER 4096u

struct feature_name {
	uint8_t type;
	uint8_t bit;
	const char *name;
};

static const struct feature_name qemu_features[AMEND_FEATURE_ENTRIES] = {
	{ QCOW2_FEAT_TYPE_INCOMPAT, 0, "dirty bit" },
	{ QCOW2_FEAT_TYPE_INCOMPAT, 1, "corrupt bit" },
	{ QCOW2_FEAT_TYPE_INCOMPAT, 2, "external data file" },
	{ QCOW2_FEAT_TYPE_INCOMPAT, 3, "compression type" },
	{ QCOW2_FEAT_TYPE_INCOMPAT, 4, "extended L2 entries" },
	{ QCOW2_FEAT_TYPE_COMPAT, 0, "lazy refcounts" },
	{ QCOW2_FEAT_TYPE_AUTOCLEAR, 0, "bitmaps" },
	{ QCOW2_FEAT_TYPE_AUTOCLEAR, 1, "raw external data" },
};

void amend_feature_table(uint8_t out[AMEND_FEATURE_TABLE_LEN])
{
	for (uint32_t i = 0; i < AMEND_FEATURE_TABLE_LEN; i++)
		out[i] = 0;
	for (uint32_t i = 0; i < AMEND_FEATURE_ENTRIES; i++) {
		uint8_t *e = out + (size_t)i * QCOW2_FEATURE_ENTRY_LEN;
		const char *name = qemu_features[i].name;

		e[0] = qemu_features[i].type;
		e[1] = qemu_features[i].bit;
		for (uint32_t k = 0; k < QCOW2_FEATURE_NAME_LEN && name[k]; k++)
			e[2 + k] = (uint8_t)name[k];
	}
}

/* Length of a C string stored in `len` bytes: up to the first NUL. */
static uint32_t bounded_strlen(const uint8_t *p, uint32_t len)
{
	uint32_t n = 0;
	while (n < len && p[n] != 0)
		n++;
	return n;
}

static bool known_type(uint32_t type)
{
	return type == QCOW2_EXT_BACKING_FORMAT ||
	       type == QCOW2_EXT_FEATURE_TABLE ||
	       type == QCOW2_EXT_CRYPTO_HEADER ||
	       type == QCOW2_EXT_BITMAPS ||
	       type == QCOW2_EXT_DATA_FILE;
}

/* QEMU keeps the last occurrence of a known extension. */
static const struct qcow2_ext *last_of(const struct qcow2_header *h,
				       uint32_t type)
{
	const struct qcow2_ext *found = NULL;
	for (uint32_t i = 0; i < h->n_ext && i < QCOW2_MAX_EXTENSIONS; i++) {
		if (h->ext[i].type == type)
			found = &h->ext[i];
	}
	return found;
}

static bool ext_in_cluster(const struct qcow2_header *h,
			   const struct qcow2_ext *x)
{
	uint64_t end = (uint64_t)x->offset + x->length;
	return end <= qcow2_cluster_size(h);
}

static bool add(struct amend_layout *out, uint32_t type,
		const uint8_t *data, uint32_t length)
{
	uint32_t i = out->layout.n_ext;
	if (i >= QCOW2_MAX_EXTENSIONS + 1)
		return false;
	out->ext[i].type = type;
	out->ext[i].length = length;
	out->ext[i].data = data;
	out->layout.n_ext = i + 1;
	return true;
}

/* Add the last `type` extension of the old header, if any; a string
 * extension (backing format, data file name) is cut at its first NUL,
 * as QEMU reads it into a C string. */
static bool add_old_ext(struct amend_layout *out, const uint8_t *cluster,
			const struct qcow2_header *h, uint32_t type,
			bool is_string)
{
	const struct qcow2_ext *x = last_of(h, type);
	uint32_t len;

	if (x == NULL)
		return true;
	if (!ext_in_cluster(h, x))
		return false;
	len = is_string ? bounded_strlen(cluster + x->offset, x->length)
			: x->length;
	return add(out, type, cluster + x->offset, len);
}

bool amend_layout_build(const uint8_t *cluster, const struct qcow2_header *h,
			const struct qcow2_header *n, struct amend_layout *out)
{
	out->layout.ext = out->ext;
	out->layout.n_ext = 0;
	out->layout.hdr_extra = NULL;
	out->layout.hdr_extra_len = 0;
	out->layout.backing = NULL;
	out->layout.backing_len = 0;

	/* Header fields past the 112 bytes we know, kept on a v3 target. */
	if (h->version == 3 && n->version == 3 &&
	    h->header_length > QCOW2_V3_FULL_HEADER) {
		out->layout.hdr_extra = cluster + QCOW2_V3_FULL_HEADER;
		out->layout.hdr_extra_len = h->header_length -
					    QCOW2_V3_FULL_HEADER;
	}

	if (!add_old_ext(out, cluster, h, QCOW2_EXT_BACKING_FORMAT, true))
		return false;
	if ((h->incompat & QCOW2_INCOMPAT_EXTERNAL_DATA) &&
	    !add_old_ext(out, cluster, h, QCOW2_EXT_DATA_FILE, true))
		return false;
	if (h->crypt_method == QCOW2_CRYPT_LUKS &&
	    !add_old_ext(out, cluster, h, QCOW2_EXT_CRYPTO_HEADER, false))
		return false;
	/* QEMU omits the table for clusters of 4 KiB and less, where it
	 * would crowd out the backing file name. */
	if (n->version == 3 && qcow2_cluster_size(n) > AMEND_FEATURE_TABLE_MIN_CLUSTER) {
		amend_feature_table(out->feature_table);
		if (!add(out, QCOW2_EXT_FEATURE_TABLE, out->feature_table,
			 AMEND_FEATURE_TABLE_LEN))
			return false;
	}
	/* QEMU ignores (and drops) a bitmaps extension whose autoclear bit
	 * is clear: some program without bitmap support touched the file. */
	if ((h->autoclear & QCOW2_AUTOCLEAR_BITMAPS) &&
	    !add_old_ext(out, cluster, h, QCOW2_EXT_BITMAPS, false))
		return false;

	for (uint32_t i = h->n_ext; i > 0; i--) {
		const struct qcow2_ext *x = &h->ext[i - 1];
		if (known_type(x->type))
			continue;
		if (!ext_in_cluster(h, x) ||
		    !add(out, x->type, cluster + x->offset, x->length))
			return false;
	}

	if (h->backing_offset != 0) {
		uint64_t end = h->backing_offset + h->backing_size;
		if (end > qcow2_cluster_size(h))
			return false;
		out->layout.backing = cluster + h->backing_offset;
		out->layout.backing_len = bounded_strlen(out->layout.backing,
							 h->backing_size);
	}
	return true;
}
