/*
 * qcow2_walk.c — the L1/L2 table walk (see qcow2_walk.h).
 *
 * A round collects L2 offsets from the L1 tables into the offset set
 * until the set is full or every table is done, sorts them, and reads
 * each distinct one once, in file order, in batches of up to
 * io->max_batch clusters. The next round goes on where the last stopped.
 *
 * Trust: L1 tables and entries are hostile; every offset is checked
 * before it is read, every sum overflow-checked, reads bounded.
 */
#include "src/qcow2/qcow2_walk.h"

#include "src/qcow2/qcow2_be.h"
#include "src/qcow2/qcow2_format.h"
#include "src/qcow2/qcow2_qread.h"

#define SECTOR 512u
#define L1_ENTRY 8u

/* Heapsort: no recursion, no allocation, O(n log n) whatever the input. */
static void sift_down(uint64_t *v, size_t start, size_t n)
{
	size_t root = start;

	for (;;) {
		size_t child = 2 * root + 1;
		if (child >= n)
			return;
		if (child + 1 < n && v[child] < v[child + 1])
			child++;
		if (v[root] >= v[child])
			return;
		uint64_t t = v[root];
		v[root] = v[child];
		v[child] = t;
		root = child;
	}
}

void qcow2_sort_u64(uint64_t *v, size_t n)
{
	if (n < 2)
		return;
	for (size_t i = n / 2; i-- > 0;)
		sift_down(v, i, n);
	for (size_t end = n - 1; end > 0; end--) {
		uint64_t t = v[0];
		v[0] = v[end];
		v[end] = t;
		sift_down(v, 0, end);
	}
}

/* A cluster-sized table at `off`: past the header cluster, aligned, and
 * inside the readable part of the file. */
static bool cluster_ok(uint64_t off, uint32_t cs, uint64_t readable)
{
	uint64_t end;

	if (off < cs || (off & (cs - 1u)) != 0)
		return false;
	return !__builtin_add_overflow(off, (uint64_t)cs, &end) &&
	       end <= readable;
}

struct walker {
	const struct qcow2_l1_table *tables;
	uint32_t n;
	uint32_t cs;
	uint64_t file_bytes;
	uint64_t readable;
	const struct qcow2_io *io;
	uint8_t *bufs;           /* batch x cs bytes */
	uint32_t batch;
	uint64_t *set;
	size_t cap;
	qcow2_l2_visit_fn visit;
	void *visit_ctx;
	struct qcow2_walk_stats *st;
	/* Where the collection stands: table t, entry e. */
	uint32_t t;
	uint32_t e;
};

static enum qcow2_walk_err read1(struct walker *w, uint64_t off, uint8_t *buf,
				 uint32_t len)
{
	struct qcow2_read r = { off, buf, len };

	w->st->batches++;
	return w->io->read(w->io->ctx, &r, 1) ? QCOW2_WALK_OK : QCOW2_WALK_IO;
}

/* Check table t's extent once, when its walk starts. */
static enum qcow2_walk_err table_ok(const struct walker *w,
				    const struct qcow2_l1_table *l1)
{
	uint64_t bytes = (uint64_t)l1->entries * L1_ENTRY;
	uint64_t end;

	if (l1->offset < w->cs || (l1->offset & (w->cs - 1u)) != 0 ||
	    __builtin_add_overflow(l1->offset, bytes, &end) ||
	    end > w->file_bytes)
		return QCOW2_WALK_TABLES;
	return QCOW2_WALK_OK;
}

/* Fill the set from (t, e) on; stop when it is full or every table is
 * done. *count receives the number of offsets collected. */
static enum qcow2_walk_err collect(struct walker *w, size_t *count)
{
	const uint32_t chunk_bytes = w->batch * w->cs;
	const uint32_t chunk_entries = chunk_bytes / L1_ENTRY;
	size_t c = 0;

