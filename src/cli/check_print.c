/*
 * check_print.c — `instar check`'s words (see check_print.h). Every line
 * is what qemu-img 5.2, 7.2, 10.0 and 11.1 printed on crafted images
 * (tests/oracles/); the release differences are in what the guest finds
 * (src/cli/qemu_compat.c), not in the words.
 */
#include "src/cli/check_print.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "src/cli/qemu_json.h"
#include "src/cli/qemu_messages.h"
#include "src/qcow2/qcow2_check.h"

#define EXIT_OPEN_FAILED 1
#define EXIT_CORRUPT 2
#define EXIT_LEAKS 3
#define EXIT_ABORTED 134   /* 5.2's assertion (SIGABRT) */

static const char *errno_text(uint64_t e)
{
	switch (e) {
	case QCOW2_EIO: return "Input/output error";
	case QCOW2_ENOMEM: return "Cannot allocate memory";
	case QCOW2_EINVAL: return "Invalid argument";
	case QCOW2_EFBIG: return "File too large";
	default: return "Unknown error";
	}
}

/* "%#lx": 0x-prefixed lower-case hex, and a plain 0 for zero. */
static void alt_hex(struct outbuf *b, uint64_t v)
{
	if (v == 0)
		outbuf_puts(b, "0");
	else
		outbuf_printf(b, "0x%" PRIx64, v);
}

/* A snapshot's id or name as qemu-img prints it: up to its first NUL. */
static void cstr(struct outbuf *b, const uint8_t *p, uint32_t len)
{
	uint32_t n = 0;

	while (n < len && p[n] != 0)
		n++;
	qmsg_put_escaped(b, p, n);
}

static void snapshot_line(struct outbuf *b, const struct report_finding *f,
			  const uint8_t *id, const uint8_t *name)
{
	outbuf_puts(b, "ERROR snapshot ");
	cstr(b, id, f->id_len);
	outbuf_puts(b, " (");
	cstr(b, name, f->name_len);
	if (f->code == QCOW2_F_SNAP_L1_UNALIGNED) {
		outbuf_puts(b, ") l1_offset=");
		alt_hex(b, f->arg[0]);
		outbuf_puts(b, ": L1 table is not cluster aligned; snapshot table "
			       "entry corrupted\n");
	} else {
		outbuf_puts(b, ") l1_size=");
		alt_hex(b, (uint32_t)f->arg[0]);
		outbuf_puts(b, ": L1 table is too large; snapshot table entry "
			       "corrupted\n");
	}
}

