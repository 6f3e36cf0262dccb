/*
 * report_parse.c — check an inspection report (see report_parse.h).
 *
 * Trust: the buffer is the guest's. Every read is of a fixed-size part
 * whose bounds were checked first, copied out with memcpy (the stream
 * guarantees no alignment to a host that reads it).
 */
#include "src/image/report_parse.h"

#include <string.h>

#include "src/qcow2/qcow2_check.h"
#include "src/qcow2/qcow2_open.h"

/* QEMU's limits on the strings it keeps. */
#define MAX_BACKING_NAME 1023u   /* the backing file name */
#define MAX_FORMAT_NAME  15u     /* the backing format (char[16]) */
#define MAX_BITMAP_NAME  1023u

/* Where a report stands: which records may come next. */
enum stage {
	ST_START = 0,    /* warnings, then the first real record */
	ST_FAILED,       /* after OPEN_ERROR: only END */
	ST_IMAGE,        /* info: after IMAGE, names */
	ST_SNAPSHOTS,    /* info: snapshots */
	ST_BITMAPS,      /* info: bitmaps */
	ST_FINDINGS,     /* check: findings */
	ST_CHECKED,      /* check: after CHECK, only END */
	ST_END,
};

struct cursor {
	const uint8_t *buf;
	size_t len;
	size_t off;
	enum report_kind kind;
	enum stage st;
	uint64_t records;
	/* What the findings add up to, to hold the totals against. */
	uint64_t corruptions;
	uint64_t leaks;
	uint64_t check_errors;
	struct report_view *v;
};

static size_t fixed_len(uint32_t type)
{
	switch (type) {
	case REPORT_T_OPEN_ERROR:
	case REPORT_T_WARNING:
		return sizeof(struct report_message);
	case REPORT_T_IMAGE:
		return sizeof(struct report_image);
	case REPORT_T_NAME:
		return sizeof(struct report_name);
	case REPORT_T_SNAPSHOT:
		return sizeof(struct report_snapshot);
	case REPORT_T_BITMAP:
		return sizeof(struct report_bitmap);
	case REPORT_T_FINDING:
		return sizeof(struct report_finding);
	case REPORT_T_CHECK:
		return sizeof(struct report_check);
	case REPORT_T_END:
		return sizeof(struct report_end);
	default:
		return 0;
	}
}

/* The record's body is its fixed part plus `strings` bytes, padded with
 * fewer than REPORT_ALIGN bytes to its length. */
static bool body_fits(uint32_t len, size_t fixed, uint64_t strings)
{
	uint64_t need = (uint64_t)fixed + strings;

	return need <= len && len - need < REPORT_ALIGN;
}

static enum report_err check_message(struct cursor *c, const uint8_t *p,
				     uint32_t len, bool error)
{
	struct report_message m;

	memcpy(&m, p, sizeof(m));
	if (!body_fits(len, sizeof(m), m.str_len) || m.reserved != 0 ||
	    m.str_len > REPORT_MAX_STRING)
		return REPORT_ERR_RECORD;
	if (error ? !qcow2_open_msg_is_error(m.code)
		  : !qcow2_open_msg_is_warning(m.code))
		return REPORT_ERR_FIELD;
	if (m.n_args != qcow2_open_msg_args(m.code) ||
	    (m.str_len != 0 && !qcow2_open_msg_has_text(m.code)))
		return REPORT_ERR_FIELD;
	if (c->st != ST_START)
		return REPORT_ERR_ORDER;
	if (error) {
		c->v->open_failed = true;
		c->v->open_error = m;
		c->st = ST_FAILED;
	} else {
		c->v->warnings++;
	}
	return REPORT_OK;
}

static enum report_err check_image(struct cursor *c, const uint8_t *p,
				   uint32_t len)
{
	struct report_image im;

	memcpy(&im, p, sizeof(im));
	if (!body_fits(len, sizeof(im), 0))
		return REPORT_ERR_RECORD;
	if ((im.version != 2 && im.version != 3) || im.cluster_bits < 9 ||
	    im.cluster_bits > 21 || im.refcount_order > 6 ||
	    im.compression_type > 1 || im.crypt_method > 2 ||
	    im.nb_snapshots > QCOW2_OPEN_MAX_SNAPSHOTS ||
	    im.nb_bitmaps > QCOW2_OPEN_MAX_BITMAPS ||
	    (im.flags & ~(uint32_t)REPORT_IMAGE_BITMAPS_LISTED) != 0 ||
	    (im.nb_bitmaps != 0 && !(im.flags & REPORT_IMAGE_BITMAPS_LISTED)))
		return REPORT_ERR_FIELD;
	if (c->kind != REPORT_KIND_INFO || c->st != ST_START)
		return REPORT_ERR_ORDER;
	c->v->has_image = true;
	c->v->image = im;
	c->st = ST_IMAGE;
	return REPORT_OK;
}