	while (w->t < w->n && c < w->cap) {
		const struct qcow2_l1_table *l1 = &w->tables[w->t];
		enum qcow2_walk_err err;

		if (w->e == 0 && l1->entries != 0) {
			err = table_ok(w, l1);
			if (err != QCOW2_WALK_OK)
				return err;
			w->st->l1_tables++;
		}
		if (w->e >= l1->entries) {
			w->t++;
			w->e = 0;
			continue;
		}
		/* Read from the chunk-aligned entry at or before e (whole
		 * sectors: chunks are multiples of 64 entries). */
		uint32_t first = w->e - w->e % chunk_entries;
		uint32_t k = l1->entries - first < chunk_entries
				     ? l1->entries - first : chunk_entries;
		uint32_t rd = (k * L1_ENTRY + SECTOR - 1u) & ~(SECTOR - 1u);
		uint64_t off = l1->offset + (uint64_t)first * L1_ENTRY;
		if (off + rd > w->readable)
			return QCOW2_WALK_TABLES;
		err = read1(w, off, w->bufs, rd);
		if (err != QCOW2_WALK_OK)
			return err;
		uint32_t i = w->e - first;
		for (; i < k && c < w->cap; i++) {
			uint64_t l2 = qcow2_be64(w->bufs + (size_t)i * L1_ENTRY) &
				      QCOW2_L1E_OFFSET_MASK;
			if (l2 == 0)
				continue;
			if (!cluster_ok(l2, w->cs, w->readable))
				return QCOW2_WALK_TABLES;
			w->set[c++] = l2;
			w->st->l1_entries++;
		}
		w->e = first + i;
	}
	*count = c;
	return QCOW2_WALK_OK;
}

/* Read and visit the distinct offsets of the sorted set[0, n). */
static enum qcow2_walk_err process(struct walker *w, size_t n)
{
	struct qcow2_read reqs[64];
	uint64_t offs[64];
	uint32_t refs[64];
	const uint32_t batch = w->batch < 64u ? w->batch : 64u;
	size_t i = 0;

	while (i < n) {
		uint32_t k = 0;
		while (i < n && k < batch) {
			size_t j = i;
			while (j < n && w->set[j] == w->set[i])
				j++;
			if (w->st->l2_tables >= QCOW2_WALK_MAX_L2_READS)
				return QCOW2_WALK_LIMIT;
			w->st->l2_tables++;
			offs[k] = w->set[i];
			refs[k] = (j - i) > UINT32_MAX ? UINT32_MAX : (uint32_t)(j - i);
			reqs[k].offset = w->set[i];
			reqs[k].buf = w->bufs + (size_t)k * w->cs;
			reqs[k].len = w->cs;
			k++;
			w->st->l1_entries_done += j - i;
			i = j;
		}
		w->st->batches++;
		if (!w->io->read(w->io->ctx, reqs, k))
			return QCOW2_WALK_IO;
		for (uint32_t m = 0; m < k; m++) {
			if (!w->visit(w->visit_ctx, offs[m], reqs[m].buf, w->cs,
				      refs[m]))
				return QCOW2_WALK_STOPPED;
		}
	}
	return QCOW2_WALK_OK;
}

enum qcow2_walk_err qcow2_walk_l2(const struct qcow2_l1_table *tables,
				  uint32_t n, uint32_t cluster_size,
				  uint64_t file_bytes, const struct qcow2_io *io,
				  uint8_t *mem, size_t mem_len,
				  qcow2_l2_visit_fn visit, void *visit_ctx,
				  struct qcow2_walk_stats *stats)
{
	struct walker w;

	__builtin_memset(stats, 0, sizeof(*stats));
	if (cluster_size < SECTOR || (cluster_size & (cluster_size - 1u)) != 0 ||
	    io == NULL || io->read == NULL || io->max_batch == 0 ||
	    visit == NULL || (tables == NULL && n != 0) || mem == NULL ||
	    ((uintptr_t)mem & 7u) != 0)
		return QCOW2_WALK_MEMORY;
	__builtin_memset(&w, 0, sizeof(w));
	w.tables = tables;
	w.n = n;
	w.cs = cluster_size;
	w.file_bytes = file_bytes;
	/* The last sector may be partial (QEMU writes its last table with
	 * the exact length); the reader returns zeroes past the end. */
	if (__builtin_add_overflow(file_bytes, (uint64_t)(SECTOR - 1u),
				   &w.readable))
		return QCOW2_WALK_TABLES;
	w.readable &= ~(uint64_t)(SECTOR - 1u);
	w.io = io;
	/* Half the memory (at most max_batch clusters, at least one) for
	 * read buffers, the rest for the offset set (at least 64 offsets). */
	size_t bufs = mem_len / 2 / cluster_size;
	if (bufs > io->max_batch)
		bufs = io->max_batch;
	if (bufs > 64u)
		bufs = 64u;
	/* A chunk of bufs clusters is a 32-bit length (of the L1 reads and
	 * in collect()'s arithmetic): it must not wrap, to zero or at all. */
	if (bufs > UINT32_MAX / cluster_size)
		bufs = UINT32_MAX / cluster_size;
	if (bufs == 0)
		bufs = 1;
	if ((size_t)cluster_size * bufs > mem_len ||
	    (mem_len - (size_t)cluster_size * bufs) / 8u < 64u)
		return QCOW2_WALK_MEMORY;
	w.batch = (uint32_t)bufs;
	w.bufs = mem;
	w.set = (uint64_t *)(void *)(mem + (size_t)cluster_size * bufs);
	w.cap = (mem_len - (size_t)cluster_size * bufs) / 8u;
	w.visit = visit;
	w.visit_ctx = visit_ctx;
	w.st = stats;

