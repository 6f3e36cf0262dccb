/*
 * validate.c — the host's check of the guest's answer (see validate.h).
 * Nothing here plans an amend: it only checks that the staged header is
 * the old one with exactly the requested changes, the layout changes a
 * header rewrite implies (header length, feature-name table, moved
 * extensions and backing name) and nothing else.
 */
#include "sandbox/validate.h"

#include <string.h>

#include "src/amend/amend_diff.h"
#include "src/amend/amend_layout.h"
#include "src/amend/amend_status.h"
#include "src/qcow2/qcow2_format.h"

void validate_expected(const struct qcow2_header *pre,
		       const struct amend_request *req,
		       uint32_t *version, bool *lazy)
{
	bool cur = (pre->compat & QCOW2_COMPAT_LAZY_REFCOUNTS) != 0;

	*version = req->compat == AMEND_COMPAT_KEEP ? pre->version : req->compat;
	if (req->lazy == AMEND_LAZY_ON)
		*lazy = true;
	else if (req->lazy == AMEND_LAZY_OFF)
		*lazy = false;
	else
		*lazy = *version == 3 ? cur : false;
	if (*version == 2)
		*lazy = false;
}

static bool record_well_formed(const struct guest_result *r)
{
	if (r->magic != GUEST_ABI_MAGIC || r->abi_version != GUEST_ABI_VERSION)
		return false;
	if (r->status >= AMEND_STATUS_COUNT_)
		return false;
	if (r->result_version != 2 && r->result_version != 3 &&
	    r->action != GUEST_ACTION_NONE)
		return false;
	if (r->result_lazy > 1)
		return false;
	switch (r->action) {
	case GUEST_ACTION_AMENDED:
		return r->status == AMEND_CHANGED;
	case GUEST_ACTION_NOOP:
		return r->status == AMEND_NOOP;
	case GUEST_ACTION_NONE:
		return r->status != AMEND_CHANGED && r->status != AMEND_NOOP;
	default:
		return false;
	}
}

/* Fields no amend may touch. */
static bool invariants_hold(const struct qcow2_header *a,
			    const struct qcow2_header *b,
			    const uint8_t *pa, const uint8_t *pb)
{
	if (a->cluster_bits != b->cluster_bits || a->size != b->size ||
	    a->crypt_method != b->crypt_method || a->l1_size != b->l1_size ||
	    a->l1_offset != b->l1_offset ||
	    a->refcount_offset != b->refcount_offset ||
	    a->refcount_clusters != b->refcount_clusters ||
	    a->nb_snapshots != b->nb_snapshots ||
	    a->snapshots_offset != b->snapshots_offset ||
	    a->refcount_order != b->refcount_order)
		return false;
	/* A downgrade drops the compression type (v2 knows only zlib). */
	if (a->compression_type != b->compression_type &&
	    !(b->version == 2 && b->compression_type == 0))
		return false;
	/* The backing file name may move, but must read the same. A name
	 * reads up to its first NUL; an empty one means no backing file
	 * (QEMU then writes offset 0, and so does the planner). */
	{
		uint32_t la = 0, lb = 0;
		if (a->backing_offset != 0)
			while (la < a->backing_size && pa[a->backing_offset + la])
				la++;
		if (b->backing_offset != 0)
			while (lb < b->backing_size && pb[b->backing_offset + lb])
				lb++;
		if (la != lb)
			return false;
		if (lb == 0)
			return b->backing_offset == 0;
		if (lb != b->backing_size ||
		    memcmp(pa + a->backing_offset, pb + b->backing_offset, la) != 0)
			return false;
	}
	return true;
}

/* The feature bits must be the old ones with only the requested change
 * and the normalisations of a rewrite (unknown autoclear bits cleared). */
static bool features_as_requested(const struct qcow2_header *a,
				  const struct qcow2_header *b,
				  uint32_t version, bool lazy)
{
	uint64_t want_compat, want_autoclear;

	if (b->version != version)
		return false;
	/* v2 has no feature words: only an image without incompatible
	 * features may become v2 — except the compression type, which the
	 * guest's table scan found unused (refcount order is held equal by
	 * invariants_hold()). */
	if (version == 2)
		return (a->incompat & ~QCOW2_INCOMPAT_COMPRESSION) == 0;
	if (b->incompat != a->incompat)
		return false;
	want_compat = (a->compat & ~QCOW2_COMPAT_LAZY_REFCOUNTS) |
		      (lazy ? QCOW2_COMPAT_LAZY_REFCOUNTS : 0);
	want_autoclear = a->autoclear & QCOW2_AUTOCLEAR_KNOWN;
	if (b->compat != want_compat || b->autoclear != want_autoclear)
		return false;
	return b->header_length >= QCOW2_V3_FULL_HEADER;
}

/* Equality of one extension in each header, by type, length and bytes. */
static bool ext_equal(const uint8_t *pa, const struct qcow2_ext *x,
		      const uint8_t *pb, const struct qcow2_ext *y)
{
	return x->type == y->type && x->length == y->length &&
	       memcmp(pa + x->offset, pb + y->offset, x->length) == 0;
}

