/*
 * report_parse.h — the host's reading of an inspection program's report
 * (abi/report_abi.h): every record is checked before anything of it is
 * used, and the whole stream against the shape its command must have.
 *
 *   info:  OPEN_ERROR END
 *        | WARNING* IMAGE NAME* SNAPSHOT{nb_snapshots} BITMAP{nb_bitmaps} END
 *   check: WARNING* OPEN_ERROR END
 *        | WARNING* FINDING* CHECK END
 *
 * Checked: each record's length (a multiple of 8, at least its fixed
 * part, its strings inside it, at most REPORT_MAX_RECORD, inside the
 * stream), its type, every code against its table (and the number of
 * arguments that code takes), every enumerated field against its range,
 * the strings' lengths against QEMU's limits, the order above, the END
 * record's counts, check's totals against the counts of the findings that
 * raise them, and nothing after END. The image record is also held
 * against the header the host read itself (report_image_matches()).
 *
 * Pure: no I/O, no allocation; a function over a buffer and its length,
 * fuzzed (fuzz/report_parse_fuzzer.c). Trust: the bytes are the guest's,
 * hostile.
 */
#ifndef INSTAR_IMAGE_REPORT_PARSE_H
#define INSTAR_IMAGE_REPORT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/report_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

enum report_kind { REPORT_KIND_INFO = 0, REPORT_KIND_CHECK = 1 };

enum report_err {
	REPORT_OK = 0,
	REPORT_ERR_RECORD,     /* a record's length or type is malformed */
	REPORT_ERR_FIELD,      /* a field is out of its range */
	REPORT_ERR_ORDER,      /* records not in the command's order */
	REPORT_ERR_COUNT,      /* counts disagree (END, nb_snapshots, ...) */
	REPORT_ERR_NO_END,     /* the stream ends without END */
	REPORT_ERR_TRAILING,   /* bytes after END */
	REPORT_ERR_COUNT_
};

/* What a valid report holds, for the printers. Records are reached with
 * report_next() over the same buffer. */
struct report_view {
	const uint8_t *buf;
	size_t len;
	bool open_failed;              /* an OPEN_ERROR record */
	struct report_message open_error;
	bool has_image;
	struct report_image image;
	bool has_check;
	struct report_check check;
	uint32_t warnings;
	uint32_t names;
	uint32_t snapshots;
	uint32_t bitmaps;
	uint64_t findings;
};

enum report_err report_parse(const uint8_t *buf, size_t len,
			     enum report_kind kind, struct report_view *v);

/* One record of a parsed report; `p` points at its start (not aligned:
 * read it with the getters). */
struct report_rec {
	uint32_t type;
	const uint8_t *p;
	uint32_t len;
};

/* The record at *off (0 for the first), advancing *off; false after the
 * last. Only for a view report_parse() accepted. */
bool report_next(const struct report_view *v, size_t *off,
		 struct report_rec *r);

/* The fixed part of a record of the matching type, and its strings. */
void report_get_message(const struct report_rec *r, struct report_message *m,
			const uint8_t **str);
void report_get_name(const struct report_rec *r, struct report_name *n,
		     const uint8_t **bytes);
void report_get_snapshot(const struct report_rec *r, struct report_snapshot *s,
			 const uint8_t **id, const uint8_t **name);
void report_get_bitmap(const struct report_rec *r, struct report_bitmap *b,
		       const uint8_t **name);
void report_get_finding(const struct report_rec *r, struct report_finding *f,
			const uint8_t **id, const uint8_t **name);

#ifdef __cplusplus
}
#endif

#endif
