/*
 * commit.c — write the changed bytes of the header cluster in a crash-safe
 * order (commit.h; the guarantee is argued in docs/crash-consistency.md).
 *
 * The commit moves the file from the old header cluster (the pre-probe
 * copy, which image_check_unchanged() has just compared with the file) to
 * the new one through a short sequence of states. Every state is either
 * the old image or the new one as QEMU reads it, and consecutive states
 * differ only
 *   - inside one 512-byte sector (one pwrite: the atomic step), or
 *   - in bytes that the header of the current state does not reference
 *     (neither its header fields + extension chain nor its backing name),
 * with fdatasync after every step, so a crash after any single write
 * leaves one of the states. The common case (everything inside sector 0)
 * is exactly one pwrite and one fdatasync.
 *
 * Trust: the ranges come from the host (amend_diff over the validated
 * staged cluster) and are re-checked against the cluster size; the two
 * clusters are parsed again with the shared parser only to learn which
 * bytes each header references. Nothing outside the header cluster is
 * written; bytes the commit borrows as scratch space are restored to the
 * new cluster's value by the last step.
 *
 * Test builds (Bazel target //src/image:image_io_fault_injection, which
 * defines INSTAR_COMMIT_FAULT_INJECTION) can stop the commit after the
 * k-th pwrite, as if the machine had crashed; the shipped binary links
 * //src/image:image_io, where that code does not exist. The qcow2 layout
 * (which bytes a header references, where its backing offset lies) is
 * src/qcow2's: this file only orders the writes.
 */
#define _GNU_SOURCE
#include "src/image/commit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/image/byte_diff.h"
#include "src/qcow2/qcow2_header.h"
#include "src/qcow2/qcow2_write.h"

#ifdef INSTAR_COMMIT_FAULT_INJECTION
#include "src/image/commit_fault.h"

unsigned commit_fault_stop_after;   /* 0: never stop */
unsigned commit_fault_writes;       /* pwrites done by the last commit */
unsigned commit_fault_syncs;        /* fdatasyncs done by the last commit */
#endif

#define SECTOR 512u

struct commit_ctx {
	struct image_file *img;
	uint8_t *cur;      /* what the file holds now (cluster_len bytes) */
	size_t len;
};

/* An interval of referenced bytes: [start, end). */
struct refs {
	uint64_t chain_end;      /* header fields + extensions: [0, chain_end) */
	uint64_t bo, bend;       /* backing name: [bo, bend), empty if bo == 0 */
	bool end_marker;         /* the chain ends with an END extension */
};

/* One pwrite of one whole, aligned 512-byte sector, never split: the
 * commit's order relies on each step's switch being a single sector
 * write, and the seccomp policy allows exactly such writes inside the
 * header cluster (pwrite64 of 512 bytes at offset <= the last sector).
 * A short write is undone (the old sector is written back over it: the
 * kernel stops that write where it stopped the first, or later) and
 * reported as an error, so a failing write leaves the file as it was. */
static int pwrite_sector(int fd, const uint8_t *buf, const uint8_t *old,
			 uint64_t off)
{
	ssize_t n;

	do {
		n = pwrite(fd, buf, SECTOR, (off_t)off);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != SECTOR) {
		/* Best effort: if this fails too, the error is reported all
		 * the same and docs/crash-consistency.md says what to do. */
		if (n > 0) {
			ssize_t m;
			do {
				m = pwrite(fd, old, SECTOR, (off_t)off);
			} while (m < 0 && errno == EINTR);
		}
		errno = EIO;
		return -1;
	}
	return 0;
}

/* Write sector `sec` of `target` into the file and into ctx->cur. */
static enum image_err put_sector(struct commit_ctx *c, const uint8_t *target,
				 size_t sec)
{
	size_t off = sec * SECTOR;

	if (pwrite_sector(c->img->fd, target + off, c->cur + off, off) != 0) {
		c->img->sys_errno = errno;
		return IMAGE_ERR_WRITE;
	}
	memcpy(c->cur + off, target + off, SECTOR);
#ifdef INSTAR_COMMIT_FAULT_INJECTION
	commit_fault_writes++;
	if (commit_fault_stop_after != 0 &&
	    commit_fault_writes >= commit_fault_stop_after) {
		c->img->sys_errno = ECANCELED;
		return IMAGE_ERR_WRITE;
	}
#endif
	return IMAGE_OK;
}

static enum image_err sync_file(struct commit_ctx *c)
{
	if (fdatasync(c->img->fd) != 0) {
		c->img->sys_errno = errno;
		return IMAGE_ERR_WRITE;
	}
#ifdef INSTAR_COMMIT_FAULT_INJECTION
	commit_fault_syncs++;
#endif
	return IMAGE_OK;
}

/* First and one-past-last differing byte of cur and target in [lo, hi);
 * false when they are equal there. */
static bool diff_span(const uint8_t *a, const uint8_t *b, size_t lo,
		      size_t hi, size_t *first, size_t *end)
{
	size_t i = byte_first_diff(a, b, lo, hi);

	if (i == hi)
		return false;
	*first = i;
	*end = byte_last_diff_end(a, b, i, hi);
	return true;
}

