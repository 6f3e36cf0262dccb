/*
 * qcow2_open_bitmaps.c — the persistent bitmaps as QEMU loads them when it
 * opens an image (see qcow2_open.h): the directory (every entry inside
 * it, as many as the extension says, each within QEMU's constraints),
 * then per bitmap in order: its name must be new; unless it is in use,
 * every entry of its table must be valid and the table exactly as long as
 * the bitmap's data needs.
 *
 * Trust: the directory and tables are hostile. The directory is read
 * whole into work memory (at most QCOW2_OPEN_MAX_BM_DIR bytes, checked
 * by the extension stage); entry lengths are bounded before use; bitmap
 * tables are read a window at a time.
 */
#include "src/qcow2/qcow2_be.h"
#include "src/qcow2/qcow2_open.h"
#include "src/qcow2/qcow2_open_stages.h"
#include "src/qcow2/qcow2_stream.h"

#define ENTRY_HEAD 24u
#define MAX_TABLE_SIZE 0x8000000u        /* entries */
#define MAX_PHYS_SIZE 0x20000000ULL      /* bytes of bitmap data */
#define MIN_GRANULARITY 9u
#define MAX_GRANULARITY 31u
#define MAX_NAME 1023u
#define FLAG_IN_USE 1u
#define FLAG_AUTO 2u
#define TYPE_DIRTY 1u
#define TABLE_RESERVED 0xff000000000001feULL
#define TABLE_OFFSET 0x00fffffffffffe00ULL

static uint64_t entry_size(uint32_t nlen, uint32_t extra)
{
	return ((uint64_t)ENTRY_HEAD + nlen + extra + 7u) & ~(uint64_t)7u;
}

/* The name as QEMU uses it: up to its first NUL. */
static uint32_t name_bytes(const struct qcow2_bitmap_entry *b)
{
	return qopen_strnlen(b->name, b->name_len, 0, b->name_len);
}

bool qcow2_open_bitmap_next(const uint8_t *dir, size_t dir_len, size_t *pos,
			    struct qcow2_bitmap_entry *b)
{
	const uint8_t *p;
	uint64_t len;

	if (*pos >= dir_len || dir_len - *pos < ENTRY_HEAD)
		return false;
	p = dir + *pos;
	b->table_offset = qcow2_be64(p);
	b->table_size = qcow2_be32(p + 8);
	b->flags = qcow2_be32(p + 12);
	b->type = p[16];
	b->granularity_bits = p[17];
	b->name_len = qcow2_be16(p + 18);
	len = entry_size(b->name_len, qcow2_be32(p + 20));
	if (len > dir_len - *pos)
		return false;
	b->name = p + ENTRY_HEAD + qcow2_be32(p + 20);
	*pos += (size_t)len;
	return true;
}

/* QEMU's constraints on one entry; disk_bytes: the virtual size as QEMU
 * measures it (rounded down to 512). */
static bool constraints_ok(const struct qcow2_bitmap_entry *b, uint32_t cb,
			   uint64_t disk_bytes)
{
	uint64_t phys;

	if (b->table_size == 0 || b->table_offset == 0 ||
	    (b->table_offset & (((uint64_t)1 << cb) - 1u)) != 0 ||
	    b->table_size > MAX_TABLE_SIZE ||
	    b->granularity_bits > MAX_GRANULARITY ||
	    b->granularity_bits < MIN_GRANULARITY ||
	    (b->flags & ~(uint32_t)(FLAG_IN_USE | FLAG_AUTO)) != 0 ||
	    b->name_len > MAX_NAME || b->type != TYPE_DIRTY)
		return false;
	phys = (uint64_t)b->table_size << cb;   /* < 2^27 * 2^21 */
	if (phys > MAX_PHYS_SIZE)
		return false;
	/* Not in use: the table must be large enough for the disk. */
	return (b->flags & FLAG_IN_USE) ||
	       disk_bytes <= ((phys * 8u) << b->granularity_bits);
}

/* The directory's entries, as bitmap_list_load checks them. */
static enum qcow2_open_result check_dir(const struct qcow2_opened *o,
					const uint8_t *dir, uint64_t dir_len,
					struct qcow2_open_err *e)
{
	uint64_t pos = 0;
	uint32_t n = 0;
	uint64_t disk = o->f.size & ~(uint64_t)511u;

