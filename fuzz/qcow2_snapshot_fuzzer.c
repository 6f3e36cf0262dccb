/*
 * qcow2_snapshot_fuzzer.c — fuzz target 10: the internal snapshot table
 * (src/qcow2/qcow2_snapshot.h): qcow2_snapshot_parse on its own, and
 * qcow2_snapshot_walk, which reads a table through the batched reader in
 * windows and parses it entry by entry (the amend scan's first step, in
 * the guest and in the host's reference).
 *
 * Input: [0] fault byte (0: reads never fail; else the read numbered
 * byte/2 + 1 fails when bit 0 is set); [1] stop byte (0: the visitor
 * never stops; else it stops at entry byte - 1); [2] window choice (low
 * two bits: 0 the least window, QCOW2_SNAPSHOT_MIN_WINDOW; 1 that +
 * 8 x (byte >> 2); 2 four sectors-rounded largest entries + 512 x
 * (byte >> 2); 3 one to 64 bytes fewer than the least: refused);
 * [3] the file is the table bytes repeated 1 + (byte & 7) times (so a
 * short input still makes a table longer than a window); [4..5] be16
 * nb_snapshots; [6..7] be16 snapshots_offset; [8] bit 0: the file size
 * is rounded up to whole sectors (as the guest sees the disk) instead of
 * exact; [9..] the table bytes. The whole input, and the table bytes,
 * are also parsed as one entry.
 *
 * Trust: the input is hostile. Asserted (a violation traps): the parser
 * returns QCOW2_OK, QCOW2_ERR_TRUNCATED or QCOW2_ERR_EXTENSION exactly
 * when the entry's declared lengths say so; an OK entry decodes its
 * big-endian fields, lies inside the buffer (entry_len % 8 == 0,
 * entry_len <= len, id and name inside it, at most 7 bytes of padding)
 * and parses the same from exactly entry_len bytes but not from one
 * fewer; the walk asks only for whole sectors inside the file and inside
 * the window, never after a failed read, and gives the result a flat
 * re-parse of the file predicts (entries, their bytes and fields, the
 * error and where it happened, the stop): an entry lies inside the file
 * up to the end of its name, its padding may lie past the end.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_util.h"
#include "src/qcow2/qcow2_err.h"
#include "src/qcow2/qcow2_header.h"
#include "src/qcow2/qcow2_snapshot.h"

#define BATCH 64u
#define SECTOR 512u
#define HEAD 9u
#define LEAST_WINDOW ((size_t)QCOW2_SNAPSHOT_MIN_WINDOW)
#define PAD 8u   /* zeroes past the last sector: an entry's padding */
/* The largest entry rounded up to sectors, plus the sector before it. */
#define SECTORS_FOR_ENTRY \
	((((size_t)QCOW2_SNAPSHOT_MAX_ENTRY + (size_t)2u * SECTOR - 1u) / SECTOR) * SECTOR)

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)fuzz_be32(p) << 32 | fuzz_be32(p + 4);
}

/* Parse buf[0, len) and hold the result to the entry's own bytes. */
static enum qcow2_err check_parse(const uint8_t *buf, size_t len,
				  struct qcow2_snapshot *s)
{
	enum qcow2_err e = qcow2_snapshot_parse(buf, len, s);

	if (len < QCOW2_SNAPSHOT_FIXED) {
		FUZZ_ASSERT(e == QCOW2_ERR_TRUNCATED);
		return e;
	}
	uint32_t extra = fuzz_be32(buf + 36);
	if (extra > QCOW2_SNAPSHOT_MAX_EXTRA) {
		FUZZ_ASSERT(e == QCOW2_ERR_EXTENSION);
		return e;
	}
	size_t end = QCOW2_SNAPSHOT_FIXED + extra + be16(buf + 12) + be16(buf + 14);
	size_t padded = (end + 7u) & ~(size_t)7u;
	if (padded > len) {
		FUZZ_ASSERT(e == QCOW2_ERR_TRUNCATED);
		return e;
	}
	FUZZ_ASSERT(e == QCOW2_OK);
	FUZZ_ASSERT(s->l1_offset == be64(buf));
	FUZZ_ASSERT(s->l1_size == fuzz_be32(buf + 8));
	FUZZ_ASSERT(s->id_len == be16(buf + 12) && s->name_len == be16(buf + 14));
	FUZZ_ASSERT(s->date_sec == fuzz_be32(buf + 16));
	FUZZ_ASSERT(s->date_nsec == fuzz_be32(buf + 20));
	FUZZ_ASSERT(s->vm_clock_ns == be64(buf + 24));
	FUZZ_ASSERT(s->vm_state_size == fuzz_be32(buf + 32));
	FUZZ_ASSERT(s->extra_len == extra);
	FUZZ_ASSERT(s->entry_len == padded && s->entry_len % 8u == 0);
	FUZZ_ASSERT(s->entry_len <= len);
	FUZZ_ASSERT(s->entry_len <= QCOW2_SNAPSHOT_MAX_ENTRY);
	FUZZ_ASSERT(s->id_off == QCOW2_SNAPSHOT_FIXED + extra);
	FUZZ_ASSERT(s->name_off == s->id_off + s->id_len);
	FUZZ_ASSERT((size_t)s->name_off + s->name_len == end);
	FUZZ_ASSERT(s->entry_len - end < 8u);
	const uint8_t *x = buf + QCOW2_SNAPSHOT_FIXED;
	FUZZ_ASSERT(s->has_vm_state_size_large == (extra >= 8u));
	FUZZ_ASSERT(s->vm_state_size_large == (extra >= 8u ? be64(x) : 0));
	FUZZ_ASSERT(s->has_disk_size == (extra >= 16u));
	FUZZ_ASSERT(s->disk_size == (extra >= 16u ? be64(x + 8) : 0));
	FUZZ_ASSERT(s->has_icount == (extra >= 24u));
	FUZZ_ASSERT(s->icount == (extra >= 24u ? be64(x + 16) : 0));
	return e;
}

