/*
 * qcow2_open.c — the header stage of opening a qcow2 image as qemu-img
 * does (see qcow2_open.h): the fixed fields, the tables' geometry, and
 * then the later stages in their order (extensions: qcow2_open_ext.c;
 * the snapshot table: qcow2_open_snap.c; the bitmaps:
 * qcow2_open_bitmaps.c).
 *
 * Trust: the header cluster is hostile and read only inside hdr_len;
 * every product and sum below is computed in 64 bits with the operands'
 * bounds established first, or overflow-checked.
 */
#include "src/qcow2/qcow2_open.h"

#include "src/qcow2/qcow2_be.h"
#include "src/qcow2/qcow2_format.h"
#include "src/qcow2/qcow2_open_stages.h"

#define INT64_MAX_U 0x7fffffffffffffffULL
#define INT_MAX_U   0x7fffffffULL
#define SNAPSHOT_HEADER 40u

/* Per code: arguments, whether the message carries text from the image,
 * and whether it is a refusal or a warning. */
static const struct {
	uint8_t args;
	bool text;
} msg_shape[QOPEN_MSG_COUNT_] = {
	[QOPEN_VERSION] = { 1, false },
	[QOPEN_CLUSTER_BITS] = { 1, false },
	[QOPEN_COMPRESSION_UNKNOWN] = { 1, false },
	[QOPEN_FEATURES] = { 0, true },
	[QOPEN_SUBCLUSTER] = { 1, false },
	[QOPEN_CRYPT_METHOD] = { 1, false },
	[QOPEN_BACKING_FMT_LEN] = { 1, false },
	[QOPEN_CRYPTO_EXT_SIZE] = { 1, false },
	[QOPEN_CRYPTO_OFFSET] = { 2, false },
	[QOPEN_BITMAPS_TOO_MANY] = { 1, false },
	[QOPEN_BITMAPS_DIR_SIZE] = { 1, false },
	[QOPEN_SNAP_EXTRA] = { 1, false },
	[QOPEN_SNAP_TOO_BIG] = { 1, false },
	[QOPEN_BM_CONSTRAINTS] = { 0, true },
	[QOPEN_BM_EXISTS] = { 0, true },
	[QOPEN_BM_TABLE] = { 0, true },
	[QOPEN_BM_DATA] = { 0, true },
};

bool qcow2_open_msg_is_error(uint32_t code)
{
	return code < QOPEN_ERROR_COUNT_;
}

bool qcow2_open_msg_is_warning(uint32_t code)
{
	return code >= QOPEN_ERROR_COUNT_ && code < QOPEN_MSG_COUNT_;
}

uint32_t qcow2_open_msg_args(uint32_t code)
{
	return code < QOPEN_MSG_COUNT_ ? msg_shape[code].args : 0;
}

bool qcow2_open_msg_has_text(uint32_t code)
{
	return code < QOPEN_MSG_COUNT_ && msg_shape[code].text;
}

void qcow2_fields_read(const uint8_t *hdr, struct qcow2_fields *f)
{
	f->version = qcow2_be32(hdr + QCOW2_OFF_VERSION);
	f->backing_offset = qcow2_be64(hdr + QCOW2_OFF_BACKING_OFFSET);
	f->backing_size = qcow2_be32(hdr + QCOW2_OFF_BACKING_SIZE);
	f->cluster_bits = qcow2_be32(hdr + QCOW2_OFF_CLUSTER_BITS);
	f->size = qcow2_be64(hdr + QCOW2_OFF_SIZE);
	f->crypt_method = qcow2_be32(hdr + QCOW2_OFF_CRYPT_METHOD);
	f->l1_size = qcow2_be32(hdr + QCOW2_OFF_L1_SIZE);
	f->l1_offset = qcow2_be64(hdr + QCOW2_OFF_L1_OFFSET);
	f->refcount_offset = qcow2_be64(hdr + QCOW2_OFF_REFCOUNT_OFFSET);
	f->refcount_clusters = qcow2_be32(hdr + QCOW2_OFF_REFCOUNT_CLUSTERS);
	f->nb_snapshots = qcow2_be32(hdr + QCOW2_OFF_NB_SNAPSHOTS);
	f->snapshots_offset = qcow2_be64(hdr + QCOW2_OFF_SNAPSHOTS_OFFSET);
	if (f->version == 2) {
		f->incompat = 0;
		f->compat = 0;
		f->autoclear = 0;
		f->refcount_order = 4;
		f->header_length = QCOW2_V2_HEADER_LEN;
		f->compression_type = QCOW2_COMPRESSION_ZLIB;
		return;
	}
	f->incompat = qcow2_be64(hdr + QCOW2_OFF_INCOMPAT);
	f->compat = qcow2_be64(hdr + QCOW2_OFF_COMPAT);
	f->autoclear = qcow2_be64(hdr + QCOW2_OFF_AUTOCLEAR);
	f->refcount_order = qcow2_be32(hdr + QCOW2_OFF_REFCOUNT_ORDER);
	f->header_length = qcow2_be32(hdr + QCOW2_OFF_HEADER_LENGTH);
	f->compression_type = f->header_length > QCOW2_OFF_COMPRESSION_TYPE
				      ? hdr[QCOW2_OFF_COMPRESSION_TYPE]
				      : QCOW2_COMPRESSION_ZLIB;
}

