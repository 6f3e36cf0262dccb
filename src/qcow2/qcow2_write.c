/*
 * qcow2_write.c — header cluster serialiser (see qcow2_write.h).
 * Trust: checks every write against the output length. Freestanding.
 */
#include "src/qcow2/qcow2_write.h"

#include "src/qcow2/qcow2_be.h"
#include "src/qcow2/qcow2_format.h"

/* Cursor over the output cluster; `pos` never exceeds `len`. */
struct cursor {
	uint8_t *out;
	size_t len;
	size_t pos;
};

/* With c->out NULL the cursor only measures. */
static int put_bytes(struct cursor *c, const uint8_t *src, size_t n)
{
	if (n > c->len - c->pos)
		return -1;
	if (n != 0 && c->out != NULL)
		__builtin_memcpy(c->out + c->pos, src, n);
	c->pos += n;
	return 0;
}

static int put_ext(struct cursor *c, uint32_t type, const uint8_t *data,
		   uint32_t length)
{
	uint8_t hdr[8];
	size_t padded = ((size_t)length + 7u) & ~(size_t)7u;

	if (8u > c->len - c->pos || padded > c->len - c->pos - 8u)
		return -1;
	qcow2_put_be32(hdr, type);
	qcow2_put_be32(hdr + 4, length);
	if (put_bytes(c, hdr, 8) != 0)
		return -1;
	if (length != 0 && (data == NULL || put_bytes(c, data, length) != 0))
		return -1;
	/* Padding bytes are already zero: the cluster was cleared first. */
	c->pos += padded - length;
	return 0;
}

static void put_fields(const struct qcow2_header *h, uint32_t header_length,
		       uint8_t *out)
{
	qcow2_put_be32(out + QCOW2_OFF_MAGIC, QCOW2_MAGIC);
	qcow2_put_be32(out + QCOW2_OFF_VERSION, h->version);
	qcow2_put_be32(out + QCOW2_OFF_CLUSTER_BITS, h->cluster_bits);
	qcow2_put_be64(out + QCOW2_OFF_SIZE, h->size);
	qcow2_put_be32(out + QCOW2_OFF_CRYPT_METHOD, h->crypt_method);
	qcow2_put_be32(out + QCOW2_OFF_L1_SIZE, h->l1_size);
	qcow2_put_be64(out + QCOW2_OFF_L1_OFFSET, h->l1_offset);
	qcow2_put_be64(out + QCOW2_OFF_REFCOUNT_OFFSET, h->refcount_offset);
	qcow2_put_be32(out + QCOW2_OFF_REFCOUNT_CLUSTERS, h->refcount_clusters);
	qcow2_put_be32(out + QCOW2_OFF_NB_SNAPSHOTS, h->nb_snapshots);
	qcow2_put_be64(out + QCOW2_OFF_SNAPSHOTS_OFFSET, h->snapshots_offset);
	if (h->version < 3)
		return;
	qcow2_put_be64(out + QCOW2_OFF_INCOMPAT, h->incompat);
	qcow2_put_be64(out + QCOW2_OFF_COMPAT, h->compat);
	qcow2_put_be64(out + QCOW2_OFF_AUTOCLEAR, h->autoclear);
	qcow2_put_be32(out + QCOW2_OFF_REFCOUNT_ORDER, h->refcount_order);
	qcow2_put_be32(out + QCOW2_OFF_HEADER_LENGTH, header_length);
	out[QCOW2_OFF_COMPRESSION_TYPE] = h->compression_type;
}

/* Write (out != NULL) or measure (out NULL: *used gets the length) the
 * header cluster h and l describe. */
static enum qcow2_err emit(const struct qcow2_header *h,
			   const struct qcow2_layout *l, uint8_t *out,
			   size_t len, size_t *used)
{
	struct cursor c = { out, len, 0 };
	uint32_t fixed, header_length;

	if (h == NULL || l == NULL)
		return QCOW2_ERR_NO_SPACE;
	if (h->version != 2 && h->version != 3)
		return QCOW2_ERR_VERSION;
	if (h->version == 2 && l->hdr_extra_len != 0)
		return QCOW2_ERR_HEADER_LENGTH;
	fixed = h->version == 2 ? QCOW2_V2_HEADER_LEN : QCOW2_V3_FULL_HEADER;
	if (__builtin_add_overflow(fixed, l->hdr_extra_len, &header_length))
		return QCOW2_ERR_OVERFLOW;
	if (header_length > len)
		return QCOW2_ERR_NO_SPACE;

	/* One memset, not a byte loop: in the guest every instruction is
	 * expensive, and the cluster can be 2 MiB. */
	if (out != NULL) {
		__builtin_memset(out, 0, len);
		put_fields(h, header_length, out);
	}
	c.pos = fixed;
	if (l->hdr_extra_len != 0 &&
	    (l->hdr_extra == NULL ||
	     put_bytes(&c, l->hdr_extra, l->hdr_extra_len) != 0))
		return QCOW2_ERR_NO_SPACE;

	for (uint32_t i = 0; i < l->n_ext; i++) {
		if (l->ext[i].type == QCOW2_EXT_END)
			return QCOW2_ERR_EXTENSION;
		if (put_ext(&c, l->ext[i].type, l->ext[i].data,
			    l->ext[i].length) != 0)
			return QCOW2_ERR_NO_SPACE;
	}
	if (put_ext(&c, QCOW2_EXT_END, NULL, 0) != 0)
		return QCOW2_ERR_NO_SPACE;

	if (l->backing_len != 0) {
		if (l->backing_len > QCOW2_MAX_BACKING_NAME || l->backing == NULL)
			return QCOW2_ERR_BACKING;
		if (out != NULL) {
			qcow2_put_be64(out + QCOW2_OFF_BACKING_OFFSET,
				       (uint64_t)c.pos);
			qcow2_put_be32(out + QCOW2_OFF_BACKING_SIZE,
				       l->backing_len);
		}
		if (put_bytes(&c, l->backing, l->backing_len) != 0)
			return QCOW2_ERR_NO_SPACE;
	}
	if (used != NULL)
		*used = c.pos;
	return QCOW2_OK;
}

enum qcow2_err qcow2_serialise(const struct qcow2_header *h,
			       const struct qcow2_layout *l,
			       uint8_t *out, size_t len)
{
	if (out == NULL)
		return QCOW2_ERR_NO_SPACE;
	return emit(h, l, out, len, NULL);
}

enum qcow2_err qcow2_serialised_len(const struct qcow2_header *h,
				    const struct qcow2_layout *l, size_t *len)
{
	if (len == NULL)
		return QCOW2_ERR_NO_SPACE;
	return emit(h, l, NULL, (size_t)-1, len);
}

void qcow2_set_backing_offset(uint8_t *hdr, uint64_t offset)
{
	qcow2_put_be64(hdr + QCOW2_OFF_BACKING_OFFSET, offset);
}