/* An OK entry parses alike from a block of exactly entry_len bytes (a
 * read past them is an ASan error), and not from one byte fewer. */
static void check_exact(const uint8_t *buf, const struct qcow2_snapshot *s)
{
	struct qcow2_snapshot t;
	uint8_t *p = malloc(s->entry_len);

	if (p == NULL)
		return;
	memcpy(p, buf, s->entry_len);
	FUZZ_ASSERT(qcow2_snapshot_parse(p, s->entry_len, &t) == QCOW2_OK);
	FUZZ_ASSERT(t.entry_len == s->entry_len && t.name_off == s->name_off);
	FUZZ_ASSERT(qcow2_snapshot_parse(p, s->entry_len - 1u, &t) ==
		    QCOW2_ERR_TRUNCATED);
	free(p);
}

struct file {
	const uint8_t *flat;     /* the file, zero-extended to its last sector */
	uint64_t file_bytes;
	uint64_t sectors_end;
	const uint8_t *window;
	size_t window_len;
	uint32_t reads;
	uint32_t fail_at;        /* 0: never */
	bool failed;
};

static bool read_cb(void *ctx, const struct qcow2_read *r, uint32_t n)
{
	struct file *f = ctx;

	FUZZ_ASSERT(!f->failed);
	FUZZ_ASSERT(n >= 1 && n <= BATCH);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t offset = r[i].offset, len = r[i].len;

		FUZZ_ASSERT(offset % SECTOR == 0 && len % SECTOR == 0 && len > 0);
		FUZZ_ASSERT(offset < f->sectors_end &&
			    len <= f->sectors_end - offset);
		FUZZ_ASSERT(r[i].buf >= f->window &&
			    len <= f->window_len &&
			    (size_t)(r[i].buf - f->window) <= f->window_len - len);
		f->reads++;
		if (f->fail_at != 0 && f->reads == f->fail_at) {
			f->failed = true;
			return false;
		}
		memcpy(r[i].buf, f->flat + offset, (size_t)len);
	}
	return true;
}

/* What a flat parse of the file predicts, entry by entry. */
#define MAX_EXPECT 65536u
struct expect {
	uint32_t n;                         /* entries the walk visits */
	uint64_t pos[MAX_EXPECT];
	enum qcow2_snapshot_walk_err err;
};

struct visit_ctx {
	const struct expect *x;
	const struct file *f;
	uint32_t seen;
	uint32_t stop_at;                   /* UINT32_MAX: never */
};

static bool visit(void *ctx, uint32_t index, const struct qcow2_snapshot *s,
		  const uint8_t *entry)
{
	struct visit_ctx *v = ctx;
	struct qcow2_snapshot want;

	FUZZ_ASSERT(index == v->seen && index < v->x->n);
	uint64_t pos = v->x->pos[index];
	FUZZ_ASSERT(qcow2_snapshot_parse(v->f->flat + pos,
					 (size_t)(v->f->sectors_end + PAD - pos),
					 &want) == QCOW2_OK);
	FUZZ_ASSERT(s->entry_len == want.entry_len &&
		    s->l1_offset == want.l1_offset &&
		    s->l1_size == want.l1_size && s->extra_len == want.extra_len &&
		    s->disk_size == want.disk_size && s->icount == want.icount &&
		    s->id_off == want.id_off && s->name_off == want.name_off);
	FUZZ_ASSERT(entry >= v->f->window &&
		    (size_t)(entry - v->f->window) <= v->f->window_len &&
		    s->entry_len <= v->f->window_len - (size_t)(entry - v->f->window));
	FUZZ_ASSERT(memcmp(entry, v->f->flat + pos, s->entry_len) == 0);
	v->seen++;
	return index != v->stop_at;
}

