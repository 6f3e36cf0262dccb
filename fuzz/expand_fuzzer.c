/*
 * expand_fuzzer.c — the host's side of a compat=0.10 downgrade that
 * expands zero clusters: src/image/expand.c (expand_prepare, then
 * expand_apply on what it accepts) over a whole image in memory, and
 * src/image/zero_report.c, the parser of the guest's list of L2 tables.
 *
 * Input: [flags] [fail] [list length, be16] [list] then the image (at
 * most 4 MiB; the file is exactly these bytes). flags bit 0: the file can
 * grow (a regular file, not a block device); bit 1: the list is a zero
 * report (abi/report_abi.h records) for zero_report_parse, else 4-byte
 * big-endian words, each a cluster index (bit 31 clear) or a 512-byte
 * sector index (bit 31 set: unaligned offsets too); bit 2: write number
 * `fail` + 1 of the apply fails; bit 3: the io offers the optional zero
 * callback (a cluster of zeros in one call, counted as one write), else
 * zeros come as sector writes. The header is qcow2_parse's reading of
 * the image's first cluster, zero-padded, as the host's pre-probe gives
 * it.
 *
 * Trust: the list and the image are hostile. Asserted (a violation
 * traps): a report zero_report_parse accepts is exactly its records and
 * END, and it names each record's offset in order; expand_prepare writes
 * nothing, and a refusal leaves the file byte-identical; every write is
 * one whole 512-byte sector at a multiple of 512, never in the header
 * cluster, and only where the rules allow one (a named table, a cluster
 * a zero entry keeps, the refcount table, a block it names, or past the
 * old end and before the plan's new end); every zero call is one whole
 * cluster, a kept one or one past the old end; a file that cannot grow or an
 * image without a backing file does not grow; an apply with no fault
 * succeeds, with the plan's own count of writes and syncs, and leaves
 * no zero entry in a named table; a failed write ends the apply at once.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "abi/report_abi.h"
#include "fuzz/fuzz_util.h"
#include "src/image/expand.h"
#include "src/image/zero_report.h"
#include "src/qcow2/qcow2_format.h"
#include "src/qcow2/qcow2_header.h"

#define MAX_IMAGE (4u << 20)
#define MAX_GROWTH (16u << 20)   /* bytes an apply may add; more is not run */
#define MAX_LIST 65535u
#define SECTOR 512u

#define F_CAN_GROW 1u
#define F_REPORT 2u
#define F_FAULT 4u
#define F_ZERO 8u

struct mem {
	uint8_t *buf;
	size_t len;
	size_t cap;
	size_t old_len;
	uint32_t cs;
	const struct expand_plan *plan;  /* during the apply, for the rules */
	bool may_write;
	uint64_t writes;
	uint64_t syncs;
	uint64_t fail_at;                /* this write (from 1) fails; 0: none */
	bool failed;
	uint64_t after_failure;
};

static uint8_t hdr[2u << 20];
static uint64_t list[MAX_LIST / 4u + 1u];

static bool in_clusters(const uint64_t *v, uint64_t n, uint32_t cs,
			uint64_t off)
{
	for (uint64_t i = 0; i < n; i++)
		if (off >= v[i] && off - v[i] < cs)
			return true;
	return false;
}

/* Where the rules of expand.h let a sector be written. */
static bool write_allowed(const struct mem *m, uint64_t off)
{
	const struct expand_plan *p = m->plan;
	uint64_t rt = p->h->refcount_offset;

	if (off < m->cs)
		return false;
	if (off >= m->old_len)
		return off + SECTOR <= p->new_end;
	if (off >= rt && off - rt < (uint64_t)p->reftable_entries * 8u)
		return true;
	if (in_clusters(p->tables, p->n_tables, m->cs, off) ||
	    in_clusters(p->targets, p->n_targets, m->cs, off))
		return true;
	for (uint32_t i = 0; i < p->reftable_entries; i++) {
		uint64_t b = p->reftable[i] & 0xfffffffffffffe00ULL;

		if (b != 0 && off >= b && off - b < m->cs)
			return true;
	}
	return false;
}

