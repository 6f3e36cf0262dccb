/*
 * qemu_messages.c — qemu-img's words for open refusals, warnings and lock
 * refusals (see qemu_messages.h). The strings are what each release
 * printed on crafted images (tests/oracles/); none is taken from QEMU's
 * source.
 */
#include "src/cli/qemu_messages.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "src/cli/escape.h"
#include "src/image/image_lock.h"
#include "src/qcow2/qcow2_open.h"

void qmsg_put_escaped(struct outbuf *out, const void *s, size_t n)
{
	char small[512];
	size_t need = term_escape(s, n, small, sizeof(small));

	if (need <= sizeof(small)) {
		outbuf_put(out, small, need);
		return;
	}
	/* Long text: escape it a piece at a time (term_escape() never splits
	 * a UTF-8 sequence across pieces it is given whole; pieces end at
	 * ASCII bytes or the end). */
	const unsigned char *p = s;
	size_t i = 0;
	while (i < n) {
		size_t k = n - i < 64u ? n - i : 64u;
		while (i + k < n && k < n - i && (p[i + k] & 0xc0u) == 0x80u)
			k++;
		size_t w = term_escape((const char *)p + i, k, small, sizeof(small));
		outbuf_put(out, small, w < sizeof(small) ? w : sizeof(small));
		i += k;
	}
}

void qmsg_could_not_open(struct outbuf *out, const char *arg,
			 const char *reason)
{
	outbuf_puts(out, "qemu-img: Could not open '");
	qmsg_put_escaped(out, arg, strlen(arg));
	outbuf_puts(out, "': ");
	outbuf_puts(out, reason);
	outbuf_puts(out, "\n");
}

void qmsg_lock_error(struct outbuf *out, const char *arg, int perm)
{
	const char *what = perm == QEMU_PERM_WRITE    ? "Failed to get shared \"write\" lock"
			   : perm == QEMU_PERM_RESIZE ? "Failed to get shared \"resize\" lock"
						      : "Failed to get \"consistent read\" lock";

	qmsg_could_not_open(out, arg, what);
	outbuf_puts(out, "Is another process using the image [");
	qmsg_put_escaped(out, arg, strlen(arg));
	outbuf_puts(out, "]?\n");
}

/* Constant reasons, by code (NULL: the code needs numbers or text). */
static const char *const plain[QOPEN_ERROR_COUNT_] = {
	[QOPEN_NOT_QCOW2] = "Image is not in qcow2 format",
	[QOPEN_HEADER_SHORT] = "qcow2 header too short",
	[QOPEN_HEADER_EXCEEDS] = "qcow2 header exceeds cluster size",
	[QOPEN_BACKING_OFFSET] = "Invalid backing file offset",
	[QOPEN_COMPRESSION_BIT_SET] = "qcow2: Compression type incompatible feature bit must not be set",
	[QOPEN_COMPRESSION_BIT_CLEAR] = "qcow2: Compression type incompatible feature bit must be set",
	[QOPEN_REFCOUNT_ORDER] = "Reference count entry width too large; may not exceed 64 bits",
	[QOPEN_NO_REFTABLE] = "Image does not contain a reference count table",
	[QOPEN_REFTABLE_TOO_LARGE] = "Reference count table too large",
	[QOPEN_REFTABLE_OFFSET] = "Reference count table offset invalid",
	[QOPEN_SNAPTABLE_TOO_LARGE] = "Snapshot table too large",
	[QOPEN_SNAPTABLE_OFFSET] = "Snapshot table offset invalid",
	[QOPEN_L1_TOO_LARGE] = "Active L1 table too large",
	[QOPEN_L1_OFFSET] = "Active L1 table offset invalid",
	[QOPEN_TOO_BIG] = "Image is too big",
	[QOPEN_L1_TOO_SMALL] = "L1 table is too small",
	[QOPEN_L1_READ] = "Could not read L1 table: Input/output error",
	[QOPEN_REFCOUNT_INIT] = "Could not initialize refcount handling: Input/output error",
	[QOPEN_EXT_TOO_LARGE] = "Header extension too large",
	[QOPEN_CRYPTO_NOT_LUKS] = "CRYPTO header extension only expected with LUKS encryption method",
	[QOPEN_BITMAPS_ZERO] = "found bitmaps extension with zero bitmaps",
	[QOPEN_BITMAPS_DIR_OFFSET] = "bitmaps_ext: invalid bitmap directory offset",
	[QOPEN_DATA_FILE_REQUIRED] = "'data-file' is required for this image",
	[QOPEN_DATA_FILE_RAW] = "data-file-raw requires a data file",
	[QOPEN_DATA_FILE_EMPTY] = "The 'file' block driver requires a file name",
	[QOPEN_LUKS_NO_EXT] = "Missing CRYPTO header for crypt method 2",
	[QOPEN_BACKING_TOO_LONG] = "Backing file name too long",
	[QOPEN_SNAP_READ] = "Failed to read snapshot table: Input/output error",
	[QOPEN_BM_DIR_ZERO] = "Requested bitmap directory size is zero",
	[QOPEN_BM_DIR_BROKEN] = "Broken bitmap directory",
	[QOPEN_BM_MORE] = "More bitmaps found than specified in header extension",
	[QOPEN_BM_EXTRA] = "Bitmap extra data is not supported",
	[QOPEN_BM_LESS] = "Less bitmaps found than specified in header extension",
	[QOPEN_SIZE_WRAP] = "Could not refresh total sector count: File too large",
	[QOPEN_BM_DIR_READ] = "Failed to read bitmap directory: Input/output error",
};

