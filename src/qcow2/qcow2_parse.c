/*
 * qcow2_parse.c — parse and check a qcow2 header cluster.
 *
 * Trust: `buf` is attacker-controlled. Every read is preceded by a bounds
 * check against `len`; every offset sum is overflow-checked. The rules
 * follow the qcow2 specification and what QEMU itself accepts, made
 * stricter where QEMU is lax in a way that could mislead a writer
 * (unaligned header_length, a backing name overlapping the header).
 * Freestanding: no libc.
 */
#include "src/qcow2/qcow2_header.h"

#include "src/qcow2/qcow2_be.h"
#include "src/qcow2/qcow2_format.h"

/* Limits QEMU applies when it opens an image (block/qcow2.h). */
#define QEMU_MAX_L1_BYTES       (32ULL * 1024 * 1024)
#define QEMU_MAX_REFTABLE_BYTES (8ULL * 1024 * 1024)
#define QEMU_MAX_SNAPSHOTS      65536ULL
#define QEMU_SNAPSHOT_HDR_BYTES 40ULL
#define QEMU_BACKING_FMT_MAX    15u   /* bs->backing_format is char[16] */
#define CRYPTO_EXT_LEN          16u
#define BITMAPS_EXT_LEN         24u

const struct qcow2_ext *qcow2_find_ext(const struct qcow2_header *h,
				       uint32_t type)
{
	for (uint32_t i = 0; i < h->n_ext && i < QCOW2_MAX_EXTENSIONS; i++) {
		if (h->ext[i].type == type)
			return &h->ext[i];
	}
	return NULL;
}

static enum qcow2_err parse_fixed_fields(const uint8_t *buf, size_t len,
					 struct qcow2_header *h)
{
	if (len < 8)
		return QCOW2_ERR_TRUNCATED;
	if (qcow2_be32(buf + QCOW2_OFF_MAGIC) != QCOW2_MAGIC)
		return QCOW2_ERR_MAGIC;
	h->version = qcow2_be32(buf + QCOW2_OFF_VERSION);
	if (h->version != 2 && h->version != 3)
		return QCOW2_ERR_VERSION;
	if (len < QCOW2_V2_HEADER_LEN)
		return QCOW2_ERR_TRUNCATED;

	h->backing_offset = qcow2_be64(buf + QCOW2_OFF_BACKING_OFFSET);
	h->backing_size = qcow2_be32(buf + QCOW2_OFF_BACKING_SIZE);
	h->cluster_bits = qcow2_be32(buf + QCOW2_OFF_CLUSTER_BITS);
	h->size = qcow2_be64(buf + QCOW2_OFF_SIZE);
	h->crypt_method = qcow2_be32(buf + QCOW2_OFF_CRYPT_METHOD);
	h->l1_size = qcow2_be32(buf + QCOW2_OFF_L1_SIZE);
	h->l1_offset = qcow2_be64(buf + QCOW2_OFF_L1_OFFSET);
	h->refcount_offset = qcow2_be64(buf + QCOW2_OFF_REFCOUNT_OFFSET);
	h->refcount_clusters = qcow2_be32(buf + QCOW2_OFF_REFCOUNT_CLUSTERS);
	h->nb_snapshots = qcow2_be32(buf + QCOW2_OFF_NB_SNAPSHOTS);
	h->snapshots_offset = qcow2_be64(buf + QCOW2_OFF_SNAPSHOTS_OFFSET);

