/*
 * info_print.c — `instar info`'s report (see info_print.h). The lines,
 * keys, their order and every release's differences were learned by
 * running qemu-img 5.2, 7.2, 10.0 and 11.1 (docs/info.md); the JSON key
 * orders are QEMU's dictionary order, written out here as lists.
 */
#define _POSIX_C_SOURCE 200809L
#include "src/cli/info_print.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "src/cli/qemu_json.h"
#include "src/cli/qemu_messages.h"
#include "src/cli/qemu_size.h"
#include "src/qcow2/qcow2_format.h"

/* QEMU keeps a snapshot's id and name in fixed arrays: 127 and 255 bytes
 * at most, up to the first NUL. */
#define SNAP_ID_MAX 127u
#define SNAP_NAME_MAX 255u

#define BITMAP_IN_USE 1u
#define BITMAP_AUTO 2u

/* A string of the report: bytes up to the first NUL, at most `max`. */
struct text {
	const uint8_t *p;
	uint32_t len;
};

static struct text text_of(const uint8_t *p, uint32_t len, uint32_t max)
{
	struct text t = { p, 0 };

	while (t.len < len && t.len < max && p[t.len] != 0)
		t.len++;
	return t;
}

/* What the report says, gathered. */
struct qinfo {
	const struct report_image *im;
	bool has_backing;
	struct text backing;
	struct text backing_fmt;
	bool has_data_file;
	struct text data_file;
};

static void gather(const struct report_view *v, struct qinfo *q)
{
	struct report_rec r;
	size_t off = 0;

	memset(q, 0, sizeof(*q));
	q->im = &v->image;
	while (report_next(v, &off, &r)) {
		struct report_name n;
		const uint8_t *b;

		if (r.type != REPORT_T_NAME)
			continue;
		report_get_name(&r, &n, &b);
		struct text t = text_of(b, n.len, n.len);
		if (n.kind == REPORT_NAME_BACKING_FILE) {
			q->has_backing = t.len != 0;
			q->backing = t;
		} else if (n.kind == REPORT_NAME_BACKING_FORMAT) {
			q->backing_fmt = t;
		} else {
			q->has_data_file = true;
			q->data_file = t;
		}
	}
}

static uint64_t virtual_size(const struct info_facts *f)
{
	if (f->qcow2)
		return f->v->image.size & ~(uint64_t)511u;
	/* raw: the file's length, rounded up to whole sectors */
	return (f->file_bytes + 511u) & ~(uint64_t)511u;
}

static uint64_t file_length(const struct info_facts *f)
{
	return (f->file_bytes + 511u) & ~(uint64_t)511u;
}

/* The backing file as QEMU would open it: an absolute name, or one with
 * a protocol prefix, as is; else beside the image (no normalisation). */
static void actual_path(struct outbuf *out, const char *image,
			struct text backing)
{
	const char *slash = strrchr(image, '/');
	uint32_t i;

	for (i = 0; i < backing.len && backing.p[i] != '/'; i++) {
		if (backing.p[i] == ':')
			break;
	}
	if ((backing.len != 0 && backing.p[0] == '/') ||
	    (i < backing.len && backing.p[i] == ':') || slash == NULL) {
		outbuf_put(out, (const char *)backing.p, backing.len);
		return;
	}
	outbuf_put(out, image, (size_t)(slash - image) + 1u);
	outbuf_put(out, (const char *)backing.p, backing.len);
}

static bool encrypted(const struct info_facts *f)
{
	return f->qcow2 && f->v->image.crypt_method != 0;
}

static bool is_v3(const struct info_facts *f)
{
	return f->v->image.version >= 3;
}

static void put_size_line(struct outbuf *out, const char *label, uint64_t v,
			  bool with_bytes)
{
	char s[QEMU_SIZE_BUF];

	qemu_size_str(v, s);
	if (with_bytes)
		outbuf_printf(out, "%s: %s (%" PRId64 " bytes)\n", label, s, (int64_t)v);
	else
		outbuf_printf(out, "%s: %s\n", label, s);
}

/* --- the human snapshot table --------------------------------------- */

/* A cell padded to `width`: left-aligned (width > 0) or right-aligned. */
static void cell(struct outbuf *out, const char *s, size_t n, int width)
{
	size_t w = (size_t)(width < 0 ? -width : width);
	size_t pad = n < w ? w - n : 0;

	if (width < 0)
		for (size_t i = 0; i < pad; i++)
			outbuf_put(out, " ", 1);
	outbuf_put(out, s, n);
	if (width > 0)
		for (size_t i = 0; i < pad; i++)
			outbuf_put(out, " ", 1);
}

