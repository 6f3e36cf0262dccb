/*
 * plan_apply.c — test-only host helper for the differential suite.
 *
 *   plan_apply -o KEY=VAL[,KEY=VAL...] [-o ...] FILE
 *
 * Builds a `struct amend_request` from qemu-img-style -o options
 * (compat=0.10|1.1, lazy_refcounts=on|off|true|false|yes|no; a later key
 * overrides an earlier one, as qemu-img does), reads the first cluster of
 * FILE, runs the planner, and on AMEND_CHANGED writes every patch range
 * from the planned cluster back into FILE with pwrite(). Nothing else of
 * the file is touched; a no-op or a refusal writes nothing.
 *
 * Prints one line on stdout:
 *   changed            exit 0
 *   noop               exit 0
 *   refused <status>   exit 1  (<status> is the enum amend_status number)
 * Usage errors go to stderr with exit 2; I/O errors with exit 3.
 *
 * This is NOT the product: no sandbox, no locking. It exists so the
 * planner can be tested against qemu-img before the CLI exists.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "abi/guest_abi.h"
#include "src/amend/amend_plan.h"
#include "src/amend/amend_request.h"
#include "src/amend/amend_status.h"
#include "src/qcow2/qcow2_header.h"
#include "src/image/expand.h"
#include "tests/tools/table_reader.h"

/* Diagnostics on stderr are not checked ((void)): one that cannot be
 * written has nowhere else to go, and the exit status still tells. */

#define MIN_CLUSTER_BITS 9u
#define MAX_CLUSTER_BITS 21u

static void usage(void)
{
	(void)fprintf(stderr,
		      "usage: plan_apply -o KEY=VAL[,KEY=VAL...] [-o ...] FILE\n"
		      "  keys: compat=0.10|1.1, "
		      "lazy_refcounts=on|off|true|false|yes|no\n");
}

/* Parse one "KEY=VAL" piece (not NUL-terminated: [p, p+n)). */
static int parse_piece(const char *p, size_t n, struct amend_request *req)
{
	const char *eq = memchr(p, '=', n);
	if (eq == NULL || eq == p) {
		(void)fprintf(stderr, "plan_apply: bad option piece '%.*s'\n",
			      (int)n, p);
		return -1;
	}
	size_t klen = (size_t)(eq - p);
	const char *v = eq + 1;
	size_t vlen = n - klen - 1;

#define IS(s, len, lit) ((len) == sizeof(lit) - 1 && memcmp((s), (lit), (len)) == 0)
	if (IS(p, klen, "compat")) {
		if (IS(v, vlen, "0.10"))
			req->compat = AMEND_COMPAT_V2;
		else if (IS(v, vlen, "1.1"))
			req->compat = AMEND_COMPAT_V3;
		else
			goto bad_value;
	} else if (IS(p, klen, "lazy_refcounts")) {
		if (IS(v, vlen, "on") || IS(v, vlen, "true") || IS(v, vlen, "yes"))
			req->lazy = AMEND_LAZY_ON;
		else if (IS(v, vlen, "off") || IS(v, vlen, "false") ||
			 IS(v, vlen, "no"))
			req->lazy = AMEND_LAZY_OFF;
		else
			goto bad_value;
	} else {
		(void)fprintf(stderr, "plan_apply: unsupported key '%.*s'\n",
			      (int)klen, p);
		return -1;
	}
#undef IS
	return 0;
bad_value:
	(void)fprintf(stderr, "plan_apply: bad value '%.*s' for '%.*s'\n",
		      (int)vlen, v, (int)klen, p);
	return -1;
}

static int parse_opts(const char *s, struct amend_request *req)
{
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		if (n == 0) {
			(void)fprintf(stderr, "plan_apply: empty option piece\n");
			return -1;
		}
		if (parse_piece(s, n, req) != 0)
			return -1;
		if (comma == NULL)
			return 0;
		s = comma + 1;
	}
}