	while (pos < dir_len) {
		const uint8_t *p = dir + pos;
		struct qcow2_bitmap_entry b;
		uint64_t len;
		uint32_t extra;

		if (dir_len - pos < ENTRY_HEAD)
			return qopen_refuse(e, QOPEN_BM_DIR_BROKEN, 0, 0);
		if (++n > o->nb_bitmaps)
			return qopen_refuse(e, QOPEN_BM_MORE, 0, 0);
		extra = qcow2_be32(p + 20);
		len = entry_size(qcow2_be16(p + 18), extra);
		if (len > dir_len - pos)
			return qopen_refuse(e, QOPEN_BM_DIR_BROKEN, 0, 0);
		if (extra != 0)
			return qopen_refuse(e, QOPEN_BM_EXTRA, 0, 0);
		size_t at = (size_t)pos;
		if (!qcow2_open_bitmap_next(dir, (size_t)dir_len, &at, &b))
			return qopen_refuse(e, QOPEN_BM_DIR_BROKEN, 0, 0);
		if (!constraints_ok(&b, o->f.cluster_bits, disk))
			return qopen_refuse_text(e, QOPEN_BM_CONSTRAINTS, b.name,
						 name_bytes(&b));
		pos += len;
	}
	if (n != o->nb_bitmaps)
		return qopen_refuse(e, QOPEN_BM_LESS, 0, 0);
	return QCOW2_OPEN_OK;
}

/* The bytes a bitmap's data takes for a disk of disk_bytes, as QEMU
 * serialises it (whole 64-bit words), in clusters. */
static uint64_t table_needed(uint64_t disk_bytes, uint32_t gran_bits,
			     uint32_t cb)
{
	uint64_t bits, bytes;

	if (disk_bytes == 0)
		return 0;
	bits = ((disk_bytes - 1u) >> gran_bits) + 1u;
	bytes = ((bits + 63u) / 64u) * 8u;
	return (bytes + ((uint64_t)1 << cb) - 1u) >> cb;
}

/* A set of the names met so far (positions of their entries, plus one,
 * in the directory), open addressing: QEMU refuses a name it already
 * has. Names compare as C strings, up to their first NUL. */
#define NAME_SLOTS (1u << 17)   /* > 2 * QCOW2_OPEN_MAX_BITMAPS */