/* A write past the end makes the file longer, the gap zeros. */
static void grow(struct mem *m, uint64_t end)
{
	if (end <= m->len)
		return;
	if (end > m->cap) {
		uint8_t *nb = realloc(m->buf, (size_t)end);

		FUZZ_ASSERT(nb != NULL);
		m->buf = nb;
		m->cap = (size_t)end;
	}
	memset(m->buf + m->len, 0, (size_t)end - m->len);
	m->len = (size_t)end;
}

static bool mem_read(void *ctx, uint64_t off, uint8_t *buf, size_t len)
{
	struct mem *m = ctx;

	if (m->failed)
		m->after_failure++;
	if (off > m->len || m->len - off < len)
		return false;
	if (len != 0)
		memcpy(buf, m->buf + off, len);
	return true;
}

static bool mem_write(void *ctx, uint64_t off, const uint8_t *sector)
{
	struct mem *m = ctx;

	FUZZ_ASSERT(m->may_write);
	FUZZ_ASSERT(off % SECTOR == 0);
	FUZZ_ASSERT(write_allowed(m, off));
	if (m->failed)
		m->after_failure++;
	if (m->fail_at != 0 && m->writes + 1u == m->fail_at) {
		m->failed = true;
		return false;
	}
	grow(m, off + SECTOR);
	memcpy(m->buf + off, sector, SECTOR);
	m->writes++;
	return true;
}

/* The optional zero callback: one whole cluster, kept or new. */
static bool mem_zero(void *ctx, uint64_t off, uint32_t len)
{
	struct mem *m = ctx;
	const struct expand_plan *p = m->plan;

	FUZZ_ASSERT(m->may_write);
	FUZZ_ASSERT(len == m->cs && off % m->cs == 0 && off >= m->cs);
	if (off >= m->old_len)
		FUZZ_ASSERT(off + len <= p->new_end);
	else
		FUZZ_ASSERT(in_clusters(p->targets, p->n_targets, m->cs, off));
	if (m->failed)
		m->after_failure++;
	if (m->fail_at != 0 && m->writes + 1u == m->fail_at) {
		m->failed = true;
		return false;
	}
	grow(m, off + len);
	memset(m->buf + off, 0, len);
	m->writes++;
	return true;
}

static bool mem_sync(void *ctx)
{
	struct mem *m = ctx;

	FUZZ_ASSERT(m->may_write);
	if (m->failed)
		m->after_failure++;
	m->syncs++;
	return true;
}

/* The list as 4-byte words. */
static uint32_t words(const uint8_t *d, size_t len, uint32_t cluster_bits)
{
	uint32_t n = 0;

	for (size_t i = 0; i + 4u <= len; i += 4u) {
		uint32_t v = fuzz_be32(d + i);

		list[n++] = (v & 0x80000000u) ? (uint64_t)(v & 0x7fffffffu) << 9
					      : (uint64_t)v << cluster_bits;
	}
	return n;
}

/* The list as a zero report: accepted exactly when it is its records and
 * END, and then in their order. */
static bool report(const uint8_t *d, size_t len, uint32_t *n)
{
	bool ok = zero_report_parse(d, len, list, n);

	FUZZ_ASSERT(zero_report_max_tables(len) <= MAX_LIST / 4u + 1u);
	if (!ok) {
		FUZZ_ASSERT(*n == 0);
		return false;
	}
	FUZZ_ASSERT(len == (size_t)*n * sizeof(struct report_zero_table) +
			   sizeof(struct report_end));
	for (uint32_t i = 0; i < *n; i++) {
		struct report_zero_table z;

		memcpy(&z, d + (size_t)i * sizeof(z), sizeof(z));
		FUZZ_ASSERT(z.hdr.type == REPORT_T_ZERO_TABLE);
		FUZZ_ASSERT(list[i] == z.l2_offset);
	}
	return true;
}

