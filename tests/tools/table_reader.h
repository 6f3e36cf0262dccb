/*
 * table_reader.h — test-only batched readers for the table walk
 * (src/qcow2/qcow2_walk.h): from a file descriptor and from memory, with
 * the walk's contract (whole sectors; zeroes past the end of the file).
 * The product's reader is the guest's virtio-blk driver. Also the list
 * a downgrade's scan names (the guest's report), for the host-side tools.
 * Trust: the requests come from the walker, which is under test: they
 * are bounds-checked here too.
 */
#ifndef INSTAR_TESTS_TOOLS_TABLE_READER_H
#define INSTAR_TESTS_TOOLS_TABLE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/qcow2/qcow2_walk.h"

#ifdef __cplusplus
extern "C" {
#endif

struct table_file {
	int fd;
	uint64_t size;
	uint32_t calls;   /* read_batch calls */
	uint32_t reads;   /* single reads */
};

struct table_mem {
	const uint8_t *bytes;
	uint64_t size;
	uint32_t calls;
	uint32_t reads;
};

/* ctx: struct table_file / struct table_mem. */
bool table_file_read(void *ctx, const struct qcow2_read *r, uint32_t n);
bool table_mem_read(void *ctx, const struct qcow2_read *r, uint32_t n);

/* The list of L2 tables with zero entries a downgrade's scan names (what
 * the guest reports), collected on the host by the test tools: pass
 * zero_list_put with a struct zero_list (zeroed) as the scan's sink
 * (struct amend_zero_sink), free .v after. */
struct zero_list {
	uint64_t *v;
	uint32_t n;
	uint32_t cap;
};

bool zero_list_put(void *ctx, uint64_t l2_offset);

/* The batch size to promise the walker (the guest's VBLK_MAX_BATCH). */
#define TABLE_BATCH 64u

#ifdef __cplusplus
}
#endif

#endif