/* A text cell with its terminal controls escaped, then padded. */
static void text_cell(struct outbuf *out, struct text t, int width)
{
	struct outbuf tmp;

	outbuf_init(&tmp);
	qmsg_put_escaped(&tmp, t.p, t.len);
	if (tmp.failed)
		out->failed = true;
	else
		cell(out, tmp.len != 0 ? tmp.p : "", tmp.len, width);
	outbuf_free(&tmp);
}

static void snapshot_header(struct outbuf *out, const struct qemu_compat *c)
{
	if (c->snapshots == QEMU_SNAPSHOTS_100)
		outbuf_puts(out, "ID      TAG               VM_SIZE                DATE"
				 "        VM_CLOCK     ICOUNT\n");
	else
		outbuf_puts(out, "ID        TAG               VM SIZE                DATE"
				 "     VM CLOCK     ICOUNT\n");
}

static void snapshot_row(struct outbuf *out, const struct qemu_compat *c,
			 const struct report_snapshot *s, struct text id,
			 struct text name)
{
	char size[QEMU_SIZE_BUF], date[32], clock[64], icount[32];
	time_t t = (time_t)s->date_sec;
	struct tm tm;
	uint64_t secs = s->vm_clock_nsec / 1000000000u;
	bool v100 = c->snapshots == QEMU_SNAPSHOTS_100;

	qemu_size_str(s->vm_state_size, size);
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm) == 0)
		date[0] = '\0';
	(void)snprintf(clock, sizeof(clock),
		       v100 ? "%04d:%02d:%02d.%03d" : "%02d:%02d:%02d.%03d",
		       (int)(secs / 3600u), (int)((secs / 60u) % 60u),
		       (int)(secs % 60u),
		       (int)((s->vm_clock_nsec / 1000000u) % 1000u));
	if (s->icount != UINT64_MAX)
		(void)snprintf(icount, sizeof(icount), "%" PRId64, (int64_t)s->icount);
	else
		(void)snprintf(icount, sizeof(icount), "%s", v100 ? "--" : "");

	switch (c->snapshots) {
	case QEMU_SNAPSHOTS_52:
		text_cell(out, id, 9);
		outbuf_put(out, " ", 1);
		text_cell(out, name, 17);
		outbuf_put(out, " ", 1);
		cell(out, size, strlen(size), -7);
		cell(out, date, strlen(date), -20);
		cell(out, clock, strlen(clock), -13);
		cell(out, icount, strlen(icount), -11);
		break;
	case QEMU_SNAPSHOTS_72:
		text_cell(out, id, 9);
		outbuf_put(out, " ", 1);
		text_cell(out, name, 16);
		outbuf_put(out, " ", 1);
		cell(out, size, strlen(size), -8);
		cell(out, date, strlen(date), -20);
		cell(out, clock, strlen(clock), -13);
		cell(out, icount, strlen(icount), -11);
		break;
	default:
		text_cell(out, id, 7);
		outbuf_put(out, " ", 1);
		text_cell(out, name, 16);
		outbuf_put(out, " ", 1);
		cell(out, size, strlen(size), -8);
		outbuf_put(out, " ", 1);
		cell(out, date, strlen(date), -19);
		outbuf_put(out, " ", 1);
		cell(out, clock, strlen(clock), -15);
		outbuf_put(out, " ", 1);
		cell(out, icount, strlen(icount), -10);
		break;
	}
	outbuf_put(out, "\n", 1);
}

static void human_snapshots(struct outbuf *out, const struct info_facts *f,
			    const struct qemu_compat *c)
{
	struct report_rec r;
	size_t off = 0;

	if (f->v->snapshots == 0)
		return;
	outbuf_puts(out, "Snapshot list:\n");
	snapshot_header(out, c);
	while (report_next(f->v, &off, &r)) {
		struct report_snapshot s;
		const uint8_t *id, *name;

		if (r.type != REPORT_T_SNAPSHOT)
			continue;
		report_get_snapshot(&r, &s, &id, &name);
		snapshot_row(out, c, &s, text_of(id, s.id_len, SNAP_ID_MAX),
			     text_of(name, s.name_len, SNAP_NAME_MAX));
	}
}

/* --- the human format-specific block -------------------------------- */

