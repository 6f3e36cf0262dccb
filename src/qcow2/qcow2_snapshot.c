/*
 * qcow2_snapshot.c — parse snapshot table entries and walk the table (see
 * qcow2_snapshot.h). Trust: every length in an entry is hostile and is
 * checked against the bytes present before anything past it is read.
 */
#include "src/qcow2/qcow2_snapshot.h"

#include "src/qcow2/qcow2_be.h"

#define SECTOR 512u
#define PAD_SPARE 8u /* room for an entry's padding (at most 7 bytes) */

enum qcow2_err qcow2_snapshot_parse(const uint8_t *buf, size_t len,
				    struct qcow2_snapshot *s)
{
	uint64_t end;

	__builtin_memset(s, 0, sizeof(*s));
	if (buf == NULL || len < QCOW2_SNAPSHOT_FIXED)
		return QCOW2_ERR_TRUNCATED;
	s->l1_offset = qcow2_be64(buf);
	s->l1_size = qcow2_be32(buf + 8);
	s->id_len = qcow2_be16(buf + 12);
	s->name_len = qcow2_be16(buf + 14);
	s->date_sec = qcow2_be32(buf + 16);
	s->date_nsec = qcow2_be32(buf + 20);
	s->vm_clock_ns = qcow2_be64(buf + 24);
	s->vm_state_size = qcow2_be32(buf + 32);
	s->extra_len = qcow2_be32(buf + 36);
	if (s->extra_len > QCOW2_SNAPSHOT_MAX_EXTRA)
		return QCOW2_ERR_EXTENSION;
	end = (uint64_t)QCOW2_SNAPSHOT_FIXED + s->extra_len + s->id_len +
	      s->name_len;
	end = (end + 7u) & ~(uint64_t)7u;
	if (end > len)
		return QCOW2_ERR_TRUNCATED;
	const uint8_t *x = buf + QCOW2_SNAPSHOT_FIXED;
	if (s->extra_len >= 8u) {
		s->has_vm_state_size_large = true;
		s->vm_state_size_large = qcow2_be64(x);
	}
	if (s->extra_len >= 16u) {
		s->has_disk_size = true;
		s->disk_size = qcow2_be64(x + 8);
	}
	if (s->extra_len >= 24u) {
		s->has_icount = true;
		s->icount = qcow2_be64(x + 16);
	}
	s->id_off = QCOW2_SNAPSHOT_FIXED + s->extra_len;
	s->name_off = s->id_off + s->id_len;
	s->entry_len = (uint32_t)end;
	return QCOW2_OK;
}

enum qcow2_snapshot_walk_err qcow2_snapshot_walk(
	const struct qcow2_header *h, uint64_t file_bytes,
	const struct qcow2_io *io, uint8_t *window, size_t window_len,
	qcow2_snapshot_visit_fn visit, void *ctx)
{
	uint64_t readable, pos, win_start = 0, win_len = 0;
	size_t read_cap;

	if (h == NULL || io == NULL || io->read == NULL || window == NULL ||
	    visit == NULL || window_len < (size_t)QCOW2_SNAPSHOT_MIN_WINDOW)
		return QCOW2_SNAPSHOTS_MEMORY;
	if (__builtin_add_overflow(file_bytes, (uint64_t)(SECTOR - 1u),
				   &readable))
		return QCOW2_SNAPSHOTS_TABLE;
	readable &= ~(uint64_t)(SECTOR - 1u);
	/* Whole sectors are read; 8 bytes stay spare for the zero padding of
	 * an entry that ends the file. */
	read_cap = (window_len - PAD_SPARE) & ~(size_t)(SECTOR - 1u);
	pos = h->snapshots_offset;

	for (uint32_t i = 0; i < h->nb_snapshots; i++) {
		struct qcow2_snapshot s;
		enum qcow2_err e = QCOW2_ERR_TRUNCATED;

		if (pos >= file_bytes)
			return QCOW2_SNAPSHOTS_TABLE;
		for (int attempt = 0; attempt < 2; attempt++) {
			if (pos >= win_start && pos - win_start < win_len) {
				size_t avail = (size_t)(win_len - (pos - win_start));
				/* At the end of the file: its zero padding. */
				if (win_start + win_len == readable)
					avail += PAD_SPARE;
				e = qcow2_snapshot_parse(
					window + (pos - win_start), avail, &s);
				if (e != QCOW2_ERR_TRUNCATED)
					break;
			}
			/* (Re)fill the window from the sector holding pos. */
			win_start = pos & ~(uint64_t)(SECTOR - 1u);
			win_len = readable - win_start;
			if (win_len > read_cap)
				win_len = read_cap;
			struct qcow2_read r = { win_start, window, (uint32_t)win_len };
			if (!io->read(io->ctx, &r, 1))
				return QCOW2_SNAPSHOTS_IO;
			__builtin_memset(window + win_len, 0, PAD_SPARE);
		}
		if (e != QCOW2_OK)
			return QCOW2_SNAPSHOTS_TABLE;
		/* Inside the file up to the end of its name; the padding may
		 * lie past the end (QEMU does not read it). */
		if (pos + s.name_off + s.name_len > file_bytes)
			return QCOW2_SNAPSHOTS_TABLE;
		uint64_t next = pos + s.entry_len;
		if (!visit(ctx, i, &s, window + (pos - win_start)))
			return QCOW2_SNAPSHOTS_STOPPED;
		pos = next;
	}
	return QCOW2_SNAPSHOTS_OK;
}