enum qcow2_open_result qopen_refuse(struct qcow2_open_err *e, uint32_t code,
				    uint64_t a0, uint64_t a1)
{
	e->code = code;
	e->n_args = qcow2_open_msg_args(code);
	e->arg[0] = a0;
	e->arg[1] = a1;
	e->arg[2] = 0;
	e->text = NULL;
	e->text_len = 0;
	return QCOW2_OPEN_REFUSED;
}

enum qcow2_open_result qopen_refuse_text(struct qcow2_open_err *e,
					 uint32_t code, const uint8_t *text,
					 uint32_t len)
{
	(void)qopen_refuse(e, code, 0, 0);
	e->text = text;
	e->text_len = len;
	return QCOW2_OPEN_REFUSED;
}

/* QEMU's check of a table's place: `entries` of `entry_len` bytes at
 * `offset`, at most `max_bytes`. 1: too large, 2: offset invalid. */
static int table_check(uint64_t offset, uint64_t entries, uint64_t entry_len,
		       uint64_t max_bytes, uint32_t cluster_bits)
{
	if (entries > max_bytes / entry_len)
		return 1;
	/* entries * entry_len <= max_bytes: no overflow. */
	if (INT64_MAX_U - entries * entry_len < offset ||
	    (offset & (((uint64_t)1 << cluster_bits) - 1u)) != 0)
		return 2;
	return 0;
}

/* Compression type, as QEMU validates it before the feature bits. */
static enum qcow2_open_result check_compression(const struct qcow2_open_input *in,
						const struct qcow2_fields *f,
						struct qcow2_open_err *e)
{
	bool zstd_known = (in->behaviour & QOPEN_B_ZSTD) != 0;
	bool bit = (f->incompat & QCOW2_INCOMPAT_COMPRESSION) != 0;

	if (f->compression_type != QCOW2_COMPRESSION_ZLIB &&
	    !(zstd_known && f->compression_type == QCOW2_COMPRESSION_ZSTD))
		return qopen_refuse(e, QOPEN_COMPRESSION_UNKNOWN,
				    f->compression_type, 0);
	if (f->compression_type == QCOW2_COMPRESSION_ZLIB && bit)
		return qopen_refuse(e, QOPEN_COMPRESSION_BIT_SET, 0, 0);
	if (f->compression_type != QCOW2_COMPRESSION_ZLIB && !bit)
		return qopen_refuse(e, QOPEN_COMPRESSION_BIT_CLEAR, 0, 0);
	return QCOW2_OPEN_OK;
}

/* The fields up to the feature bits, in QEMU's order. */
static enum qcow2_open_result check_fixed(const struct qcow2_open_input *in,
					  const struct qcow2_fields *f,
					  struct qcow2_open_err *e)
{
	if (qcow2_be32(in->hdr + QCOW2_OFF_MAGIC) != QCOW2_MAGIC)
		return qopen_refuse(e, QOPEN_NOT_QCOW2, 0, 0);
	if (f->version < 2 || f->version > 3)
		return qopen_refuse(e, QOPEN_VERSION, f->version, 0);
	if (f->cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
	    f->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
		return qopen_refuse(e, QOPEN_CLUSTER_BITS, f->cluster_bits, 0);
	if (f->version == 3 && f->header_length < QCOW2_V3_MIN_HEADER)
		return qopen_refuse(e, QOPEN_HEADER_SHORT, 0, 0);
	if (f->header_length > ((uint64_t)1 << f->cluster_bits))
		return qopen_refuse(e, QOPEN_HEADER_EXCEEDS, 0, 0);
	if (f->backing_offset > ((uint64_t)1 << f->cluster_bits))
		return qopen_refuse(e, QOPEN_BACKING_OFFSET, 0, 0);
	return check_compression(in, f, e);
}

/* From the feature bits to the refcount table's place. */
static enum qcow2_open_result check_features(const struct qcow2_open_input *in,
					     struct qcow2_opened *o,
					     struct qcow2_open_err *e)
{
	const struct qcow2_fields *f = &o->f;
	uint32_t cb = f->cluster_bits;
	int t;

