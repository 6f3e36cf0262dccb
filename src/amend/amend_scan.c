/*
 * amend_scan.c — the table walk a downgrade needs (see amend_scan.h).
 * Trust: tables are hostile: every entry is checked before it is
 * followed, every sum overflow-checked, the walk bounded.
 */
#include "src/amend/amend_scan.h"

#include "src/qcow2/qcow2_be.h"
#include "src/qcow2/qcow2_format.h"

#define SECTOR 512u
#define SNAPSHOT_HDR_LEN 40u       /* fixed part of a snapshot entry */
#define SNAPSHOT_DISK_SIZE_OFF 8u  /* in the extra data */
#define SNAPSHOT_MAX_EXTRA 1024u   /* QEMU's cap on extra data */

/* Bits of an L2 entry as they sit in a little-endian load of its
 * big-endian bytes: bit 62 (compressed) is bit 6 of byte 0, bit 0 (zero)
 * is bit 0 of byte 7. */
#define RAW_COMPRESSED (1ULL << 6)
#define RAW_ZERO       (1ULL << 56)

static uint64_t load_raw(const uint8_t *p)
{
	uint64_t v;
	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

void amend_scan_l2(const uint8_t *l2, size_t len, struct amend_scan *out)
{
	uint64_t acc = 0;
	size_t i;

	/* Fast path: OR the raw entries together. The guest pays for every
	 * instruction (it may run under an emulating hypervisor), and a
	 * 2 MiB L2 table has 262144 entries. Only if some entry is
	 * compressed — whose bit 0 is part of its offset, not a zero flag —
	 * are the entries looked at one by one. */
	for (i = 0; i + 32 <= len; i += 32)
		acc |= load_raw(l2 + i) | load_raw(l2 + i + 8) |
		       load_raw(l2 + i + 16) | load_raw(l2 + i + 24);
	for (; i + 8 <= len; i += 8)
		acc |= load_raw(l2 + i);
	if (!(acc & RAW_COMPRESSED)) {
		if (acc & RAW_ZERO)
			out->zero_clusters = true;
		return;
	}
	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t e = qcow2_be64(l2 + i);

		if (e & QCOW2_L2E_COMPRESSED)
			out->compressed_clusters = true;
		else if (e & QCOW2_L2E_ZERO)
			out->zero_clusters = true;
	}
}

/* A cluster-sized table at `off` must lie past the header cluster,
 * aligned, and inside the readable part of the file. */
static bool cluster_ok(uint64_t off, uint32_t cs, uint64_t readable)
{
	uint64_t end;

	if (off < cs || (off & (cs - 1u)) != 0)
		return false;
	return !__builtin_add_overflow(off, (uint64_t)cs, &end) &&
	       end <= readable;
}

struct walk {
	const struct qcow2_header *h;
	uint64_t file_bytes;   /* tables must end inside the file... */
	uint64_t readable;     /* ...reads may round up to the sector */
	amend_read_fn read;
	void *ctx;
	uint8_t *scratch;
	struct amend_scan *out;
};

/* Walk one L1 table of `entries` entries at `l1_off`. The scratch (one
 * cluster) holds a chunk of the L1 table, then each L2 table in turn; so
 * up to L2_BATCH L2 offsets are taken from the chunk at a time, and the
 * chunk is read again for the next batch. */
#define L2_BATCH 64u

static enum amend_status read_or_fail(struct walk *w, uint64_t off,
				      uint8_t *buf, uint32_t len)
{
	if (!w->read(w->ctx, off, buf, len)) {
		w->out->io_error = true;
		return AMEND_ERR_SCAN_IO;
	}
	return AMEND_CHANGED;
}

static enum amend_status walk_l1(struct walk *w, uint64_t l1_off,
				 uint32_t entries)
{
	const uint32_t cs = qcow2_cluster_size(w->h);
	const uint32_t per_chunk = cs / 8u;
	uint64_t bytes, end;

	if (entries == 0)
		return AMEND_CHANGED;
	bytes = (uint64_t)entries * 8u;
	if (l1_off < cs || (l1_off & (cs - 1u)) != 0 ||
	    __builtin_add_overflow(l1_off, bytes, &end) || end > w->file_bytes)
		return AMEND_ERR_TABLES;
	w->out->l1_tables++;

	for (uint32_t first = 0; first < entries; first += per_chunk) {
		uint32_t n = entries - first < per_chunk ? entries - first
							 : per_chunk;
		uint64_t chunk_off = l1_off + (uint64_t)first * 8u;
		uint32_t rd = (n * 8u + SECTOR - 1u) & ~(SECTOR - 1u);
		uint32_t base = 0;

		if (chunk_off + rd > w->readable)
			return AMEND_ERR_TABLES;
		while (base < n) {
			uint64_t l2s[L2_BATCH];
			uint32_t k = 0;
			enum amend_status s;

			s = read_or_fail(w, chunk_off, w->scratch, rd);
			if (s != AMEND_CHANGED)
				return s;
			while (base < n && k < L2_BATCH) {
				uint64_t e = qcow2_be64(w->scratch + (size_t)base * 8u);
				uint64_t off = e & QCOW2_L1E_OFFSET_MASK;

				base++;
				if (off == 0)
					continue;
				if (!cluster_ok(off, cs, w->readable))
					return AMEND_ERR_TABLES;
				l2s[k++] = off;
			}
			for (uint32_t j = 0; j < k; j++) {
				if (w->out->l2_tables >= AMEND_SCAN_MAX_L2_READS)
					return AMEND_ERR_TABLES;
				s = read_or_fail(w, l2s[j], w->scratch, cs);
				if (s != AMEND_CHANGED)
					return s;
				w->out->l2_tables++;
				amend_scan_l2(w->scratch, cs, w->out);
				if (w->out->zero_clusters)
					return AMEND_CHANGED;
			}
		}
	}
	return AMEND_CHANGED;
}