	if (h->cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
	    h->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
		return QCOW2_ERR_CLUSTER_BITS;
	/* The whole header cluster must be present. */
	if (len < ((size_t)1 << h->cluster_bits))
		return QCOW2_ERR_TRUNCATED;
	if (h->crypt_method > QCOW2_CRYPT_LUKS)
		return QCOW2_ERR_CRYPT_METHOD;

	if (h->version == 2) {
		h->incompat = 0;
		h->compat = 0;
		h->autoclear = 0;
		h->refcount_order = 4;
		h->header_length = QCOW2_V2_HEADER_LEN;
		h->compression_type = QCOW2_COMPRESSION_ZLIB;
		return QCOW2_OK;
	}

	h->incompat = qcow2_be64(buf + QCOW2_OFF_INCOMPAT);
	h->compat = qcow2_be64(buf + QCOW2_OFF_COMPAT);
	h->autoclear = qcow2_be64(buf + QCOW2_OFF_AUTOCLEAR);
	h->refcount_order = qcow2_be32(buf + QCOW2_OFF_REFCOUNT_ORDER);
	h->header_length = qcow2_be32(buf + QCOW2_OFF_HEADER_LENGTH);

	if (h->header_length < QCOW2_V3_MIN_HEADER ||
	    h->header_length > qcow2_cluster_size(h) ||
	    (h->header_length % 8u) != 0)
		return QCOW2_ERR_HEADER_LENGTH;
	if (h->incompat & ~QCOW2_INCOMPAT_KNOWN)
		return QCOW2_ERR_UNKNOWN_INCOMPAT;
	/* QEMU refuses "raw external data" without an external data file. */
	if ((h->autoclear & QCOW2_AUTOCLEAR_DATA_RAW) &&
	    !(h->incompat & QCOW2_INCOMPAT_EXTERNAL_DATA))
		return QCOW2_ERR_FEATURES;
	if (h->refcount_order > QCOW2_MAX_REFCOUNT_ORDER)
		return QCOW2_ERR_REFCOUNT_ORDER;

	h->compression_type = QCOW2_COMPRESSION_ZLIB;
	if (h->header_length > QCOW2_OFF_COMPRESSION_TYPE)
		h->compression_type = buf[QCOW2_OFF_COMPRESSION_TYPE];
	if (h->compression_type == QCOW2_COMPRESSION_ZLIB) {
		if (h->incompat & QCOW2_INCOMPAT_COMPRESSION)
			return QCOW2_ERR_COMPRESSION_TYPE;
	} else if (h->compression_type == QCOW2_COMPRESSION_ZSTD) {
		if (!(h->incompat & QCOW2_INCOMPAT_COMPRESSION))
			return QCOW2_ERR_COMPRESSION_TYPE;
	} else {
		return QCOW2_ERR_COMPRESSION_TYPE;
	}
	return QCOW2_OK;
}

/* A table of `entries` items of `entry_len` bytes at `offset`: aligned,
 * not overlapping the header cluster, no overflow, within QEMU's cap. */
static enum qcow2_err check_table(const struct qcow2_header *h,
				  uint64_t offset, uint64_t entries,
				  uint64_t entry_len, uint64_t max_bytes)
{
	uint64_t bytes, end;

	if (entries > max_bytes / entry_len)
		return QCOW2_ERR_TABLE_SIZE;
	bytes = entries * entry_len;
	if (__builtin_add_overflow(offset, bytes, &end) ||
	    end > (uint64_t)INT64_MAX)
		return QCOW2_ERR_TABLE_SIZE;
	if (offset & (qcow2_cluster_size(h) - 1u))
		return QCOW2_ERR_TABLE_ALIGN;
	if (entries != 0 && offset < qcow2_cluster_size(h))
		return QCOW2_ERR_TABLE_OVERLAP;
	return QCOW2_OK;
}

static enum qcow2_err check_tables(const struct qcow2_header *h)
{
	enum qcow2_err e;
	uint64_t per_l2, l1_needed;
	uint32_t l2_entry_shift = (h->incompat & QCOW2_INCOMPAT_EXTENDED_L2)
					  ? 4u : 3u;

	if (h->refcount_clusters == 0)
		return QCOW2_ERR_TABLE_SIZE;
	e = check_table(h, h->refcount_offset, h->refcount_clusters,
			qcow2_cluster_size(h), QEMU_MAX_REFTABLE_BYTES);
	if (e != QCOW2_OK)
		return e;
	e = check_table(h, h->snapshots_offset, h->nb_snapshots,
			QEMU_SNAPSHOT_HDR_BYTES,
			QEMU_SNAPSHOT_HDR_BYTES * QEMU_MAX_SNAPSHOTS);
	if (e != QCOW2_OK)
		return e;
	e = check_table(h, h->l1_offset, h->l1_size, 8, QEMU_MAX_L1_BYTES);
	if (e != QCOW2_OK)
		return e;

	/* The L1 table must map the whole virtual disk. Bytes mapped by one
	 * L1 entry: cluster_size * (cluster_size / l2_entry_size). */
	if (h->cluster_bits < l2_entry_shift)
		return QCOW2_ERR_TABLE_SIZE;
	per_l2 = (uint64_t)1 << (h->cluster_bits +
				 (h->cluster_bits - l2_entry_shift));
	l1_needed = h->size / per_l2 + ((h->size % per_l2) ? 1u : 0u);
	if (l1_needed > h->l1_size)
		return QCOW2_ERR_TABLE_SIZE;
	return QCOW2_OK;
}

/* The bitmaps extension QEMU will load (autoclear bit set) must pass
 * QEMU's own open-time checks, or QEMU cannot open the image:
 * nb_bitmaps 1..65535, reserved zero, directory cluster-aligned and at
 * most 1024 bytes per bitmap. */
#define QEMU_MAX_BITMAPS 65535u
#define QEMU_MAX_BITMAP_DIR (1024ULL * QEMU_MAX_BITMAPS)

static bool bitmaps_ext_ok(const uint8_t *p, uint32_t cluster_size)
{
	uint32_t nb = qcow2_be32(p);
	uint32_t reserved = qcow2_be32(p + 4);
	uint64_t dir_size = qcow2_be64(p + 8);
	uint64_t dir_off = qcow2_be64(p + 16);

	return nb != 0 && nb <= QEMU_MAX_BITMAPS && reserved == 0 &&
	       dir_size <= QEMU_MAX_BITMAP_DIR &&
	       (dir_off & (cluster_size - 1u)) == 0;
}

/* Walk the extension list the way QEMU does: from header_length up to
 * ext_end (the backing name, or the end of the cluster), each entry an
 * 8-byte {type, length} then data padded to 8; an END entry stops it,
 * and so does reaching ext_end. */
static enum qcow2_err walk_extensions(const uint8_t *buf,
				      struct qcow2_header *h, uint64_t ext_end)
{
	uint64_t off = h->header_length;