static struct expect expected;

static void predict(const struct file *f, uint64_t off, uint32_t nb,
		    uint32_t stop_at)
{
	uint64_t pos = off;

	expected.n = 0;
	for (uint32_t i = 0; i < nb; i++) {
		struct qcow2_snapshot s;

		if (pos >= f->file_bytes) {
			expected.err = QCOW2_SNAPSHOTS_TABLE;
			return;
		}
		if (check_parse(f->flat + pos,
				(size_t)(f->sectors_end + PAD - pos),
				&s) != QCOW2_OK ||
		    pos + s.name_off + s.name_len > f->file_bytes) {
			expected.err = QCOW2_SNAPSHOTS_TABLE;
			return;
		}
		expected.pos[expected.n++] = pos;
		if (i == stop_at) {
			expected.err = QCOW2_SNAPSHOTS_STOPPED;
			return;
		}
		pos += s.entry_len;
	}
	expected.err = QCOW2_SNAPSHOTS_OK;
}

static size_t window_choice(uint8_t c)
{
	size_t k = (size_t)(c >> 2);

	switch (c & 3u) {
	case 0:
		return LEAST_WINDOW;
	case 1:
		return LEAST_WINDOW + 8u * k;
	case 2:
		return 4u * SECTORS_FOR_ENTRY + SECTOR * k;
	default:
		return LEAST_WINDOW - 1u - k;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct qcow2_header h;
	struct qcow2_snapshot s;
	struct file f;
	uint8_t *flat = NULL, *window = NULL;

	/* Any bytes are an entry. */
	if (check_parse(data, size, &s) == QCOW2_OK)
		check_exact(data, &s);
	if (size < HEAD)
		return 0;
	const uint8_t *table = data + HEAD;
	const size_t n = size - HEAD;
	if (check_parse(table, n, &s) == QCOW2_OK)
		check_exact(table, &s);

	memset(&f, 0, sizeof(f));
	f.fail_at = (data[0] & 1u) ? (uint32_t)(data[0] >> 1) + 1u : 0u;
	const uint32_t stop_at = data[1] ? (uint32_t)data[1] - 1u : UINT32_MAX;
	const size_t window_len = window_choice(data[2]);
	const size_t reps = 1u + (data[3] & 7u);
	memset(&h, 0, sizeof(h));
	h.nb_snapshots = be16(data + 4);
	h.snapshots_offset = be16(data + 6);
	const size_t flen = n * reps;
	f.file_bytes = (data[8] & 1u) ? ((uint64_t)flen + SECTOR - 1u) &
						~(uint64_t)(SECTOR - 1u)
				      : flen;
	f.sectors_end = (f.file_bytes + SECTOR - 1u) & ~(uint64_t)(SECTOR - 1u);
	flat = malloc((size_t)f.sectors_end + PAD);
	window = malloc(window_len);
	if (flat == NULL || window == NULL)
		goto done;
	for (size_t i = 0; i < reps; i++)
		memcpy(flat + i * n, table, n);
	memset(flat + flen, 0, (size_t)f.sectors_end + PAD - flen);
	f.flat = flat;
	f.window = window;
	f.window_len = window_len;

	predict(&f, h.snapshots_offset, h.nb_snapshots, stop_at);
	struct visit_ctx v = { &expected, &f, 0, stop_at };
	const struct qcow2_io io = { read_cb, &f, BATCH };
	enum qcow2_snapshot_walk_err e = qcow2_snapshot_walk(
		&h, f.file_bytes, &io, window, window_len, visit, &v);

	if (window_len < LEAST_WINDOW) {
		FUZZ_ASSERT(e == QCOW2_SNAPSHOTS_MEMORY && f.reads == 0);
		goto done;
	}
	if (e == QCOW2_SNAPSHOTS_IO) {
		/* Stopped by the failed read: what it visited before agrees. */
		FUZZ_ASSERT(f.failed && v.seen <= expected.n);
	} else {
		FUZZ_ASSERT(!f.failed);
		FUZZ_ASSERT(e == expected.err);
		FUZZ_ASSERT(v.seen == expected.n);
	}
	/* At most one read per entry visited and two for the one refused. */
	FUZZ_ASSERT(f.reads <= v.seen + 2u);
done:
	free(flat);
	free(window);
	return 0;
}
