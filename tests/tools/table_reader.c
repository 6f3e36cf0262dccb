/*
 * table_reader.c — test-only batched readers (see table_reader.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "tests/tools/table_reader.h"

#include <string.h>
#include <unistd.h>

static bool request_ok(const struct qcow2_read *r, uint64_t size)
{
	uint64_t sectors_end = (size + 511u) & ~(uint64_t)511u;

	return r->len != 0 && r->offset % 512u == 0 && r->len % 512u == 0 &&
	       r->offset < sectors_end && r->len <= sectors_end - r->offset;
}

bool table_file_read(void *ctx, const struct qcow2_read *r, uint32_t n)
{
	struct table_file *f = ctx;

	f->calls++;
	for (uint32_t i = 0; i < n; i++) {
		if (!request_ok(&r[i], f->size))
			return false;
		f->reads++;
		size_t done = 0;
		while (done < r[i].len) {
			ssize_t got = pread(f->fd, r[i].buf + done,
					    r[i].len - done,
					    (off_t)(r[i].offset + done));
			if (got < 0)
				return false;
			if (got == 0) {
				memset(r[i].buf + done, 0, r[i].len - done);
				break;
			}
			done += (size_t)got;
		}
	}
	return true;
}

bool table_mem_read(void *ctx, const struct qcow2_read *r, uint32_t n)
{
	struct table_mem *m = ctx;

	m->calls++;
	for (uint32_t i = 0; i < n; i++) {
		if (!request_ok(&r[i], m->size))
			return false;
		m->reads++;
		uint64_t have = m->size - r[i].offset;
		if (have > r[i].len)
			have = r[i].len;
		memcpy(r[i].buf, m->bytes + r[i].offset, (size_t)have);
		memset(r[i].buf + have, 0, (size_t)(r[i].len - have));
	}
	return true;
}