static enum report_err check_name(struct cursor *c, const uint8_t *p,
				  uint32_t len)
{
	struct report_name n;
	uint32_t max;

	memcpy(&n, p, sizeof(n));
	if (!body_fits(len, sizeof(n), n.len))
		return REPORT_ERR_RECORD;
	switch (n.kind) {
	case REPORT_NAME_BACKING_FILE:
		max = MAX_BACKING_NAME;
		break;
	case REPORT_NAME_BACKING_FORMAT:
		max = MAX_FORMAT_NAME;
		break;
	case REPORT_NAME_DATA_FILE:
		max = REPORT_MAX_STRING;
		break;
	default:
		return REPORT_ERR_FIELD;
	}
	if (n.len > max)
		return REPORT_ERR_FIELD;
	if (c->st != ST_IMAGE)
		return REPORT_ERR_ORDER;
	c->v->names++;
	return REPORT_OK;
}

static enum report_err check_snapshot(struct cursor *c, const uint8_t *p,
				      uint32_t len)
{
	struct report_snapshot s;

	memcpy(&s, p, sizeof(s));
	if (s.id_len > REPORT_MAX_STRING || s.name_len > REPORT_MAX_STRING ||
	    !body_fits(len, sizeof(s), (uint64_t)s.id_len + s.name_len))
		return REPORT_ERR_RECORD;
	if (c->st == ST_IMAGE)
		c->st = ST_SNAPSHOTS;
	if (c->st != ST_SNAPSHOTS)
		return REPORT_ERR_ORDER;
	if (c->v->snapshots >= c->v->image.nb_snapshots)
		return REPORT_ERR_COUNT;
	c->v->snapshots++;
	return REPORT_OK;
}

static enum report_err check_bitmap(struct cursor *c, const uint8_t *p,
				    uint32_t len)
{
	struct report_bitmap b;

	memcpy(&b, p, sizeof(b));
	if (b.name_len > MAX_BITMAP_NAME ||
	    !body_fits(len, sizeof(b), b.name_len) || b.reserved != 0)
		return REPORT_ERR_RECORD;
	if (b.granularity_bits > 63)
		return REPORT_ERR_FIELD;
	if (c->st == ST_IMAGE || c->st == ST_SNAPSHOTS) {
		if (c->v->snapshots != c->v->image.nb_snapshots)
			return REPORT_ERR_COUNT;
		c->st = ST_BITMAPS;
	}
	if (c->st != ST_BITMAPS)
		return REPORT_ERR_ORDER;
	if (c->v->bitmaps >= c->v->image.nb_bitmaps)
		return REPORT_ERR_COUNT;
	c->v->bitmaps++;
	return REPORT_OK;
}

static enum report_err check_finding(struct cursor *c, const uint8_t *p,
				     uint32_t len)
{
	struct report_finding f;

	memcpy(&f, p, sizeof(f));
	if (f.id_len > REPORT_MAX_STRING || f.name_len > REPORT_MAX_STRING ||
	    !body_fits(len, sizeof(f), (uint64_t)f.id_len + f.name_len))
		return REPORT_ERR_RECORD;
	if (f.code >= QCOW2_FINDING_COUNT_ ||
	    f.n_args != qcow2_finding_args(f.code) ||
	    (!qcow2_finding_has_names(f.code) && (f.id_len | f.name_len) != 0))
		return REPORT_ERR_FIELD;
	if (c->kind != REPORT_KIND_CHECK ||
	    (c->st != ST_START && c->st != ST_FINDINGS))
		return REPORT_ERR_ORDER;
	switch (qcow2_finding_counter_of(f.code)) {
	case QCOW2_COUNT_CORRUPTION:
		c->corruptions++;
		break;
	case QCOW2_COUNT_LEAK:
		c->leaks++;
		break;
	case QCOW2_COUNT_CHECK_ERROR:
		c->check_errors++;
		break;
	case QCOW2_COUNT_NONE:
	default:
		break;
	}
	c->st = ST_FINDINGS;
	c->v->findings++;
	return REPORT_OK;
}

static enum report_err check_totals(struct cursor *c, const uint8_t *p,
				    uint32_t len)
{
	struct report_check k;

	memcpy(&k, p, sizeof(k));
	if (!body_fits(len, sizeof(k), 0))
		return REPORT_ERR_RECORD;
	/* (A virtual size of 0 can still have allocated clusters: the
	 * statistics count the L1 table's entries, not the disk's size.) */
	if ((k.flags & ~(uint32_t)REPORT_CHECK_FLAGS_KNOWN) != 0 ||
	    k.compressed_clusters > k.allocated_clusters ||
	    k.fragmented_clusters > k.allocated_clusters ||
	    (k.failed_errno != 0 && k.failed_errno != QCOW2_EIO &&
	     k.failed_errno != QCOW2_ENOMEM && k.failed_errno != QCOW2_EINVAL &&
	     k.failed_errno != QCOW2_EFBIG))
		return REPORT_ERR_FIELD;
	/* The totals are the findings' own: the host counts them itself. */
	if (k.corruptions != c->corruptions || k.leaks != c->leaks ||
	    k.check_errors != c->check_errors)
		return REPORT_ERR_COUNT;
	if (c->kind != REPORT_KIND_CHECK ||
	    (c->st != ST_START && c->st != ST_FINDINGS))
		return REPORT_ERR_ORDER;
	c->v->has_check = true;
	c->v->check = k;
	c->st = ST_CHECKED;
	return REPORT_OK;
}