static void finding(struct outbuf *b, const struct report_finding *f,
		    const uint8_t *id, const uint8_t *name)
{
	const uint64_t *a = f->arg;

	switch (f->code) {
	case QCOW2_F_EXCEEDS_EOF:
		outbuf_printf(b, "ERROR: counting reference for region exceeding the "
			      "end of the file by one cluster or more: offset 0x%" PRIx64
			      " size 0x%" PRIx64 "\n", a[0], a[1]);
		break;
	case QCOW2_F_OVERFLOW:
		outbuf_printf(b, "ERROR: overflow cluster offset=0x%" PRIx64 "\n"
			      "Use qemu-img amend to increase the refcount entry width "
			      "or qemu-img convert to create a clean copy if the image "
			      "cannot be opened for writing\n", a[0]);
		break;
	case QCOW2_F_SNAP_TOO_MANY:
		outbuf_printf(b, "qemu-img: ERROR snapshot table too large\nYou can "
			      "force-remove all %" PRIu32 " overhanging snapshots with "
			      "qemu-img check -r all\n", (uint32_t)a[0]);
		break;
	case QCOW2_F_SNAP_OFFSET_INVALID:
		outbuf_puts(b, "qemu-img: ERROR snapshot table offset invalid\n");
		break;
	case QCOW2_F_SNAP_EXTRA_TOO_BIG:
		outbuf_printf(b, "qemu-img: ERROR failed to read the snapshot table: Too "
			      "much extra metadata in snapshot table entry %" PRIu32
			      "\nYou can force-remove this extra metadata with qemu-img "
			      "check -r all\n", (uint32_t)a[0]);
		break;
	case QCOW2_F_SNAP_TABLE_TOO_BIG:
		outbuf_printf(b, "qemu-img: ERROR failed to read the snapshot table: "
			      "Snapshot table is too big\nYou can force-remove all %"
			      PRIu32 " overhanging snapshots with qemu-img check -r all\n",
			      (uint32_t)a[0]);
		break;
	case QCOW2_F_SNAP_TABLE_READ:
		outbuf_printf(b, "qemu-img: ERROR failed to read the snapshot table: "
			      "Failed to read snapshot table: %s\n", errno_text(a[0]));
		break;
	case QCOW2_F_SNAP_INCOMPLETE:
		outbuf_printf(b, "ERROR snapshot table entry %" PRIu32 " is incomplete\n",
			      (uint32_t)a[0]);
		break;
	case QCOW2_F_SNAPS_WITH_DATA_FILE:
		outbuf_printf(b, "ERROR %" PRIu32 " snapshots in image with data file\n",
			      (uint32_t)a[0]);
		break;
	case QCOW2_F_SNAP_L1_UNALIGNED:
	case QCOW2_F_SNAP_L1_TOO_LARGE:
		snapshot_line(b, f, id, name);
		break;
	case QCOW2_F_L1_IO:
		outbuf_puts(b, "ERROR: I/O error in check_refcounts_l1\n");
		break;
	case QCOW2_F_L1_RESERVED:
		outbuf_printf(b, "ERROR found L1 entry with reserved bits set: %" PRIx64 "\n", a[0]);
		break;
	case QCOW2_F_L2_TABLE_UNALIGNED:
		outbuf_printf(b, "ERROR l2_offset=%" PRIx64 ": Table is not cluster "
			      "aligned; L1 entry corrupted\n", a[0]);
		break;
	case QCOW2_F_L2_RESERVED:
		outbuf_printf(b, "ERROR found l2 entry with reserved bits set: %" PRIx64 "\n", a[0]);
		break;
	case QCOW2_F_COMPRESSED_COPIED:
		outbuf_printf(b, "ERROR: coffset=0x%" PRIx64 ": copied flag must never be "
			      "set for compressed clusters\n", a[0]);
		break;
	case QCOW2_F_COMPRESSED_DATA_FILE:
		outbuf_printf(b, "ERROR compressed cluster %" PRId32 " with data file, "
			      "entry=0x%" PRIx64 "\n", (int32_t)a[0], a[1]);
		break;
	case QCOW2_F_COMPRESSED_BITMAP:
		outbuf_printf(b, "ERROR compressed cluster %" PRId32 " with non-zero "
			      "subcluster allocation bitmap, entry=0x%" PRIx64 "\n",
			      (int32_t)a[0], a[1]);
		break;
	case QCOW2_F_SUBCLUSTER_CORRUPT:
		outbuf_printf(b, "ERROR offset=%" PRIx64 ": Allocated cluster has "
			      "corrupted subcluster allocation bitmap\n", a[0]);
		break;
	case QCOW2_F_PREALLOC_UNALIGNED:
		outbuf_printf(b, "ERROR offset=%" PRIx64 ": Preallocated cluster is not "
			      "properly aligned; L2 entry corrupted.\n", a[0]);
		break;
	case QCOW2_F_DATA_UNALIGNED:
		outbuf_printf(b, "ERROR offset=%" PRIx64 ": Data cluster is not properly "
			      "aligned; L2 entry corrupted.\n", a[0]);
		break;
	case QCOW2_F_UNALLOC_SUBCLUSTER:
		outbuf_puts(b, "ERROR: Unallocated cluster has non-zero subcluster "
			       "allocation map\n");
		break;
	case QCOW2_F_REFTABLE_RESERVED:
		outbuf_printf(b, "ERROR refcount table entry %" PRId64 " has reserved "
			      "bits set\n", (int64_t)a[0]);
		break;
	case QCOW2_F_REFBLOCK_UNALIGNED:
		outbuf_printf(b, "ERROR refcount block %" PRId64 " is not cluster aligned; "
			      "refcount table entry corrupted\n", (int64_t)a[0]);
		break;
	case QCOW2_F_REFBLOCK_OUTSIDE:
		outbuf_printf(b, "ERROR refcount block %" PRId64 " is outside image\n",
			      (int64_t)a[0]);
		break;
	case QCOW2_F_REFBLOCK_REFCOUNT:
		outbuf_printf(b, "ERROR refcount block %" PRId64 " refcount=%" PRIu64 "\n",
			      (int64_t)a[0], a[1]);
		break;
	case QCOW2_F_IMAGE_CORRUPT_REFBLOCK:
		outbuf_puts(b, "qcow2: Image is corrupt: Refblock offset ");
		alt_hex(b, a[0]);
		outbuf_puts(b, " unaligned (reftable index: ");
		alt_hex(b, a[1]);
		outbuf_puts(b, "); further non-fatal corruption events will be "
			       "suppressed\n");
		break;
	case QCOW2_F_CANT_GET_REFCOUNT:
		outbuf_printf(b, "Can't get refcount for cluster %" PRId64 ": %s\n",
			      (int64_t)a[0], errno_text(a[1]));
		break;
	case QCOW2_F_REFCOUNT_LOW:
		outbuf_printf(b, "ERROR cluster %" PRId64 " refcount=%" PRIu64
			      " reference=%" PRIu64 "\n", (int64_t)a[0], a[1], a[2]);
		break;
	case QCOW2_F_LEAK:
		outbuf_printf(b, "Leaked cluster %" PRId64 " refcount=%" PRIu64
			      " reference=%" PRIu64 "\n", (int64_t)a[0], a[1], a[2]);
		break;
	case QCOW2_F_OFLAG_L2:
		outbuf_printf(b, "ERROR OFLAG_COPIED L2 cluster: l1_index=%" PRId32
			      " l1_entry=%" PRIx64 " refcount=%" PRIu64 "\n",
			      (int32_t)a[0], a[1], a[2]);
		break;
	case QCOW2_F_OFLAG_DATA:
		outbuf_printf(b, "ERROR OFLAG_COPIED data cluster: l2_entry=%" PRIx64
			      " refcount=%" PRIu64 "\n", a[0], a[1]);
		break;
	case QCOW2_F_READ_ABORT:
		outbuf_puts(b, "qemu-img: ../../block/io.c:710: tracked_request_begin: "
			       "Assertion `bytes <= INT64_MAX && offset <= INT64_MAX - "
			       "bytes' failed.\n");
		break;
	default:   /* BITMAP_TABLE_BAD, ALLOC_FAILED, FILE_TOO_LARGE: silent */
		break;
	}
}