	if (f->incompat & ~QCOW2_INCOMPAT_KNOWN)
		return qopen_unsupported_features(in, o, e);
	if ((f->incompat & QCOW2_INCOMPAT_EXTENDED_L2) && cb < 14u)
		return qopen_refuse(e, QOPEN_SUBCLUSTER,
				    ((uint64_t)1 << cb) / 32u, 0);
	if (f->refcount_order > QCOW2_MAX_REFCOUNT_ORDER)
		return qopen_refuse(e, QOPEN_REFCOUNT_ORDER, 0, 0);
	if (f->refcount_clusters == 0 && in->mode != QOPEN_MODE_CHECK)
		return qopen_refuse(e, QOPEN_NO_REFTABLE, 0, 0);
	t = table_check(f->refcount_offset, f->refcount_clusters,
			(uint64_t)1 << cb, QCOW2_OPEN_MAX_REFTABLE, cb);
	if (t != 0)
		return qopen_refuse(e, t == 1 ? QOPEN_REFTABLE_TOO_LARGE
					      : QOPEN_REFTABLE_OFFSET, 0, 0);
	return QCOW2_OPEN_OK;
}

/* The L1 entries a virtual size needs, in QEMU's wrapping arithmetic. */
static uint64_t l1_entries_needed(const struct qcow2_fields *f)
{
	uint32_t entry_shift = (f->incompat & QCOW2_INCOMPAT_EXTENDED_L2) ? 4u : 3u;
	uint32_t shift = f->cluster_bits + (f->cluster_bits - entry_shift);

	return (f->size + (((uint64_t)1 << shift) - 1u)) >> shift;
}

/* The snapshot table's and the L1 table's places, the size, and the
 * reads QEMU makes of the L1 and refcount tables. */
static enum qcow2_open_result check_tables(const struct qcow2_open_input *in,
					   const struct qcow2_fields *f,
					   struct qcow2_open_err *e)
{
	const struct qcow2_qread q = { in->io, in->file_bytes,
				       (in->behaviour & QOPEN_B_READ_LIMIT) != 0 };
	uint64_t needed;
	int t;

	if (in->mode != QOPEN_MODE_CHECK) {
		t = table_check(f->snapshots_offset, f->nb_snapshots,
				SNAPSHOT_HEADER,
				(uint64_t)SNAPSHOT_HEADER * QCOW2_OPEN_MAX_SNAPSHOTS,
				f->cluster_bits);
		if (t != 0)
			return qopen_refuse(e, t == 1 ? QOPEN_SNAPTABLE_TOO_LARGE
						      : QOPEN_SNAPTABLE_OFFSET, 0, 0);
	}
	t = table_check(f->l1_offset, f->l1_size, 8u,
			(uint64_t)QCOW2_OPEN_MAX_L1_ENTRIES * 8u, f->cluster_bits);
	if (t != 0)
		return qopen_refuse(e, t == 1 ? QOPEN_L1_TOO_LARGE
					      : QOPEN_L1_OFFSET, 0, 0);
	needed = l1_entries_needed(f);
	if (needed > INT_MAX_U)
		return qopen_refuse(e, QOPEN_TOO_BIG, 0, 0);
	if (f->l1_size < needed)
		return qopen_refuse(e, QOPEN_L1_TOO_SMALL, 0, 0);
	if (f->l1_size != 0 &&
	    qcow2_qread_verdict(&q, f->l1_offset, (uint64_t)f->l1_size * 8u) !=
		    QCOW2_QREAD_OK)
		return qopen_refuse(e, QOPEN_L1_READ, 0, 0);
	if (f->crypt_method > QCOW2_CRYPT_LUKS)
		return qopen_refuse(e, QOPEN_CRYPT_METHOD, f->crypt_method, 0);
	if (f->refcount_clusters != 0 &&
	    qcow2_qread_verdict(&q, f->refcount_offset,
				(uint64_t)f->refcount_clusters << f->cluster_bits) !=
		    QCOW2_QREAD_OK)
		return qopen_refuse(e, QOPEN_REFCOUNT_INIT, 0, 0);
	return QCOW2_OPEN_OK;
}

/* After the extensions: the data file (5.2 opens it), LUKS without its
 * header extension, and the backing file name. */
static enum qcow2_open_result check_names(const struct qcow2_open_input *in,
					  struct qcow2_opened *o,
					  bool crypto_ext,
					  struct qcow2_open_err *e)
{
	const struct qcow2_fields *f = &o->f;
	uint64_t cs = (uint64_t)1 << f->cluster_bits;