	h->n_ext = 0;
	h->ext_end_marker = false;
	while (off < ext_end) {
		uint32_t type, elen;
		uint64_t padded;

		if (ext_end - off < 8)
			return QCOW2_ERR_EXTENSION;
		type = qcow2_be32(buf + off);
		elen = qcow2_be32(buf + off + 4);
		off += 8;
		if (elen > ext_end - off)
			return QCOW2_ERR_EXTENSION;
		if (type == QCOW2_EXT_END) {
			h->ext_end = (uint32_t)off;
			h->ext_end_marker = true;
			return QCOW2_OK;
		}
		switch (type) {
		case QCOW2_EXT_BACKING_FORMAT:
			if (elen > QEMU_BACKING_FMT_MAX)
				return QCOW2_ERR_EXTENSION;
			break;
		case QCOW2_EXT_CRYPTO_HEADER:
			if (h->crypt_method != QCOW2_CRYPT_LUKS ||
			    elen != CRYPTO_EXT_LEN)
				return QCOW2_ERR_EXTENSION;
			break;
		case QCOW2_EXT_BITMAPS:
			if (elen != BITMAPS_EXT_LEN)
				return QCOW2_ERR_EXTENSION;
			if ((h->autoclear & QCOW2_AUTOCLEAR_BITMAPS) &&
			    !bitmaps_ext_ok(buf + off, qcow2_cluster_size(h)))
				return QCOW2_ERR_EXTENSION;
			break;
		default:
			break;
		}
		if (h->n_ext >= QCOW2_MAX_EXTENSIONS)
			return QCOW2_ERR_TOO_MANY_EXT;
		h->ext[h->n_ext].type = type;
		h->ext[h->n_ext].length = elen;
		h->ext[h->n_ext].offset = (uint32_t)off;
		h->n_ext++;
		padded = ((uint64_t)elen + 7u) & ~(uint64_t)7u;
		off += padded;
	}
	/* No END marker before ext_end: QEMU accepts this. */
	h->ext_end = (uint32_t)(off < ext_end ? off : ext_end);
	return QCOW2_OK;
}

enum qcow2_err qcow2_check_extents(const struct qcow2_header *h,
				   uint64_t file_bytes)
{
	uint64_t end;

	/* check_tables() already proved these sums do not overflow. */
	end = h->l1_offset + (uint64_t)h->l1_size * 8u;
	if (h->l1_size != 0 && end > file_bytes)
		return QCOW2_ERR_TABLE_EXTENT;
	end = h->refcount_offset +
	      ((uint64_t)h->refcount_clusters << h->cluster_bits);
	if (end > file_bytes)
		return QCOW2_ERR_TABLE_EXTENT;
	if (h->nb_snapshots != 0 && h->snapshots_offset >= file_bytes)
		return QCOW2_ERR_TABLE_EXTENT;
	return QCOW2_OK;
}

enum qcow2_err qcow2_parse(const uint8_t *buf, size_t len,
			   struct qcow2_header *h)
{
	enum qcow2_err e;
	uint64_t csize, ext_end;

	if (buf == NULL || h == NULL)
		return QCOW2_ERR_TRUNCATED;
	/* Zero every field, including the extension array. */
	__builtin_memset(h, 0, sizeof(*h));

	e = parse_fixed_fields(buf, len, h);
	if (e != QCOW2_OK)
		return e;
	csize = qcow2_cluster_size(h);

	/* Backing file name: inside the cluster, after the header fields,
	 * at most 1023 bytes (QEMU's limit). */
	if (h->backing_offset != 0) {
		uint64_t end;

		if (h->backing_offset > csize ||
		    h->backing_offset < h->header_length)
			return QCOW2_ERR_BACKING;
		if (h->backing_size > QCOW2_MAX_BACKING_NAME ||
		    __builtin_add_overflow(h->backing_offset,
					   (uint64_t)h->backing_size, &end) ||
		    end > csize)
			return QCOW2_ERR_BACKING;
		ext_end = h->backing_offset;
	} else {
		ext_end = csize;
	}

	e = walk_extensions(buf, h, ext_end);
	if (e != QCOW2_OK)
		return e;
	return check_tables(h);
}

enum qcow2_err qcow2_probe_cluster_size(const uint8_t *buf, size_t len,
					uint32_t *size)
{
	uint32_t bits;

	if (buf == NULL || size == NULL || len < QCOW2_OFF_CLUSTER_BITS + 4u)
		return QCOW2_ERR_TRUNCATED;
	bits = qcow2_be32(buf + QCOW2_OFF_CLUSTER_BITS);
	if (bits < QCOW2_MIN_CLUSTER_BITS || bits > QCOW2_MAX_CLUSTER_BITS)
		return QCOW2_ERR_CLUSTER_BITS;
	*size = (uint32_t)1 << bits;
	return QCOW2_OK;
}