/* Step: one pwrite, all differences inside one aligned sector. */
static enum image_err step_atomic(struct commit_ctx *c, const uint8_t *target)
{
	size_t first, end;
	enum image_err e;

	if (!diff_span(c->cur, target, 0, c->len, &first, &end))
		return IMAGE_OK;
	if (first / SECTOR != (end - 1) / SECTOR) {
		c->img->sys_errno = EINVAL;   /* planning bug: not one sector */
		return IMAGE_ERR_WRITE;
	}
	e = put_sector(c, target, first / SECTOR);
	return e != IMAGE_OK ? e : sync_file(c);
}

/* Step: write every sector that differs (the caller has proven that the
 * current header references none of the differing bytes; the other bytes
 * of those sectors are equal in both), then sync. */
static enum image_err step_free(struct commit_ctx *c, const uint8_t *target)
{
	bool wrote = false;

	for (size_t sec = 0; sec < c->len / SECTOR; sec++) {
		enum image_err e;

		if (memcmp(c->cur + sec * SECTOR, target + sec * SECTOR,
			   SECTOR) == 0)
			continue;
		e = put_sector(c, target, sec);
		if (e != IMAGE_OK)
			return e;
		wrote = true;
	}
	return wrote ? sync_file(c) : IMAGE_OK;
}

static bool get_refs(const uint8_t *cluster, size_t len, struct refs *r)
{
	struct qcow2_header *h = malloc(sizeof(*h));
	bool ok;

	if (h == NULL)
		return false;
	ok = qcow2_parse(cluster, len, h) == QCOW2_OK;
	if (ok) {
		r->chain_end = h->ext_end > h->header_length ? h->ext_end
							      : h->header_length;
		r->bo = h->backing_offset;
		r->bend = h->backing_offset ? h->backing_offset + h->backing_size
					    : 0;
		r->end_marker = h->ext_end_marker;
	}
	free(h);
	return ok;
}

static bool referenced(const struct refs *r, size_t i)
{
	return i < r->chain_end || (r->bo != 0 && i >= r->bo && i < r->bend);
}

static uint64_t refs_end(const struct refs *r)
{
	return r->bend > r->chain_end ? r->bend : r->chain_end;
}

static bool overlaps(const struct refs *r, uint64_t a, uint64_t b)
{
	return a < r->chain_end || (r->bo != 0 && a < r->bend && b > r->bo);
}

/* Copy `from` into `to` in the bytes [lo, len) where `keep` does not
 * reference them (keep == NULL: all of them), skipping [skip_a, skip_b). */
static void take(uint8_t *to, const uint8_t *from, size_t lo, size_t len,
		 const struct refs *keep, size_t skip_a, size_t skip_b)
{
	for (size_t i = lo; i < len; i++) {
		if (i >= skip_a && i < skip_b)
			continue;
		if (keep == NULL || !referenced(keep, i))
			to[i] = from[i];
	}
}

/* Plain two-phase commit: bytes past sector 0 that the old header does
 * not reference, sector 0 (the switch), then the bytes past sector 0
 * that only the old header referenced. Needs: no byte past sector 0
 * that changes is referenced by both headers. */
static enum image_err commit_two_phase(struct commit_ctx *c,
				       const uint8_t *fin, uint8_t *tmp,
				       const struct refs *ro)
{
	enum image_err e;

	memcpy(tmp, c->cur, c->len);
	take(tmp, fin, SECTOR, c->len, ro, 0, 0);
	e = step_free(c, tmp);
	if (e != IMAGE_OK)
		return e;
	memcpy(tmp, c->cur, c->len);
	memcpy(tmp, fin, SECTOR);
	e = step_atomic(c, tmp);
	if (e != IMAGE_OK)
		return e;
	return step_free(c, fin);
}

/* Relocation commit, for when old and new headers both reference
 * changing bytes past sector 0 (long backing names): `x` is the side
 * (old or new cluster) whose header fields and extensions fit in sector
 * 0 and end with an END entry. Its backing name is first copied to
 * scratch space T that neither header references, sector 0 switches to
 * x's header pointing at T, the
 * rest of the new cluster is written (the intermediate header references
 * only sector 0 and T), sector 0 switches to the new header, and T is
 * restored. */
static enum image_err commit_relocate(struct commit_ctx *c,
				      const uint8_t *fin, uint8_t *tmp,
				      const uint8_t *x, const struct refs *rx,
				      uint64_t t)
{
	size_t bs = (size_t)(rx->bend - rx->bo);
	enum image_err e;

	memcpy(tmp, c->cur, c->len);
	memcpy(tmp + t, x + rx->bo, bs);
	e = step_free(c, tmp);                     /* T <- x's name */
	if (e != IMAGE_OK)
		return e;
	memcpy(tmp, c->cur, c->len);
	memcpy(tmp, x, SECTOR);
	qcow2_set_backing_offset(tmp, t);
	e = step_atomic(c, tmp);                   /* x's header, name at T */
	if (e != IMAGE_OK)
		return e;
	memcpy(tmp, c->cur, c->len);
	take(tmp, fin, SECTOR, c->len, NULL, (size_t)t, (size_t)t + bs);
	e = step_free(c, tmp);                     /* the rest, except T */
	if (e != IMAGE_OK)
		return e;
	memcpy(tmp, c->cur, c->len);
	memcpy(tmp, fin, SECTOR);
	e = step_atomic(c, tmp);                   /* the new header */
	if (e != IMAGE_OK)
		return e;
	return step_free(c, fin);                  /* T <- new bytes */
}