static void human_bitmaps(struct outbuf *out, const struct info_facts *f)
{
	struct report_rec r;
	size_t off = 0;
	uint32_t k = 0;

	outbuf_puts(out, "    bitmaps:\n");
	while (report_next(f->v, &off, &r)) {
		struct report_bitmap b;
		const uint8_t *name;
		uint32_t j = 0;

		if (r.type != REPORT_T_BITMAP)
			continue;
		report_get_bitmap(&r, &b, &name);
		outbuf_printf(out, "        [%" PRIu32 "]:\n", k++);
		outbuf_puts(out, "            flags:\n");
		if (b.flags & BITMAP_IN_USE)
			outbuf_printf(out, "                [%" PRIu32 "]: in-use\n", j++);
		if (b.flags & BITMAP_AUTO)
			outbuf_printf(out, "                [%" PRIu32 "]: auto\n", j++);
		outbuf_puts(out, "            name: ");
		struct text t = text_of(name, b.name_len, b.name_len);
		qmsg_put_escaped(out, t.p, t.len);
		outbuf_printf(out, "\n            granularity: %" PRIu64 "\n",
			      (uint64_t)1 << b.granularity_bits);
	}
}

static void human_specific(struct outbuf *out, const struct info_facts *f,
			   const struct qinfo *q)
{
	const struct report_image *im = q->im;

	outbuf_puts(out, "Format specific information:\n");
	outbuf_printf(out, "    compat: %s\n", is_v3(f) ? "1.1" : "0.10");
	outbuf_printf(out, "    compression type: %s\n",
		      im->compression_type == QCOW2_COMPRESSION_ZSTD ? "zstd" : "zlib");
	if (is_v3(f))
		outbuf_printf(out, "    lazy refcounts: %s\n",
			      (im->compat & QCOW2_COMPAT_LAZY_REFCOUNTS) ? "true" : "false");
	if (is_v3(f) && f->v->bitmaps != 0)
		human_bitmaps(out, f);
	outbuf_printf(out, "    refcount bits: %" PRIu64 "\n",
		      (uint64_t)1 << im->refcount_order);
	if (is_v3(f) && q->has_data_file) {
		outbuf_puts(out, "    data file: ");
		qmsg_put_escaped(out, q->data_file.p, q->data_file.len);
		outbuf_puts(out, "\n");
	}
	if (encrypted(f))
		outbuf_puts(out, "    encrypt:\n        format: aes\n");
	if (!is_v3(f))
		return;
	if (im->incompat & QCOW2_INCOMPAT_EXTERNAL_DATA)
		outbuf_printf(out, "    data file raw: %s\n",
			      (im->autoclear & QCOW2_AUTOCLEAR_DATA_RAW) ? "true" : "false");
	outbuf_printf(out, "    corrupt: %s\n",
		      (im->incompat & QCOW2_INCOMPAT_CORRUPT) ? "true" : "false");
	outbuf_printf(out, "    extended l2: %s\n",
		      (im->incompat & QCOW2_INCOMPAT_EXTENDED_L2) ? "true" : "false");
}

static void human_child(struct outbuf *out, const struct info_facts *f)
{
	outbuf_puts(out, "Child node '/file':\n    filename: ");
	qmsg_put_escaped(out, f->filename, strlen(f->filename));
	outbuf_printf(out, "\n    protocol type: %s\n",
		      f->block_device ? "host_device" : "file");
	put_size_line(out, "    file length", file_length(f), true);
	put_size_line(out, "    disk size", f->actual_size, false);
}

void info_print_human(struct outbuf *out, const struct info_facts *f,
		      const struct qemu_compat *c)
{
	struct qinfo q;

	outbuf_puts(out, "image: ");
	qmsg_put_escaped(out, f->filename, strlen(f->filename));
	outbuf_printf(out, "\nfile format: %s\n", f->qcow2 ? "qcow2" : "raw");
	put_size_line(out, "virtual size", virtual_size(f), true);
	put_size_line(out, "disk size", f->actual_size, false);
	if (f->qcow2) {
		gather(f->v, &q);
		if (encrypted(f))
			outbuf_puts(out, "encrypted: yes\n");
		outbuf_printf(out, "cluster_size: %" PRIu64 "\n",
			      (uint64_t)1 << q.im->cluster_bits);
		if (c->dirty_flag && (q.im->incompat & QCOW2_INCOMPAT_DIRTY))
			outbuf_puts(out, "cleanly shut down: no\n");
		if (q.has_backing) {
			struct outbuf ap;

			outbuf_puts(out, "backing file: ");
			qmsg_put_escaped(out, q.backing.p, q.backing.len);
			outbuf_init(&ap);
			actual_path(&ap, f->filename, q.backing);
			if (ap.failed)
				out->failed = true;
			else if (ap.len != q.backing.len ||
				 memcmp(ap.p, q.backing.p, ap.len) != 0) {
				outbuf_puts(out, " (actual path: ");
				qmsg_put_escaped(out, ap.p, ap.len);
				outbuf_puts(out, ")");
			}
			outbuf_free(&ap);
			outbuf_puts(out, "\n");
			if (q.backing_fmt.len != 0) {
				outbuf_puts(out, "backing file format: ");
				qmsg_put_escaped(out, q.backing_fmt.p, q.backing_fmt.len);
				outbuf_puts(out, "\n");
			}
		}
		human_snapshots(out, f, c);
		human_specific(out, f, &q);
	}
	if (c->child_node)
		human_child(out, f);
}