/* Every extension of the new header, the feature table aside, must be
 * one of the old header's (each used once); every old extension a
 * rewrite keeps must be there. A rewrite may trim a string extension at
 * its first NUL and drops a bitmaps extension whose autoclear bit is
 * clear and a data-file name without its incompatible bit. */
static bool extensions_kept(const struct qcow2_header *a, const uint8_t *pa,
			    const struct qcow2_header *b, const uint8_t *pb)
{
	bool used[QCOW2_MAX_EXTENSIONS] = { false };
	uint32_t kept_old = 0, new_count = 0;
	uint8_t table[AMEND_FEATURE_TABLE_LEN];

	amend_feature_table(table);
	for (uint32_t j = 0; j < b->n_ext; j++) {
		const struct qcow2_ext *y = &b->ext[j];
		bool found = false;

		if (y->type == QCOW2_EXT_FEATURE_TABLE) {
			if (b->version != 3 || y->length != sizeof(table) ||
			    memcmp(pb + y->offset, table, sizeof(table)) != 0)
				return false;
			continue;
		}
		new_count++;
		for (uint32_t i = 0; i < a->n_ext && !found; i++) {
			const struct qcow2_ext *x = &a->ext[i];
			if (used[i] || x->type != y->type)
				continue;
			if (ext_equal(pa, x, pb, y) ||
			    ((y->type == QCOW2_EXT_BACKING_FORMAT ||
			      y->type == QCOW2_EXT_DATA_FILE) &&
			     y->length < x->length && pa[x->offset + y->length] == 0 &&
			     memcmp(pa + x->offset, pb + y->offset, y->length) == 0)) {
				used[i] = true;
				found = true;
			}
		}
		if (!found)
			return false;
	}
	/* Known extensions survive once (QEMU keeps the last copy);
	 * unknown ones each survive. */
	{
		bool seen_fmt = false, seen_data = false, seen_bm = false,
		     seen_crypto = false;
		for (uint32_t i = 0; i < a->n_ext; i++) {
			uint32_t t = a->ext[i].type;
			if (t == QCOW2_EXT_FEATURE_TABLE)
				continue;
			if (t == QCOW2_EXT_BACKING_FORMAT) {
				seen_fmt = true;
			} else if (t == QCOW2_EXT_DATA_FILE) {
				seen_data = (a->incompat & QCOW2_INCOMPAT_EXTERNAL_DATA) != 0;
			} else if (t == QCOW2_EXT_BITMAPS) {
				seen_bm = (a->autoclear & QCOW2_AUTOCLEAR_BITMAPS) != 0;
			} else if (t == QCOW2_EXT_CRYPTO_HEADER) {
				seen_crypto = true;
			} else {
				kept_old++;
			}
		}
		kept_old += (uint32_t)seen_fmt + (uint32_t)seen_data +
			    (uint32_t)seen_bm + (uint32_t)seen_crypto;
	}
	return new_count == kept_old;
}

enum validate_err validate_guest(const struct validate_input *in,
				 struct validate_output *out)
{
	const struct guest_result *r = in->res;
	const struct qcow2_header *a = in->pre_hdr;
	struct qcow2_header b;
	bool staged_changed;
	uint32_t version;
	bool lazy;

	memset(out, 0, sizeof(*out));
	if (r->magic == GUEST_ABI_MAGIC && r->abi_version == GUEST_ABI_VERSION &&
	    r->io_error != 0)
		return VALIDATE_ERR_GUEST_IO;   /* nothing is written either way */
	if (!record_well_formed(r) || r->io_error != 0)
		return VALIDATE_ERR_RECORD;
	out->guest_status = r->status;
	staged_changed = memcmp(in->pre, in->staged, in->len) != 0;
	validate_expected(a, in->req, &version, &lazy);
	out->version = version;
	out->lazy = lazy;

	if (r->action == GUEST_ACTION_NONE)
		return staged_changed ? VALIDATE_ERR_WROTE_WITHOUT_CHANGE
				      : VALIDATE_REFUSED;
	if (r->result_version != version || (r->result_lazy != 0) != lazy)
		return VALIDATE_ERR_RECORD_MISMATCH;
	if (r->action == GUEST_ACTION_NOOP) {
		bool cur = (a->compat & QCOW2_COMPAT_LAZY_REFCOUNTS) != 0;
		if (staged_changed)
			return VALIDATE_ERR_WROTE_WITHOUT_CHANGE;
		if (a->version != version || cur != lazy)
			return VALIDATE_ERR_NOOP_LIE;
		return VALIDATE_NOOP;
	}

	if (!staged_changed)
		return VALIDATE_ERR_NO_WRITE;
	if (qcow2_parse(in->staged, in->len, &b) != QCOW2_OK)
		return VALIDATE_ERR_UNPARSABLE;
	if (!invariants_hold(a, &b, in->pre, in->staged))
		return VALIDATE_ERR_INVARIANT;
	if (!features_as_requested(a, &b, version, lazy))
		return VALIDATE_ERR_NOT_REQUESTED;
	if (!extensions_kept(a, in->pre, &b, in->staged))
		return VALIDATE_ERR_EXTENSIONS;
	if (!amend_diff(in->pre, in->staged, in->len, &out->ranges))
		return VALIDATE_ERR_RECORD;
	return VALIDATE_AMENDED;
}