	if (in->behaviour & QOPEN_B_DATA_FILE) {
		if (f->incompat & QCOW2_INCOMPAT_EXTERNAL_DATA) {
			if (!o->has_data_file)
				return qopen_refuse(e, QOPEN_DATA_FILE_REQUIRED, 0, 0);
			if (o->data_file.len == 0)
				return qopen_refuse(e, QOPEN_DATA_FILE_EMPTY, 0, 0);
		} else if (f->autoclear & QCOW2_AUTOCLEAR_DATA_RAW) {
			return qopen_refuse(e, QOPEN_DATA_FILE_RAW, 0, 0);
		}
	}
	if (f->crypt_method == QCOW2_CRYPT_LUKS && !crypto_ext)
		return qopen_refuse(e, (in->behaviour & QOPEN_B_LUKS_NO_EXT)
					       ? QOPEN_LUKS_NO_EXT
					       : QOPEN_INSTAR_LUKS_NO_EXT, 0, 0);
	if (f->backing_offset != 0) {
		uint64_t len = f->backing_size;
		uint64_t room = cs - f->backing_offset;  /* offset <= cs */

		if (len > (room < 1023u ? room : 1023u))
			return qopen_refuse(e, QOPEN_BACKING_TOO_LONG, 0, 0);
		o->backing.off = (uint32_t)f->backing_offset;
		o->backing.len = qopen_strnlen(in->hdr, in->hdr_len,
					       o->backing.off, (uint32_t)len);
		o->has_backing = o->backing.len != 0;
	}
	return QCOW2_OPEN_OK;
}

enum qcow2_open_result qcow2_open(const struct qcow2_open_input *in,
				  struct qcow2_opened *o,
				  struct qcow2_open_err *e)
{
	enum qcow2_open_result r;
	bool crypto_ext = false;

	__builtin_memset(o, 0, sizeof(*o));
	__builtin_memset(e, 0, sizeof(*e));
	if (in->hdr == NULL || in->hdr_len < QCOW2_V3_FULL_HEADER ||
	    in->io == NULL || in->text == NULL ||
	    in->text_cap < QCOW2_OPEN_MAX_FEATURES_TEXT || in->work == NULL ||
	    in->work_len < QCOW2_OPEN_MIN_WORK)
		return QCOW2_OPEN_MEMORY;
	qcow2_fields_read(in->hdr, &o->f);
	r = check_fixed(in, &o->f, e);
	if (r != QCOW2_OPEN_OK)
		return r;
	/* From here on the whole header cluster must be present. */
	if (in->hdr_len < ((size_t)1 << o->f.cluster_bits))
		return QCOW2_OPEN_MEMORY;
	r = check_features(in, o, e);
	if (r == QCOW2_OPEN_OK)
		r = check_tables(in, &o->f, e);
	if (r == QCOW2_OPEN_OK)
		r = qopen_extensions(in, o, &crypto_ext, e);
	if (r == QCOW2_OPEN_OK)
		r = check_names(in, o, crypto_ext, e);
	if (r == QCOW2_OPEN_OK && in->mode != QOPEN_MODE_CHECK)
		r = qopen_snapshots(in, o, e);
	if (r == QCOW2_OPEN_OK && o->bitmaps)
		r = qopen_bitmaps(in, o, e);
	if (r == QCOW2_OPEN_OK &&
	    (o->f.size & ~(uint64_t)511u) > QCOW2_QREAD_LIMIT)
		r = qopen_refuse(e, QOPEN_SIZE_WRAP, 0, 0);
	return r;
}
