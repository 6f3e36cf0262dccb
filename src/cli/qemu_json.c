/*
 * qemu_json.c — the qemu-img style JSON writer (see qemu_json.h).
 *
 * Strings: QEMU decodes them as UTF-8 and writes '"' '\' and the five
 * C escapes (\b \f \n \r \t) as such, every other code point below
 * U+0020 or from U+007F up as \uXXXX (upper-case hex; a surrogate pair
 * above U+FFFF), and each byte that starts no valid sequence as \uFFFD.
 * Learned by running each qemu-img release on images whose names hold
 * such bytes (tests/oracles/).
 */
#include "src/cli/qemu_json.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void qjson_init(struct qjson *j, struct outbuf *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->first[0] = true;
}

static void indent(struct qjson *j)
{
	for (unsigned i = 0; i < j->depth; i++)
		outbuf_put(j->out, "    ", 4);
}

/* Before any value or key: the separator and indentation its place needs. */
static void before_item(struct qjson *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth == 0)
		return;
	if (!j->first[j->depth])
		outbuf_put(j->out, ",", 1);
	outbuf_put(j->out, "\n", 1);
	j->first[j->depth] = false;
	indent(j);
}

static void open_container(struct qjson *j, char c)
{
	before_item(j);
	outbuf_put(j->out, &c, 1);
	if (j->depth + 1u >= QJSON_MAX_DEPTH) {
		j->overflow = true;
		j->out->failed = true;
		return;
	}
	j->depth++;
	j->first[j->depth] = true;
}

static void close_container(struct qjson *j, char c)
{
	if (j->depth == 0) {
		j->out->failed = true;
		return;
	}
	/* Empty or not, the closing bracket is on a line of its own. */
	outbuf_put(j->out, "\n", 1);
	j->depth--;
	indent(j);
	outbuf_put(j->out, &c, 1);
}

void qjson_begin_object(struct qjson *j)
{
	open_container(j, '{');
}

void qjson_end_object(struct qjson *j)
{
	close_container(j, '}');
}

void qjson_begin_array(struct qjson *j)
{
	open_container(j, '[');
}

void qjson_end_array(struct qjson *j)
{
	close_container(j, ']');
}

void qjson_key(struct qjson *j, const char *key)
{
	before_item(j);
	outbuf_put(j->out, "\"", 1);
	qjson_escape(j->out, key, strlen(key));
	outbuf_put(j->out, "\": ", 3);
	j->after_key = true;
}

/* The code point of the (modified) UTF-8 sequence at s[0, len) and the
 * bytes it takes, as QEMU decodes its strings: -1 for an invalid one.
 * A byte that cannot start a sequence (a continuation byte, 0xfe, 0xff)
 * takes one byte; a lead byte (up to six-byte forms) without all its
 * continuation bytes takes itself and those present; a complete sequence
 * that is overlong, a surrogate, past U+10FFFF or a non-character
 * (U+FDD0..U+FDEF, U+xxFFFE, U+xxFFFF) takes all its bytes, except the
 * overlong C0 80, which is U+0000. Learned by running qemu-img on names
 * holding each case (tests/oracles/). */
static int32_t decode(const unsigned char *s, size_t len, size_t *used)
{
	static const uint32_t min_cp[7] = { 0, 0, 0x80, 0x800, 0x10000,
					    0x200000, 0x4000000 };
	unsigned c = s[0];
	size_t n, i;
	uint32_t cp;

	*used = 1;
	if (c < 0x80)
		return (int32_t)c;
	if (c >= 0xfe || !(c & 0x40))
		return -1;
	for (n = 2; n < 6 && (c & (0x80u >> n)); n++)
		;
	cp = c & (0x7fu >> n);
	for (i = 1; i < n; i++) {
		if (i >= len || (s[i] & 0xc0u) != 0x80u) {
			*used = i;
			return -1;
		}
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	*used = n;
	if (cp < min_cp[n])
		return (n == 2 && cp == 0) ? 0 : -1;
	if (cp > 0x10ffffu || (cp >= 0xd800u && cp <= 0xdfffu) ||
	    (cp >= 0xfdd0u && cp <= 0xfdefu) || (cp & 0xfffeu) == 0xfffeu)
		return -1;
	return (int32_t)cp;
}

void qjson_escape(struct outbuf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len && p[i] != 0) {
		size_t used;
		int32_t cp;
		size_t n = len - i;
		const void *nul = memchr(p + i, 0, n);

		if (nul != NULL)
			n = (size_t)((const unsigned char *)nul - (p + i));
		cp = decode(p + i, n, &used);
		i += used;
		if (cp == 0) {   /* C0 80: QEMU's modified UTF-8 NUL */
			outbuf_put(out, "\\u0000", 6);
			continue;
		}
		switch (cp) {
		case '"':  outbuf_put(out, "\\\"", 2); continue;
		case '\\': outbuf_put(out, "\\\\", 2); continue;
		case '\b': outbuf_put(out, "\\b", 2); continue;
		case '\f': outbuf_put(out, "\\f", 2); continue;
		case '\n': outbuf_put(out, "\\n", 2); continue;
		case '\r': outbuf_put(out, "\\r", 2); continue;
		case '\t': outbuf_put(out, "\\t", 2); continue;
		default:
			break;
		}
		if (cp < 0)
			cp = 0xfffd;
		if (cp > 0xffff) {
			uint32_t v = (uint32_t)cp - 0x10000u;
			outbuf_printf(out, "\\u%04X\\u%04X", 0xd800u + (v >> 10),
				      0xdc00u + (v & 0x3ffu));
		} else if (cp < 0x20 || cp >= 0x7f) {
			outbuf_printf(out, "\\u%04X", (unsigned)cp);
		} else {
			char c = (char)cp;
			outbuf_put(out, &c, 1);
		}
	}
}

void qjson_string(struct qjson *j, const char *s, size_t len)
{
	before_item(j);
	outbuf_put(j->out, "\"", 1);
	qjson_escape(j->out, s, len);
	outbuf_put(j->out, "\"", 1);
}

void qjson_cstring(struct qjson *j, const char *s)
{
	qjson_string(j, s, strlen(s));
}

void qjson_int(struct qjson *j, int64_t v)
{
	before_item(j);
	outbuf_printf(j->out, "%" PRId64, v);
}

void qjson_uint(struct qjson *j, uint64_t v)
{
	before_item(j);
	outbuf_printf(j->out, "%" PRIu64, v);
}

void qjson_bool(struct qjson *j, bool v)
{
	before_item(j);
	outbuf_puts(j->out, v ? "true" : "false");
}

void qjson_finish(struct qjson *j)
{
	if (j->depth != 0 || j->overflow)
		j->out->failed = true;
	outbuf_put(j->out, "\n", 1);
}