void check_print_findings(struct outbuf *err, const struct report_view *v)
{
	struct report_rec r;
	size_t off = 0;

	while (report_next(v, &off, &r)) {
		struct report_finding f;
		const uint8_t *id, *name;

		if (r.type != REPORT_T_FINDING)
			continue;
		report_get_finding(&r, &f, &id, &name);
		finding(err, &f, id, name);
	}
}

static void human(struct outbuf *out, const struct report_check *k)
{
	if (k->corruptions == 0 && k->leaks == 0 && k->check_errors == 0) {
		outbuf_puts(out, "No errors were found on the image.\n");
	} else {
		if (k->corruptions != 0)
			outbuf_printf(out, "\n%" PRIu64 " errors were found on the image.\n"
				      "Data may be corrupted, or further writes to the "
				      "image may corrupt it.\n", k->corruptions);
		if (k->leaks != 0)
			outbuf_printf(out, "\n%" PRIu64 " leaked clusters were found on the "
				      "image.\nThis means waste of disk space, but no harm "
				      "to data.\n", k->leaks);
		if (k->check_errors != 0)
			outbuf_printf(out, "\n%" PRIu64 " internal errors have occurred "
				      "during the check.\n", k->check_errors);
	}
	if (k->total_clusters != 0 && k->allocated_clusters != 0)
		outbuf_printf(out, "%" PRIu64 "/%" PRIu64 " = %0.2f%% allocated, %0.2f%% "
			      "fragmented, %0.2f%% compressed clusters\n",
			      k->allocated_clusters, k->total_clusters,
			      (double)k->allocated_clusters * 100.0 / (double)k->total_clusters,
			      (double)k->fragmented_clusters * 100.0 / (double)k->allocated_clusters,
			      (double)k->compressed_clusters * 100.0 / (double)k->allocated_clusters);
	if (k->image_end_offset != 0)
		outbuf_printf(out, "Image end offset: %" PRIu64 "\n", k->image_end_offset);
}

/* qemu-img's keys in its order; zero counts other than check-errors are
 * left out. */
static void json(struct outbuf *out, const struct report_check *k,
		 const char *filename)
{
	struct qjson j;

	qjson_init(&j, out);
	qjson_begin_object(&j);
#define COUNT(key, v) do { if ((v) != 0) { qjson_key(&j, key); qjson_uint(&j, v); } } while (0)
	COUNT("image-end-offset", k->image_end_offset);
	COUNT("compressed-clusters", k->compressed_clusters);
	COUNT("total-clusters", k->total_clusters);
	COUNT("corruptions", k->corruptions);
	qjson_key(&j, "check-errors");
	qjson_uint(&j, k->check_errors);
	COUNT("leaks", k->leaks);
	COUNT("allocated-clusters", k->allocated_clusters);
	qjson_key(&j, "filename");
	qjson_cstring(&j, filename);
	qjson_key(&j, "format");
	qjson_cstring(&j, "qcow2");
	COUNT("fragmented-clusters", k->fragmented_clusters);
#undef COUNT
	qjson_end_object(&j);
	qjson_finish(&j);
}

int check_print_report(struct outbuf *out, struct outbuf *err,
		       const struct report_view *v, const char *filename,
		       bool as_json, bool quiet)
{
	const struct report_check *k = &v->check;

	if (k->flags & REPORT_CHECK_ABORTED)
		return EXIT_ABORTED;
	if (k->failed_errno != 0) {
		outbuf_printf(err, "qemu-img: Check failed: %s\n",
			      errno_text(k->failed_errno));
		return EXIT_OPEN_FAILED;
	}
	if (!quiet) {
		if (as_json)
			json(out, k, filename);
		else
			human(out, k);
	}
	if (k->check_errors != 0) {
		outbuf_puts(err, "qemu-img: Check failed\n");
		return EXIT_OPEN_FAILED;
	}
	if (k->corruptions != 0)
		return EXIT_CORRUPT;
	if (k->leaks != 0)
		return EXIT_LEAKS;
	return 0;
}