static bool zero_entries_left(const struct mem *m, const struct expand_plan *p)
{
	for (uint32_t i = 0; i < p->n_tables; i++)
		for (uint32_t k = 0; k < m->cs; k += 8u) {
			const uint8_t *e = m->buf + p->tables[i] + k;

			/* Bit 0 of the last byte set, bit 62 clear. */
			if ((e[7] & 1u) && !(e[0] & 0x40u))
				return true;
		}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qcow2_header h;
	struct expand_plan plan;
	struct expand_io io;
	struct mem m;
	const uint8_t *img;
	size_t img_len, list_len, hdr_len;
	uint32_t n = 0, bits;
	uint8_t flags;
	enum expand_err e;

	if (size < 4)
		return 0;
	flags = data[0];
	list_len = (size_t)data[2] << 8 | data[3];
	if (size - 4u < list_len)
		return 0;
	img = data + 4u + list_len;
	img_len = size - 4u - list_len;
	if (img_len > MAX_IMAGE || img_len < 24u)
		return 0;
	bits = fuzz_be32(img + 20);
	if (bits < QCOW2_MIN_CLUSTER_BITS || bits > QCOW2_MAX_CLUSTER_BITS)
		return 0;
	if (flags & F_REPORT) {
		if (!report(data + 4, list_len, &n))
			return 0;
	} else {
		n = words(data + 4, list_len, bits);
	}
	/* The header as the host's pre-probe reads it: one cluster. */
	hdr_len = (size_t)1 << bits;
	memset(hdr, 0, hdr_len);
	memcpy(hdr, img, img_len < hdr_len ? img_len : hdr_len);
	if (qcow2_parse(hdr, hdr_len, &h) != QCOW2_OK)
		return 0;

	memset(&m, 0, sizeof(m));
	m.buf = malloc(img_len);
	FUZZ_ASSERT(m.buf != NULL);
	memcpy(m.buf, img, img_len);
	m.len = m.old_len = m.cap = img_len;
	m.cs = (uint32_t)1 << bits;
	memset(&io, 0, sizeof(io));
	io.read = mem_read;
	io.write = mem_write;
	io.zero = (flags & F_ZERO) ? mem_zero : NULL;
	io.sync = mem_sync;
	io.ctx = &m;

	e = expand_prepare(&plan, &h, img_len, (flags & F_CAN_GROW) != 0,
			   list, n, &io);
	FUZZ_ASSERT(e < EXPAND_ERR_COUNT_);
	FUZZ_ASSERT(m.writes == 0 && m.syncs == 0 && m.len == img_len);
	if (e != EXPAND_OK) {
		FUZZ_ASSERT(memcmp(m.buf, img, img_len) == 0);
		goto out;
	}
	FUZZ_ASSERT(plan.n_tables >= 1 && plan.n_tables <= n);
	FUZZ_ASSERT(plan.new_end >= img_len);
	if (!(flags & F_CAN_GROW) || h.backing_offset == 0)
		FUZZ_ASSERT(plan.new_clusters == 0 && plan.new_end == img_len);
	if (plan.new_end - img_len > MAX_GROWTH)
		goto out;

	m.plan = &plan;
	m.may_write = true;
	if (flags & F_FAULT)
		m.fail_at = (uint64_t)data[1] + 1u;
	e = expand_apply(&plan, &io);
	FUZZ_ASSERT(m.after_failure == 0);
	FUZZ_ASSERT(plan.writes == m.writes);
	FUZZ_ASSERT(m.len <= (plan.new_end > img_len ? plan.new_end : img_len));
	/* The header cluster is never written. */
	FUZZ_ASSERT(memcmp(m.buf, img, img_len < m.cs ? img_len : m.cs) == 0);
	if (m.failed) {
		FUZZ_ASSERT(e == EXPAND_ERR_WRITE);
		goto out;
	}
	FUZZ_ASSERT(e == EXPAND_OK);
	FUZZ_ASSERT(plan.syncs == m.syncs && m.syncs >= 1u);
	FUZZ_ASSERT(m.len == img_len || m.len == plan.new_end);
	FUZZ_ASSERT(!zero_entries_left(&m, &plan));
out:
	expand_free(&plan);
	free(m.buf);
	return 0;
}
