/*
 * table_reader.c — test-only batched readers, and the list of tables a
 * downgrade's scan names (see table_reader.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "tests/tools/table_reader.h"

#include <stdlib.h>
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

bool zero_list_put(void *ctx, uint64_t l2_offset)
{
	struct zero_list *z = ctx;

	if (z->n == z->cap) {
		uint32_t cap = z->cap ? z->cap * 2u : 64u;
		uint64_t *nv = malloc((size_t)cap * sizeof(uint64_t));
		if (nv == NULL)
			return false;
		if (z->n)
			memcpy(nv, z->v, (size_t)z->n * sizeof(uint64_t));
		free(z->v);
		z->v = nv;
		z->cap = cap;
	}
	z->v[z->n++] = l2_offset;
	return true;
}