/* Last resort (no layout above applies: both headers' extension chains
 * run past sector 0 and change there, or no room for T): the bytes past
 * sector 0, then sector 0. Not crash-atomic; see the document. */
static enum image_err commit_fallback(struct commit_ctx *c, const uint8_t *fin,
				      uint8_t *tmp)
{
	enum image_err e;

	memcpy(tmp, c->cur, c->len);
	take(tmp, fin, SECTOR, c->len, NULL, 0, 0);
	e = step_free(c, tmp);
	if (e != IMAGE_OK)
		return e;
	return step_atomic(c, fin);
}

static enum image_err commit_plan(struct commit_ctx *c, const uint8_t *fin,
				  uint8_t *tmp)
{
	struct refs ro, rn;
	size_t first, end;
	bool conflict = false;

	if (!diff_span(c->cur, fin, 0, c->len, &first, &end))
		return IMAGE_OK;                   /* nothing to write */
	/* Everything inside one sector: a single pwrite. */
	if (first / SECTOR == (end - 1) / SECTOR)
		return step_atomic(c, fin);
	if (!get_refs(c->cur, c->len, &ro) || !get_refs(fin, c->len, &rn))
		return commit_fallback(c, fin, tmp);
	for (size_t i = SECTOR; i < c->len && !conflict; i++)
		conflict = c->cur[i] != fin[i] && referenced(&ro, i) &&
			   referenced(&rn, i);
	if (!conflict)
		return commit_two_phase(c, fin, tmp, &ro);

	/* Scratch space after everything either header references. */
	{
		uint64_t t = refs_end(&ro) > refs_end(&rn) ? refs_end(&ro)
							   : refs_end(&rn);
		const uint8_t *xs[2] = { c->cur, fin };
		const struct refs *rs[2] = { &ro, &rn };
		uint8_t *old = malloc(c->len);
		enum image_err e;

		t = (t + 7u) & ~(uint64_t)7u;
		if (t < SECTOR)
			t = SECTOR;
		for (int k = 0; k < 2; k++) {
			const struct refs *rx = rs[k];
			uint64_t bs = rx->bend - rx->bo;

			if (rx->bo == 0 || rx->chain_end > SECTOR ||
			    !rx->end_marker ||
			    t + bs > c->len || overlaps(&ro, t, t + bs) ||
			    overlaps(&rn, t, t + bs))
				continue;
			if (old == NULL) {
				c->img->sys_errno = ENOMEM;
				return IMAGE_ERR_WRITE;
			}
			/* x == old is c->cur, which the steps change: copy. */
			memcpy(old, xs[k], c->len);
			e = commit_relocate(c, fin, tmp, old, rx, t);
			free(old);
			return e;
		}
		free(old);
	}
	return commit_fallback(c, fin, tmp);
}

enum image_err image_commit(struct image_file *img, const uint8_t *staged,
			    const struct amend_plan *ranges)
{
	struct commit_ctx c;
	uint8_t *fin, *tmp;
	enum image_err e;

	if (ranges->n_patches > AMEND_MAX_PATCHES || img->cluster == NULL ||
	    img->cluster_len < SECTOR) {
		img->sys_errno = EINVAL;
		return IMAGE_ERR_WRITE;
	}
	for (uint32_t i = 0; i < ranges->n_patches; i++) {
		uint64_t end = (uint64_t)ranges->patches[i].offset +
			       ranges->patches[i].length;
		if (end > img->cluster_len) {
			img->sys_errno = EINVAL;
			return IMAGE_ERR_WRITE;
		}
	}
	c.img = img;
	c.len = img->cluster_len;
	c.cur = malloc(c.len);
	fin = malloc(c.len);
	tmp = malloc(c.len);
	if (c.cur == NULL || fin == NULL || tmp == NULL) {
		free(c.cur);
		free(fin);
		free(tmp);
		img->sys_errno = ENOMEM;
		return IMAGE_ERR_WRITE;
	}
	/* The file holds the pre-probe copy (checked just before); the
	 * target is that copy with the ranges taken from `staged`. */
	memcpy(c.cur, img->cluster, c.len);
	memcpy(fin, img->cluster, c.len);
	for (uint32_t i = 0; i < ranges->n_patches; i++) {
		const struct amend_patch *p = &ranges->patches[i];
		memcpy(fin + p->offset, staged + p->offset, p->length);
	}
	e = commit_plan(&c, fin, tmp);
	free(c.cur);
	free(fin);
	free(tmp);
	return e;
}