static int read_full(int fd, uint8_t *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t r = pread(fd, buf + done, len - done, (off_t)done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

static int write_full(int fd, const uint8_t *buf, size_t len, off_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t r = pwrite(fd, buf + done, len - done,
				   off + (off_t)done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

/* The expansion's I/O straight on the file (test tool). */
struct fd_io {
	int fd;
	uint64_t size;
};

static bool fd_read(void *ctx, uint64_t off, uint8_t *buf, size_t len)
{
	const struct fd_io *f = ctx;

	if (off > f->size || f->size - off < len)
		return false;
	return pread(f->fd, buf, len, (off_t)off) == (ssize_t)len;
}

static bool fd_write(void *ctx, uint64_t off, const uint8_t *sector)
{
	const struct fd_io *f = ctx;

	return pwrite(f->fd, sector, 512, (off_t)off) == 512;
}

static bool fd_sync(void *ctx)
{
	const struct fd_io *f = ctx;

	return fdatasync(f->fd) == 0;
}

static int refuse(enum amend_status st)
{
	printf("refused %d\n", (int)st);
	return 1;
}

int main(int argc, char **argv)
{
	struct amend_request req = {AMEND_COMPAT_KEEP, AMEND_LAZY_KEEP};
	const char *file = NULL;
	int n_opts = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			if (parse_opts(argv[++i], &req) != 0)
				return 2;
			n_opts++;
		} else if (strncmp(argv[i], "-o", 2) == 0 && argv[i][2] != '\0') {
			if (parse_opts(argv[i] + 2, &req) != 0)
				return 2;
			n_opts++;
		} else if (argv[i][0] == '-' || file != NULL) {
			usage();
			return 2;
		} else {
			file = argv[i];
		}
	}
	if (file == NULL || n_opts == 0) {
		usage();
		return 2;
	}

	int fd = open(file, O_RDWR);
	if (fd < 0) {
		(void)fprintf(stderr, "plan_apply: %s: %s\n", file, strerror(errno));
		return 3;
	}

	uint8_t head[24];
	if (read_full(fd, head, sizeof head) != 0) {
		close(fd);
		return refuse(AMEND_ERR_PARSE);
	}
	uint32_t cluster_bits = (uint32_t)head[20] << 24 |
				(uint32_t)head[21] << 16 |
				(uint32_t)head[22] << 8 | (uint32_t)head[23];
	if (cluster_bits < MIN_CLUSTER_BITS || cluster_bits > MAX_CLUSTER_BITS) {
		close(fd);
		return refuse(AMEND_ERR_PARSE);
	}
	size_t len = (size_t)1 << cluster_bits;

	uint8_t *old_cluster = malloc(len);
	uint8_t *new_cluster = malloc(len);
	if (old_cluster == NULL || new_cluster == NULL) {
		(void)fprintf(stderr, "plan_apply: out of memory\n");
		free(old_cluster);
		free(new_cluster);
		close(fd);
		return 3;
	}
	if (read_full(fd, old_cluster, len) != 0) {
		/* A file shorter than its own header cluster. */
		free(old_cluster);
		free(new_cluster);
		close(fd);
		return refuse(AMEND_ERR_PARSE);
	}

	struct amend_plan plan;
	struct amend_scan scan;
	const struct amend_scan *scanned = NULL;
	struct zero_list zeros = { NULL, 0, 0 };
	struct qcow2_header h;
	struct stat st_file;
	int rc = 0;
	memset(&plan, 0, sizeof plan);
	if (amend_needs_scan(old_cluster, len, &req)) {
		if (qcow2_parse(old_cluster, len, &h) != QCOW2_OK ||
		    fstat(fd, &st_file) != 0) {
			rc = refuse(AMEND_ERR_PARSE);
			goto out;
		}
		/* The reads the guest makes through virtio-blk, straight from
		 * the file (test tool), with the guest's work memory. */
		struct table_file tf = { fd, (uint64_t)st_file.st_size, 0, 0 };
		const struct qcow2_io io = { table_file_read, &tf, TABLE_BATCH };
		uint8_t *work = malloc(GUEST_WORK_BYTES);
		if (work == NULL) {
			rc = refuse(AMEND_ERR_SCRATCH);
			goto out;
		}
		/* As instar's guest: name every table with zero entries, for
		 * the expansion a downgrade makes. */
		const struct amend_zero_sink sink = { zero_list_put, &zeros };
		enum amend_scan_reach reach =
			amend_scan_reach(old_cluster, len, &req);
		enum amend_status ss = amend_scan_tables_zeros(
			&h, reach, (uint64_t)st_file.st_size, &io, work,
			GUEST_WORK_BYTES,
			reach == AMEND_SCAN_ALL_TABLES ? &sink : NULL, &scan);
		free(work);
		if (ss != AMEND_CHANGED) {
			rc = refuse(ss);
			goto out;
		}
		scanned = &scan;
	}
	enum amend_status st = amend_plan_scanned(old_cluster, len, &req,
						  scanned, new_cluster, &plan);
	if (st == AMEND_NOOP) {
		printf("noop\n");
	} else if (st != AMEND_CHANGED) {
		rc = refuse(st);
	} else if (plan.n_patches == 0 || plan.n_patches > AMEND_MAX_PATCHES) {
		(void)fprintf(stderr, "plan_apply: planner returned %u patches\n",
			      plan.n_patches);
		rc = 3;
	} else {
		/* The zero clusters first, by the host's rules (expand.h). */
		if (zeros.n != 0) {
			struct fd_io f = { fd, (uint64_t)st_file.st_size };
			const struct expand_io eio = { fd_read, fd_write, NULL, fd_sync, &f };
			struct expand_plan ep;
			enum expand_err ee = expand_prepare(
				&ep, &h, f.size, true, zeros.v, zeros.n, &eio);
			if (ee == EXPAND_OK)
				ee = expand_apply(&ep, &eio);
			expand_free(&ep);
			if (ee != EXPAND_OK) {
				(void)fprintf(stderr, "plan_apply: expansion: %d\n",
					      (int)ee);
				rc = 3;
				goto out;
			}
		}
		/* Check every patch before writing any. */
		for (uint32_t i = 0; i < plan.n_patches; i++) {
			const struct amend_patch *p = &plan.patches[i];
			if (p->length == 0 || p->offset > len ||
			    p->length > len - p->offset) {
				(void)fprintf(stderr,
					      "plan_apply: patch %u [%u,+%u) outside "
					"the %zu-byte cluster\n",
					i, p->offset, p->length, len);
				rc = 3;
			}
		}
		for (uint32_t i = 0; rc == 0 && i < plan.n_patches; i++) {
			const struct amend_patch *p = &plan.patches[i];
			if (write_full(fd, new_cluster + p->offset, p->length,
				       (off_t)p->offset) != 0) {
				(void)fprintf(stderr, "plan_apply: write: %s\n",
					      strerror(errno));
				rc = 3;
			}
		}
		if (rc == 0 && fsync(fd) != 0) {
			(void)fprintf(stderr, "plan_apply: fsync: %s\n",
				      strerror(errno));
			rc = 3;
		}
		if (rc == 0)
			printf("changed\n");
	}
out:
	free(zeros.v);
	free(old_cluster);
	free(new_cluster);
	if (close(fd) != 0 && rc == 0) {
		(void)fprintf(stderr, "plan_apply: close: %s\n", strerror(errno));
		rc = 3;
	}
	return rc;
}