/* --- JSON ---------------------------------------------------------------- */

static void json_child(struct qjson *j, const struct info_facts *f)
{
	qjson_key(j, "children");
	qjson_begin_array(j);
	qjson_begin_object(j);
	qjson_key(j, "name");
	qjson_cstring(j, "file");
	qjson_key(j, "info");
	qjson_begin_object(j);
	qjson_key(j, "children");
	qjson_begin_array(j);
	qjson_end_array(j);
	qjson_key(j, "virtual-size");
	qjson_int(j, (int64_t)file_length(f));
	qjson_key(j, "filename");
	qjson_cstring(j, f->filename);
	qjson_key(j, "format");
	qjson_cstring(j, f->block_device ? "host_device" : "file");
	qjson_key(j, "actual-size");
	qjson_int(j, (int64_t)f->actual_size);
	qjson_key(j, "format-specific");
	qjson_begin_object(j);
	qjson_key(j, "type");
	qjson_cstring(j, f->block_device ? "host_device" : "file");
	qjson_key(j, "data");
	qjson_begin_object(j);
	qjson_end_object(j);
	qjson_end_object(j);
	qjson_key(j, "dirty-flag");
	qjson_bool(j, false);
	qjson_end_object(j);
	qjson_end_object(j);
	qjson_end_array(j);
}

static void json_snapshots(struct qjson *j, const struct info_facts *f)
{
	struct report_rec r;
	size_t off = 0;

	qjson_key(j, "snapshots");
	qjson_begin_array(j);
	while (report_next(f->v, &off, &r)) {
		struct report_snapshot s;
		const uint8_t *id, *name;

		if (r.type != REPORT_T_SNAPSHOT)
			continue;
		report_get_snapshot(&r, &s, &id, &name);
		struct text ti = text_of(id, s.id_len, SNAP_ID_MAX);
		struct text tn = text_of(name, s.name_len, SNAP_NAME_MAX);
		qjson_begin_object(j);
		if (s.icount != UINT64_MAX) {
			qjson_key(j, "icount");
			qjson_int(j, (int64_t)s.icount);
		}
		qjson_key(j, "vm-clock-nsec");
		qjson_int(j, (int64_t)(s.vm_clock_nsec % 1000000000u));
		qjson_key(j, "name");
		qjson_string(j, (const char *)tn.p, tn.len);
		qjson_key(j, "date-sec");
		qjson_int(j, (int64_t)s.date_sec);
		qjson_key(j, "date-nsec");
		qjson_int(j, (int64_t)s.date_nsec);
		qjson_key(j, "vm-clock-sec");
		qjson_int(j, (int64_t)(s.vm_clock_nsec / 1000000000u));
		qjson_key(j, "id");
		qjson_string(j, (const char *)ti.p, ti.len);
		qjson_key(j, "vm-state-size");
		qjson_int(j, (int64_t)s.vm_state_size);
		qjson_end_object(j);
	}
	qjson_end_array(j);
}

static void json_bitmaps(struct qjson *j, const struct info_facts *f)
{
	struct report_rec r;
	size_t off = 0;

	qjson_key(j, "bitmaps");
	qjson_begin_array(j);
	while (report_next(f->v, &off, &r)) {
		struct report_bitmap b;
		const uint8_t *name;

		if (r.type != REPORT_T_BITMAP)
			continue;
		report_get_bitmap(&r, &b, &name);
		struct text t = text_of(name, b.name_len, b.name_len);
		qjson_begin_object(j);
		qjson_key(j, "flags");
		qjson_begin_array(j);
		if (b.flags & BITMAP_IN_USE)
			qjson_cstring(j, "in-use");
		if (b.flags & BITMAP_AUTO)
			qjson_cstring(j, "auto");
		qjson_end_array(j);
		qjson_key(j, "name");
		qjson_string(j, (const char *)t.p, t.len);
		qjson_key(j, "granularity");
		qjson_int(j, (int64_t)((uint64_t)1 << b.granularity_bits));
		qjson_end_object(j);
	}
	qjson_end_array(j);
}