bool qmsg_is_instar_refusal(uint32_t code)
{
	return code == QOPEN_INSTAR_LUKS || code == QOPEN_INSTAR_LUKS_NO_EXT ||
	       code == QOPEN_INSTAR_ENCRYPTED_CHECK;
}

const char *qmsg_instar_refusal(uint32_t code)
{
	if (code == QOPEN_INSTAR_LUKS)
		return "'%s' is encrypted with LUKS: instar does not read LUKS "
		       "images yet (not supported)";
	if (code == QOPEN_INSTAR_ENCRYPTED_CHECK)
		return "'%s' is encrypted: instar check does not check encrypted "
		       "images yet (not supported)";
	return "'%s' says it is encrypted with LUKS but has no crypto header "
	       "extension (this qemu-img release crashes on it): refused";
}

/* The text of a message that names text from the image: "PRE" text
 * "POST". */
static void with_text(struct outbuf *r, const char *pre, const uint8_t *text,
		      uint32_t len, const char *post)
{
	outbuf_puts(r, pre);
	qmsg_put_escaped(r, text, len);
	outbuf_puts(r, post);
}

/* The reason (and any hint lines after it) of a code with numbers or
 * text. */
static void reason_of(struct outbuf *r, const struct qemu_compat *c,
		      const struct report_message *m, const uint8_t *text)
{
	const uint64_t *a = m->arg;

	switch (m->code) {
	case QOPEN_VERSION:
		outbuf_printf(r, "Unsupported qcow2 version %" PRIu32, (uint32_t)a[0]);
		break;
	case QOPEN_CLUSTER_BITS:
		outbuf_printf(r, "Unsupported cluster size: 2^%" PRIu32, (uint32_t)a[0]);
		break;
	case QOPEN_COMPRESSION_UNKNOWN:
		outbuf_printf(r, "qcow2: unknown compression type: %" PRIu32, (uint32_t)a[0]);
		break;
	case QOPEN_FEATURES:
		with_text(r, "Unsupported qcow2 feature(s): ", text, m->str_len, "");
		break;
	case QOPEN_SUBCLUSTER:
		outbuf_printf(r, "Unsupported subcluster size: %" PRIu64, a[0]);
		break;
	case QOPEN_CRYPT_METHOD:
		outbuf_printf(r, "Unsupported encryption method %" PRIu32, (uint32_t)a[0]);
		break;
	case QOPEN_BACKING_FMT_LEN:
		outbuf_printf(r, "ERROR: ext_backing_format: len=%" PRIu32 " too large (>=16)",
			      (uint32_t)a[0]);
		break;
	case QOPEN_CRYPTO_EXT_SIZE:
		outbuf_printf(r, "CRYPTO header extension size %" PRIu32 ", but expected size 16",
			      (uint32_t)a[0]);
		break;
	case QOPEN_CRYPTO_OFFSET:
		outbuf_printf(r, "Encryption header offset '%" PRIu64
			      "' is not a multiple of cluster size '%" PRIu64 "'", a[0], a[1]);
		break;
	case QOPEN_BITMAPS_EXT_LEN:
		outbuf_puts(r, "bitmaps_ext: Invalid extension length");
		if (c->stale_errno_suffix)
			outbuf_puts(r, ": Unknown error -8");
		break;
	case QOPEN_BITMAPS_RESERVED:
		outbuf_puts(r, "bitmaps_ext: Reserved field is not zero");
		if (c->stale_errno_suffix)
			outbuf_puts(r, ": Unknown error -24");
		break;
	case QOPEN_BITMAPS_TOO_MANY:
		outbuf_printf(r, "bitmaps_ext: Image has %" PRIu32
			      " bitmaps, exceeding the QEMU supported maximum of 65535",
			      (uint32_t)a[0]);
		break;
	case QOPEN_BITMAPS_DIR_SIZE:
		outbuf_printf(r, "bitmaps_ext: bitmap directory size (%" PRIu64
			      ") exceeds the maximum supported size (67107840)", a[0]);
		break;
	case QOPEN_SNAP_EXTRA:
		outbuf_printf(r, "Too much extra metadata in snapshot table entry %" PRIu32
			      "\nYou can force-remove this extra metadata with qemu-img check -r all",
			      (uint32_t)a[0]);
		break;
	case QOPEN_SNAP_TOO_BIG:
		outbuf_printf(r, "Snapshot table is too big\nYou can force-remove all %" PRIu32
			      " overhanging snapshots with qemu-img check -r all",
			      (uint32_t)a[0]);
		break;
	case QOPEN_BM_CONSTRAINTS:
		with_text(r, "Bitmap '", text, m->str_len, "' doesn't satisfy the constraints");
		break;
	case QOPEN_BM_EXISTS:
		with_text(r, "Bitmap already exists: ", text, m->str_len, "");
		break;
	case QOPEN_BM_TABLE:
		with_text(r, "Could not read bitmap_table table from image for bitmap '",
			  text, m->str_len, "': Invalid argument");
		break;
	case QOPEN_BM_DATA:
		with_text(r, "Could not read bitmap '", text, m->str_len,
			  "' from image: Invalid argument");
		break;
	default:
		outbuf_puts(r, m->code < QOPEN_ERROR_COUNT_ && plain[m->code] != NULL
				       ? plain[m->code] : "Invalid argument");
		break;
	}
}