static enum report_err check_end(struct cursor *c, const uint8_t *p,
				 uint32_t len)
{
	struct report_end e;

	memcpy(&e, p, sizeof(e));
	if (!body_fits(len, sizeof(e), 0))
		return REPORT_ERR_RECORD;
	switch (c->st) {
	case ST_FAILED:
	case ST_CHECKED:
		break;
	case ST_IMAGE:
	case ST_SNAPSHOTS:
	case ST_BITMAPS:
		if (c->v->snapshots != c->v->image.nb_snapshots ||
		    c->v->bitmaps != c->v->image.nb_bitmaps)
			return REPORT_ERR_COUNT;
		break;
	default:
		return REPORT_ERR_ORDER;
	}
	if (e.records != c->records || e.findings != c->v->findings)
		return REPORT_ERR_COUNT;
	c->st = ST_END;
	return REPORT_OK;
}

static enum report_err check_record(struct cursor *c, uint32_t type,
				    const uint8_t *p, uint32_t len)
{
	switch (type) {
	case REPORT_T_OPEN_ERROR:
		return check_message(c, p, len, true);
	case REPORT_T_WARNING:
		return check_message(c, p, len, false);
	case REPORT_T_IMAGE:
		return check_image(c, p, len);
	case REPORT_T_NAME:
		return check_name(c, p, len);
	case REPORT_T_SNAPSHOT:
		return check_snapshot(c, p, len);
	case REPORT_T_BITMAP:
		return check_bitmap(c, p, len);
	case REPORT_T_FINDING:
		return check_finding(c, p, len);
	case REPORT_T_CHECK:
		return check_totals(c, p, len);
	case REPORT_T_END:
		return check_end(c, p, len);
	default:
		return REPORT_ERR_RECORD;
	}
}

enum report_err report_parse(const uint8_t *buf, size_t len,
			     enum report_kind kind, struct report_view *v)
{
	struct cursor c;

	memset(v, 0, sizeof(*v));
	if (buf == NULL && len != 0)
		return REPORT_ERR_RECORD;
	v->buf = buf;
	v->len = len;
	memset(&c, 0, sizeof(c));
	c.buf = buf;
	c.len = len;
	c.kind = kind;
	c.v = v;
	while (c.off < len) {
		struct report_hdr h;
		enum report_err e;

		if (c.st == ST_END)
			return REPORT_ERR_TRAILING;
		if (len - c.off < sizeof(h))
			return REPORT_ERR_RECORD;
		memcpy(&h, buf + c.off, sizeof(h));
		if (h.len < sizeof(h) || h.len % REPORT_ALIGN != 0 ||
		    h.len > REPORT_MAX_RECORD || h.len > len - c.off ||
		    fixed_len(h.type) == 0 || h.len < fixed_len(h.type))
			return REPORT_ERR_RECORD;
		e = check_record(&c, h.type, buf + c.off, h.len);
		if (e != REPORT_OK)
			return e;
		if (h.type != REPORT_T_END)
			c.records++;
		c.off += h.len;
	}
	return c.st == ST_END ? REPORT_OK : REPORT_ERR_NO_END;
}

bool report_next(const struct report_view *v, size_t *off,
		 struct report_rec *r)
{
	struct report_hdr h;

	if (*off >= v->len || v->len - *off < sizeof(h))
		return false;
	memcpy(&h, v->buf + *off, sizeof(h));
	if (h.len < sizeof(h) || h.len > v->len - *off)
		return false;   /* not a parsed view */
	r->type = h.type;
	r->p = v->buf + *off;
	r->len = h.len;
	*off += h.len;
	return true;
}

void report_get_message(const struct report_rec *r, struct report_message *m,
			const uint8_t **str)
{
	memcpy(m, r->p, sizeof(*m));
	*str = r->p + sizeof(*m);
}

void report_get_name(const struct report_rec *r, struct report_name *n,
		     const uint8_t **bytes)
{
	memcpy(n, r->p, sizeof(*n));
	*bytes = r->p + sizeof(*n);
}

void report_get_snapshot(const struct report_rec *r, struct report_snapshot *s,
			 const uint8_t **id, const uint8_t **name)
{
	memcpy(s, r->p, sizeof(*s));
	*id = r->p + sizeof(*s);
	*name = *id + s->id_len;
}

void report_get_bitmap(const struct report_rec *r, struct report_bitmap *b,
		       const uint8_t **name)
{
	memcpy(b, r->p, sizeof(*b));
	*name = r->p + sizeof(*b);
}

void report_get_finding(const struct report_rec *r, struct report_finding *f,
			const uint8_t **id, const uint8_t **name)
{
	memcpy(f, r->p, sizeof(*f));
	*id = r->p + sizeof(*f);
	*name = *id + f->id_len;
}