static uint32_t name_hash(const uint8_t *p, uint32_t len)
{
	uint32_t h = 2166136261u;

	for (uint32_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static bool names_equal(const uint8_t *a, uint32_t alen, const uint8_t *b,
			uint32_t blen)
{
	if (alen != blen)
		return false;
	for (uint32_t i = 0; i < alen; i++) {
		if (a[i] != b[i])
			return false;
	}
	return true;
}

/* Insert the entry at `pos`; false if its name is already there. */
static bool name_insert(uint32_t *slots, const uint8_t *dir, size_t dir_len,
			size_t pos, const struct qcow2_bitmap_entry *b)
{
	uint32_t len = name_bytes(b);
	uint32_t i = name_hash(b->name, len) & (NAME_SLOTS - 1u);

	for (;; i = (i + 1u) & (NAME_SLOTS - 1u)) {
		struct qcow2_bitmap_entry a;
		size_t at;

		if (slots[i] == 0) {
			slots[i] = (uint32_t)pos + 1u;
			return true;
		}
		at = slots[i] - 1u;
		if (qcow2_open_bitmap_next(dir, dir_len, &at, &a) &&
		    names_equal(a.name, name_bytes(&a), b->name, len))
			return false;
	}
}

/* One bitmap's table (not in use): every entry valid, then its length. */
static enum qcow2_open_result check_table(const struct qcow2_open_input *in,
					  const struct qcow2_opened *o,
					  const struct qcow2_bitmap_entry *b,
					  struct qcow2_stream *st,
					  struct qcow2_open_err *e)
{
	const struct qcow2_qread *q = st->q;
	uint64_t cs = (uint64_t)1 << o->f.cluster_bits;
	uint64_t bytes = (uint64_t)b->table_size * 8u;
	enum qcow2_qread_res v = qcow2_qread_verdict(q, b->table_offset, bytes);

	if (v == QCOW2_QREAD_ABORT)
		return qopen_refuse(e, QOPEN_READ_ABORT, 0, 0);
	if (v != QCOW2_QREAD_OK)
		return qopen_refuse_text(e, QOPEN_BM_TABLE, b->name, name_bytes(b));
	for (uint64_t i = 0; i < b->table_size;) {
		uint32_t chunk = (uint32_t)(b->table_size - i < 65536u
						    ? b->table_size - i : 65536u);
		const uint8_t *p;

		if (qcow2_stream_get(st, b->table_offset + i * 8u, chunk * 8u, &p) !=
		    QCOW2_QREAD_OK)
			return QCOW2_OPEN_IO;
		for (uint32_t k = 0; k < chunk; k++) {
			uint64_t ent = qcow2_be64(p + (size_t)k * 8u);
			uint64_t off = ent & TABLE_OFFSET;

			if ((ent & TABLE_RESERVED) != 0 || (off & (cs - 1u)) != 0 ||
			    ((ent & 1u) != 0 && off != 0))
				return qopen_refuse_text(e, QOPEN_BM_TABLE, b->name,
							 name_bytes(b));
		}
		i += chunk;
	}
	if (table_needed(o->f.size & ~(uint64_t)511u, b->granularity_bits,
			 o->f.cluster_bits) != b->table_size)
		return qopen_refuse_text(e, QOPEN_BM_DATA, b->name, name_bytes(b));
	(void)in;
	return QCOW2_OPEN_OK;
}

enum qcow2_open_result qopen_bitmaps(const struct qcow2_open_input *in,
				     struct qcow2_opened *o,
				     struct qcow2_open_err *e)
{
	const struct qcow2_qread q = { in->io, in->file_bytes,
				       (in->behaviour & QOPEN_B_READ_LIMIT) != 0 };
	struct qcow2_stream st;
	struct qcow2_qreq r;
	uint8_t *dir = in->work;
	size_t room = in->work_len;
	size_t pos = 0;
	struct qcow2_bitmap_entry b;
	enum qcow2_open_result res;
	enum qcow2_qread_res v;

	if (o->bm_dir_size == 0)
		return qopen_refuse(e, QOPEN_BM_DIR_ZERO, 0, 0);
	/* The directory, whole; then a window for the tables, and the set of
	 * names. */
	size_t used = ((size_t)o->bm_dir_size + 511u) & ~(size_t)511u;
	if (room < used + (1u << 20) + (size_t)NAME_SLOTS * 4u)
		return QCOW2_OPEN_MEMORY;
	v = qcow2_qread_verdict(&q, o->bm_dir_offset, o->bm_dir_size);
	if (v == QCOW2_QREAD_ABORT)
		return qopen_refuse(e, QOPEN_READ_ABORT, 0, 0);
	if (v != QCOW2_QREAD_OK)
		return qopen_refuse(e, QOPEN_BM_DIR_READ, 0, 0);
	r.off = o->bm_dir_offset;
	r.buf = dir;
	r.len = (uint32_t)o->bm_dir_size;
	if (qcow2_qread_many(&q, &r, 1) != QCOW2_QREAD_OK)
		return QCOW2_OPEN_IO;
	res = check_dir(o, dir, o->bm_dir_size, e);
	if (res != QCOW2_OPEN_OK)
		return res;
	qcow2_stream_init(&st, &q, dir + used, 1u << 20);
	uint32_t *slots = (uint32_t *)(void *)(dir + used + (1u << 20));
	__builtin_memset(slots, 0, (size_t)NAME_SLOTS * 4u);
	for (;;) {
		size_t at = pos;

		if (!qcow2_open_bitmap_next(dir, (size_t)o->bm_dir_size, &pos, &b))
			break;
		if (!name_insert(slots, dir, (size_t)o->bm_dir_size, at, &b))
			return qopen_refuse_text(e, QOPEN_BM_EXISTS, b.name,
						 name_bytes(&b));
		if (b.flags & FLAG_IN_USE)
			continue;
		res = check_table(in, o, &b, &st, e);
		if (res != QCOW2_OPEN_OK)
			return res;
	}
	return QCOW2_OPEN_OK;
}