static void json_specific(struct qjson *j, const struct info_facts *f,
			  const struct qinfo *q)
{
	const struct report_image *im = q->im;

	qjson_key(j, "format-specific");
	qjson_begin_object(j);
	qjson_key(j, "type");
	qjson_cstring(j, "qcow2");
	qjson_key(j, "data");
	qjson_begin_object(j);
	qjson_key(j, "compat");
	qjson_cstring(j, is_v3(f) ? "1.1" : "0.10");
	qjson_key(j, "compression-type");
	qjson_cstring(j, im->compression_type == QCOW2_COMPRESSION_ZSTD ? "zstd" : "zlib");
	if (is_v3(f)) {
		qjson_key(j, "lazy-refcounts");
		qjson_bool(j, (im->compat & QCOW2_COMPAT_LAZY_REFCOUNTS) != 0);
		if (f->v->bitmaps != 0)
			json_bitmaps(j, f);
	}
	qjson_key(j, "refcount-bits");
	qjson_int(j, (int64_t)((uint64_t)1 << im->refcount_order));
	if (is_v3(f) && q->has_data_file) {
		qjson_key(j, "data-file");
		qjson_string(j, (const char *)q->data_file.p, q->data_file.len);
	}
	if (encrypted(f)) {
		qjson_key(j, "encrypt");
		qjson_begin_object(j);
		qjson_key(j, "format");
		qjson_cstring(j, "aes");
		qjson_end_object(j);
	}
	if (is_v3(f)) {
		if (im->incompat & QCOW2_INCOMPAT_EXTERNAL_DATA) {
			qjson_key(j, "data-file-raw");
			qjson_bool(j, (im->autoclear & QCOW2_AUTOCLEAR_DATA_RAW) != 0);
		}
		qjson_key(j, "corrupt");
		qjson_bool(j, (im->incompat & QCOW2_INCOMPAT_CORRUPT) != 0);
		qjson_key(j, "extended-l2");
		qjson_bool(j, (im->incompat & QCOW2_INCOMPAT_EXTENDED_L2) != 0);
	}
	qjson_end_object(j);
	qjson_end_object(j);
}

void info_print_json(struct outbuf *out, const struct info_facts *f,
		     const struct qemu_compat *c)
{
	struct qjson j;
	struct qinfo q;

	memset(&q, 0, sizeof(q));
	if (f->qcow2)
		gather(f->v, &q);
	qjson_init(&j, out);
	qjson_begin_object(&j);
	if (c->child_node)
		json_child(&j, f);
	if (q.has_backing && q.backing_fmt.len != 0) {
		qjson_key(&j, "backing-filename-format");
		qjson_string(&j, (const char *)q.backing_fmt.p, q.backing_fmt.len);
	}
	if (f->qcow2 && f->v->snapshots != 0)
		json_snapshots(&j, f);
	qjson_key(&j, "virtual-size");
	qjson_int(&j, (int64_t)virtual_size(f));
	qjson_key(&j, "filename");
	qjson_cstring(&j, f->filename);
	if (f->qcow2) {
		qjson_key(&j, "cluster-size");
		qjson_int(&j, (int64_t)((uint64_t)1 << q.im->cluster_bits));
	}
	qjson_key(&j, "format");
	qjson_cstring(&j, f->qcow2 ? "qcow2" : "raw");
	qjson_key(&j, "actual-size");
	qjson_int(&j, (int64_t)f->actual_size);
	if (f->qcow2)
		json_specific(&j, f, &q);
	if (q.has_backing) {
		struct outbuf ap;

		outbuf_init(&ap);
		actual_path(&ap, f->filename, q.backing);
		qjson_key(&j, "full-backing-filename");
		if (ap.failed)
			out->failed = true;
		else
			qjson_string(&j, ap.len != 0 ? ap.p : "", ap.len);
		outbuf_free(&ap);
	}
	if (encrypted(f)) {
		qjson_key(&j, "encrypted");
		qjson_bool(&j, true);
	}
	if (q.has_backing) {
		qjson_key(&j, "backing-filename");
		qjson_string(&j, (const char *)q.backing.p, q.backing.len);
	}
	qjson_key(&j, "dirty-flag");
	qjson_bool(&j, c->dirty_flag && f->qcow2 &&
			       (q.im->incompat & QCOW2_INCOMPAT_DIRTY) != 0);
	qjson_end_object(&j);
	qjson_finish(&j);
}
