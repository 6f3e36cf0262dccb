/*
 * amend_scan_fuzzer.c — fuzz target 7: the table scan run before
 * planning (amend_scan_tables, amend_scan_l2), at both reaches: the
 * snapshot table alone (any request on an image with snapshots), and the
 * snapshot table with the active and every snapshot's L1/L2 tables (a
 * compat=0.10 downgrade). All hostile, read through a batched callback
 * (virtio-blk in the guest; memory here), with the least work memory it
 * accepts.
 *
 * Input: [0] fault byte (0: reads never fail; else the read numbered
 * byte/2 fails when bit 0 is set), then a whole small image (a header
 * cluster padded as in fuzz_amend.h when the input is shorter). The file
 * is the image bytes; its last sector may be partial, and reads of it
 * return zeroes past the end (the reader contract in amend_scan.h).
 *
 * Trust: the image is hostile. Asserted (a violation traps): every read
 * the scanner asks for is sector-aligned and inside the file's sectors;
 * the result is one of the documented codes and agrees with out->done
 * and out->io_error; the walk stays within its L2 read bound; the
 * snapshot-table reach walks no L1 or L2 table.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_amend.h"
#include "fuzz/fuzz_util.h"
#include "src/amend/amend_scan.h"
#include "src/amend/amend_status.h"
#include "src/qcow2/qcow2_format.h"
#include "src/qcow2/qcow2_header.h"

struct file {
	const uint8_t *bytes;
	uint64_t len;
	uint32_t reads;
	uint32_t fail_at;   /* 0: never */
};

#define BATCH 64u

static bool read_cb(void *ctx, const struct qcow2_read *r, uint32_t n)
{
	struct file *f = ctx;
	uint64_t sectors_end = (f->len + 511u) & ~(uint64_t)511u;

	FUZZ_ASSERT(n >= 1 && n <= BATCH);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t offset = r[i].offset, len = r[i].len, have;

		FUZZ_ASSERT(offset % 512u == 0 && len % 512u == 0 && len > 0);
		FUZZ_ASSERT(offset < sectors_end && len <= sectors_end - offset);
		f->reads++;
		if (f->fail_at != 0 && f->reads == f->fail_at)
			return false;
		have = f->len - offset < len ? f->len - offset : len;
		memcpy(r[i].buf, f->bytes + offset, (size_t)have);
		memset(r[i].buf + have, 0, (size_t)(len - have));
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct qcow2_header h;
	struct amend_scan out;
	struct file f;
	uint8_t *img, *scratch;
	size_t n, cs, flen;
	enum amend_status s;

	if (size < 1)
		return 0;
	f.fail_at = (data[0] & 1u) ? (uint32_t)(data[0] >> 1) + 1u : 0u;
	data++;
	n = size - 1;

	memset(&out, 0, sizeof(out));
	amend_scan_l2(data, n, &out);   /* any bytes are an L2 table */

	cs = fuzz_cluster_len(data, n);
	flen = n > cs ? n : cs;
	img = malloc(flen);
	/* The least work memory the scan accepts: the walk then runs in as
	 * many rounds as its offset set needs. */
	size_t mem_len = amend_scan_min_mem((uint32_t)cs);
	scratch = malloc(mem_len);
	if (img == NULL || scratch == NULL)
		goto done;
	memcpy(img, data, n);
	memset(img + n, 0, flen - n);
	if (qcow2_parse(img, cs, &h) != QCOW2_OK)
		goto done;

	/* Both reaches: the snapshot table alone (any request on an image
	 * with snapshots), and every table (a downgrade). */
	for (int r = 0; r < 2; r++) {
		enum amend_scan_reach reach = r == 0 ? AMEND_SCAN_SNAPSHOT_TABLE
						     : AMEND_SCAN_ALL_TABLES;
		f.bytes = img;
		f.len = flen;
		f.reads = 0;
		memset(&out, 0, sizeof(out));
		const struct qcow2_io io = { read_cb, &f, BATCH };
		s = amend_scan_tables(&h, reach, flen, &io, scratch, mem_len, &out);
		FUZZ_ASSERT(s == AMEND_CHANGED || s == AMEND_ERR_TABLES ||
			    s == AMEND_ERR_SCAN_IO ||
			    (s == AMEND_ERR_DOWNGRADE_FEATURE &&
			     reach == AMEND_SCAN_ALL_TABLES &&
			     (h.incompat & QCOW2_INCOMPAT_EXTENDED_L2)));
		FUZZ_ASSERT((s == AMEND_CHANGED) == out.done);
		FUZZ_ASSERT((s == AMEND_ERR_SCAN_IO) == out.io_error);
		if (s == AMEND_ERR_SCAN_IO)
			FUZZ_ASSERT(f.fail_at != 0 && f.reads == f.fail_at);
		FUZZ_ASSERT(out.l2_tables <= QCOW2_WALK_MAX_L2_READS);
		/* The snapshot table alone reads no L2 table. */
		if (reach == AMEND_SCAN_SNAPSHOT_TABLE)
			FUZZ_ASSERT(out.l2_tables == 0 && out.l1_tables == 0);
	}
done:
	free(img);
	free(scratch);
	return 0;
}