/* Walk the snapshot table: for each entry read its fixed part and the
 * disk size in its extra data, then walk its L1 table. */
static enum amend_status walk_snapshots(struct walk *w, bool with_tables)
{
	const struct qcow2_header *h = w->h;
	uint64_t off = h->snapshots_offset;
	uint8_t *buf = w->scratch;

	for (uint32_t i = 0; i < h->nb_snapshots; i++) {
		uint64_t sector_off = off & ~(uint64_t)(SECTOR - 1u);
		uint32_t in = (uint32_t)(off - sector_off);
		if (sector_off >= w->readable)
			return AMEND_ERR_TABLES;
		uint64_t l1_off, next, disk_size;
		uint32_t l1_size, extra, id_len, name_len;
		enum amend_status s;

		/* The fixed part and the disk size in the extra data are the
		 * entry's first 56 bytes. They may straddle a sector boundary,
		 * and the scratch may be a single 512-byte cluster: read one
		 * sector at a time and gather the bytes in `ent`. */
		uint8_t ent[SNAPSHOT_HDR_LEN + SNAPSHOT_DISK_SIZE_OFF + 8u];
		uint32_t have = 0;
		uint64_t sec = sector_off;
		while (have < sizeof(ent)) {
			uint32_t from = have == 0 ? in : 0;
			uint32_t take = SECTOR - from;
			if (sec >= w->readable)
				break;   /* fewer bytes; checked below */
			s = read_or_fail(w, sec, buf, SECTOR);
			if (s != AMEND_CHANGED)
				return s;
			if (take > sizeof(ent) - have)
				take = (uint32_t)sizeof(ent) - have;
			__builtin_memcpy(ent + have, buf + from, take);
			have += take;
			sec += SECTOR;
		}
		if (have < SNAPSHOT_HDR_LEN)
			return AMEND_ERR_TABLES;
		l1_off = qcow2_be64(ent);
		l1_size = qcow2_be32(ent + 8);
		id_len = qcow2_be16(ent + 12);
		name_len = qcow2_be16(ent + 14);
		extra = qcow2_be32(ent + 36);
		if (extra > SNAPSHOT_MAX_EXTRA)
			return AMEND_ERR_TABLES;
		if (extra < SNAPSHOT_DISK_SIZE_OFF + 8u)
			w->out->snapshot_extra_short = true;
		if (extra >= SNAPSHOT_DISK_SIZE_OFF + 8u) {
			if (have < sizeof(ent))
				return AMEND_ERR_TABLES;
			disk_size = qcow2_be64(ent + SNAPSHOT_HDR_LEN +
					       SNAPSHOT_DISK_SIZE_OFF);
			if (disk_size != h->size)
				w->out->snapshot_size_differs = true;
		}
		next = off + SNAPSHOT_HDR_LEN + extra + id_len + name_len;
		next = (next + 7u) & ~(uint64_t)7u;
		if (next > w->file_bytes)
			return AMEND_ERR_TABLES;
		if (l1_size > (32u << 20) / 8u)
			return AMEND_ERR_TABLES;
		if (with_tables) {
			s = walk_l1(w, l1_off, l1_size);
			if (s != AMEND_CHANGED || w->out->zero_clusters)
				return s;
		}
		off = next;
	}
	return AMEND_CHANGED;
}

enum amend_status amend_scan_tables(const struct qcow2_header *h,
				    uint64_t file_bytes, amend_read_fn read,
				    void *ctx, uint8_t *scratch,
				    struct amend_scan *out)
{
	struct walk w;
	enum amend_status s;

	__builtin_memset(out, 0, sizeof(*out));
	if (h == NULL || read == NULL || scratch == NULL)
		return AMEND_ERR_BAD_REQUEST;
	/* Extended L2 entries are 16 bytes; such images cannot be
	 * downgraded anyway, and are not scanned. */
	if (h->incompat & QCOW2_INCOMPAT_EXTENDED_L2)
		return AMEND_ERR_DOWNGRADE_FEATURE;
	w.h = h;
	w.file_bytes = file_bytes;
	/* The last sector may be partial (QEMU writes its last table with
	 * the exact length); the reader returns zeroes past the end. */
	if (__builtin_add_overflow(file_bytes, (uint64_t)(SECTOR - 1u),
				   &w.readable))
		return AMEND_ERR_TABLES;
	w.readable &= ~(uint64_t)(SECTOR - 1u);
	w.read = read;
	w.ctx = ctx;
	w.scratch = scratch;
	w.out = out;

	/* A version 2 image is scanned for an upgrade: only its snapshot
	 * table matters (v3 needs every entry's extra data). A version 3
	 * image is scanned for a downgrade: every table. */
	if (h->version == 3) {
		s = walk_l1(&w, h->l1_offset, h->l1_size);
		if (s != AMEND_CHANGED)
			return s;
	}
	if (!out->zero_clusters && h->nb_snapshots != 0) {
		s = walk_snapshots(&w, h->version == 3);
		if (s != AMEND_CHANGED)
			return s;
	}
	out->done = true;
	return AMEND_CHANGED;
}
