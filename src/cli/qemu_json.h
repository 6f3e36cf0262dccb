/*
 * qemu_json.h — JSON written the way qemu-img writes it with
 * --output=json: four spaces of indentation per level, one member or
 * element a line, "key": value, an empty array or object as its opening
 * bracket, a new line, and its closing bracket at the same indentation;
 * strings cut at their first NUL and escaped as QEMU escapes them
 * (tests/oracles/FORMATS.md). Values are appended in order; the writer
 * keeps only the nesting it needs for commas and indentation.
 * Trust: strings are bytes from the image: every byte is escaped or
 * checked as UTF-8 before it is written.
 */
#ifndef INSTAR_QEMU_JSON_H
#define INSTAR_QEMU_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/cli/outbuf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QJSON_MAX_DEPTH 16

struct qjson {
	struct outbuf *out;
	unsigned depth;
	bool first[QJSON_MAX_DEPTH];   /* nothing written yet at this level */
	bool after_key;                /* a key was written; its value is next */
	bool overflow;                 /* nested deeper than QJSON_MAX_DEPTH */
};

void qjson_init(struct qjson *j, struct outbuf *out);

/* Containers; an object's members are a qjson_key() then one value. */
void qjson_begin_object(struct qjson *j);
void qjson_end_object(struct qjson *j);
void qjson_begin_array(struct qjson *j);
void qjson_end_array(struct qjson *j);
void qjson_key(struct qjson *j, const char *key);

/* Scalars. A string is s[0, len) up to its first NUL. */
void qjson_string(struct qjson *j, const char *s, size_t len);
void qjson_cstring(struct qjson *j, const char *s);
void qjson_int(struct qjson *j, int64_t v);
void qjson_uint(struct qjson *j, uint64_t v);
void qjson_bool(struct qjson *j, bool v);

/* After the outermost value: a final new line. */
void qjson_finish(struct qjson *j);

/* The escaped form of one string (without quotes) appended to `out`, as
 * qjson_string() writes it (exposed for the tests). */
void qjson_escape(struct outbuf *out, const char *s, size_t len);

#ifdef __cplusplus
}
#endif

#endif