int qmsg_open_error(struct outbuf *out, const struct qemu_compat *c,
		    const char *arg, const struct report_message *m,
		    const uint8_t *text)
{
	if (m->code == QOPEN_READ_ABORT) {
		outbuf_puts(out, "qemu-img: ../../block/io.c:710: tracked_request_begin: "
				 "Assertion `bytes <= INT64_MAX && offset <= INT64_MAX - bytes' failed.\n");
		return 134;
	}
	if (m->code == QOPEN_SIZE_WRAP && !c->size_wrap_in_open) {
		/* 5.2 failed later, outside the open. */
		outbuf_puts(out, "qemu-img: Can't get image size '");
		qmsg_put_escaped(out, arg, strlen(arg));
		outbuf_puts(out, "': File too large\n");
		return 1;
	}
	outbuf_puts(out, "qemu-img: Could not open '");
	qmsg_put_escaped(out, arg, strlen(arg));
	outbuf_puts(out, "': ");
	reason_of(out, c, m, text);
	outbuf_puts(out, "\n");
	return 1;
}

void qmsg_open_warning(struct outbuf *out, uint32_t code)
{
	if (code == QWARN_BITMAPS_V2)
		outbuf_puts(out, "qemu-img: warning: This qcow2 v2 image contains bitmaps, "
				 "but they may have been modified by a program without "
				 "persistent bitmap support; so now they must all be "
				 "considered inconsistent\n");
	else
		outbuf_puts(out, "qemu-img: warning: a program lacking bitmap support "
				 "modified this file, so all bitmaps are now considered "
				 "inconsistent\n");
	outbuf_puts(out, "Some clusters may be leaked, run 'qemu-img check -r' on "
			 "the image file to fix.");
}