	while (w.t < w.n) {
		size_t count = 0;
		enum qcow2_walk_err err = collect(&w, &count);
		if (err != QCOW2_WALK_OK)
			return err;
		/* A round that found no offset left (the set filled at the
		 * last non-zero entry) is not one: rounds > 1 only when the
		 * offsets could not all be held at once (qcow2_walk.h). */
		if (count != 0 || stats->rounds == 0)
			stats->rounds++;
		qcow2_sort_u64(w.set, count);
		err = process(&w, count);
		if (err != QCOW2_WALK_OK)
			return err;
	}
	return QCOW2_WALK_OK;
}

/* The ordered walk (see qcow2_walk.h): a piece of the L1 table at a time;
 * of its entries, up to `batch` L2 tables read at once; then the entries
 * visited in order, each with its table. */
enum qcow2_walk_err qcow2_walk_ordered(const struct qcow2_ordered_walk *w)
{
	uint32_t per = w->l1buf_len / L1_ENTRY;
	struct qcow2_qreq reqs[64];
	uint32_t slot[64];

	if (w->q == NULL || w->want == NULL || w->visit == NULL ||
	    w->batch == 0 || w->batch > 64u || per == 0 ||
	    (w->l1buf_len % SECTOR) != 0)
		return QCOW2_WALK_MEMORY;
	for (uint32_t first = 0; first < w->l1_entries; first += per) {
		uint32_t k = w->l1_entries - first < per ? w->l1_entries - first : per;
		struct qcow2_qreq r = { w->l1_offset + (uint64_t)first * L1_ENTRY,
					w->l1buf, k * L1_ENTRY };

		if (qcow2_qread_many(w->q, &r, 1) != QCOW2_QREAD_OK)
			return QCOW2_WALK_IO;
		for (uint32_t i = 0; i < k;) {
			uint32_t n = 0, j;

			/* Read the tables of the next entries, up to a batch. */
			for (j = i; j < k && j - i < 64u && n < w->batch; j++) {
				uint64_t e = qcow2_be64(w->l1buf + (size_t)j * L1_ENTRY);
				uint64_t l2;

				slot[j - i] = UINT32_MAX;
				if (!w->want(w->ctx, e, &l2))
					continue;
				if (l2 % SECTOR != 0)
					return QCOW2_WALK_TABLES;
				reqs[n].off = l2;
				reqs[n].buf = w->bufs + (size_t)n * w->cluster_size;
				reqs[n].len = w->cluster_size;
				slot[j - i] = n++;
			}
			if (n != 0 && qcow2_qread_many(w->q, reqs, n) != QCOW2_QREAD_OK)
				return QCOW2_WALK_IO;
			for (uint32_t m = i; m < j; m++) {
				uint64_t e = qcow2_be64(w->l1buf + (size_t)m * L1_ENTRY);
				uint32_t s = slot[m - i];
				const uint8_t *l2 = s == UINT32_MAX ? NULL
							: w->bufs + (size_t)s * w->cluster_size;

				if (!w->visit(w->ctx, first + m, e, l2))
					return QCOW2_WALK_STOPPED;
			}
			i = j;
		}
	}
	return QCOW2_WALK_OK;
}
