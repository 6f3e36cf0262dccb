/*
 * output.c — message and JSON printing (see output.h).
 */
#include "src/cli/output.h"

#include <string.h>

/* Length of the valid UTF-8 sequence at `p` (1..4), or 0 if the bytes
 * there are not one (overlong forms, surrogates and values past
 * U+10FFFF are invalid). */
static size_t utf8_len(const unsigned char *p)
{
	unsigned int c = p[0];
	size_t n;
	unsigned int cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)  /* also stops at the NUL */
			return 0;
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/* The same over at most `avail` bytes (0 when the sequence would run past
 * them). */
static size_t utf8_len_n(const unsigned char *p, size_t avail)
{
	unsigned char tmp[4] = { 0, 0, 0, 0 };

	for (size_t i = 0; i < avail && i < sizeof tmp; i++)
		tmp[i] = p[i];
	size_t n = utf8_len(tmp);
	return n <= avail ? n : 0;
}

/* The bytes a terminal acts on: C0 controls (ESC, BEL, CR, LF, ...), DEL,
 * and the C1 controls (CSI, OSC, ...) both as UTF-8 (U+0080..U+009F) and
 * as single bytes 0x80..0x9F outside any UTF-8 sequence (8-bit
 * terminals). Each becomes the four characters \xHH; everything else
 * (printable ASCII, other UTF-8, other bytes) is kept. */
size_t term_escape(const char *in, size_t len, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)in;
	size_t n = 0;

#define PUTC(ch) do { if (n < cap) out[n] = (char)(ch); n++; } while (0)
#define PUTX(b) do { PUTC('\\'); PUTC('x'); PUTC(hex[(b) >> 4]); \
		     PUTC(hex[(b) & 0xf]); } while (0)
	for (size_t i = 0; i < len;) {
		unsigned char c = p[i];
		size_t l = c < 0x80 ? 1 : utf8_len_n(p + i, len - i);

		if (c < 0x20 || c == 0x7f || (l == 0 && c >= 0x80 && c <= 0x9f)) {
			PUTX(c);
			i++;
		} else if (l == 2 && c == 0xc2 && p[i + 1] <= 0x9f) {
			PUTX(c);
			PUTX(p[i + 1]);
			i += 2;
		} else {
			if (l == 0)
				l = 1;
			for (size_t k = 0; k < l; k++)
				PUTC(p[i + k]);
			i += l;
		}
	}
#undef PUTX
#undef PUTC
	return n;
}

static const char *msg_command = "amend";

void msg_set_command(const char *name)
{
	msg_command = name;
}

void msg_print(FILE *out, const char *msg, const char *a1, size_t a1_len,
	       const char *a2)
{
	char line[4096];
	size_t n = 0;
	int arg = 0;

	/* Build the whole line, then write it at once: stderr is
	 * unbuffered, and lines of two processes must not interleave.
	 * Arguments (file names, argv pieces, strerror) are escaped for the
	 * terminal; the messages themselves are constant text. */
#define ROOM (sizeof(line) - 1 - n)
#define PUT(p, len)                                                   \
	do {                                                          \
		size_t l_ = (len);                                    \
		if (l_ > ROOM)                                        \
			l_ = ROOM;                                    \
		memcpy(line + n, (p), l_);                            \
		n += l_;                                              \
	} while (0)
#define PUT_ESCAPED(p, len)                                           \
	do {                                                          \
		size_t w_ = term_escape((p), (len), line + n, ROOM);  \
		n += w_ < ROOM ? w_ : ROOM;                           \
	} while (0)
	PUT("instar ", 7);
	PUT(msg_command, strlen(msg_command));
	PUT(": ", 2);
	while (*msg) {
		if (msg[0] == '%' && msg[1] == 's') {
			if (arg == 0 && a1 != NULL)
				PUT_ESCAPED(a1, a1_len);
			else if (arg == 1 && a2 != NULL)
				PUT_ESCAPED(a2, strlen(a2));
			arg++;
			msg += 2;
			continue;
		}
		PUT(msg, 1);
		msg++;
	}
#undef PUT_ESCAPED
#undef PUT
#undef ROOM
	line[n++] = '\n';
	/* A message that cannot be written (stderr closed or full) has
	 * nowhere else to go; the exit status still tells what happened. */
	(void)fwrite(line, 1, n, out);
	(void)fflush(out);
}

/* The puts below leave their failures in the stream's error indicator,
 * which is sticky: the caller checks `out` once, after the last put and
 * a fflush (amend_cmd.c's print_success), instead of after each. */
void json_string(FILE *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;

	(void)fputc('"', out);
	while (*p) {
		size_t n;

		switch (*p) {
		case '"':  (void)fputs("\\\"", out); p++; continue;
		case '\\': (void)fputs("\\\\", out); p++; continue;
		case '\b': (void)fputs("\\b", out); p++; continue;
		case '\f': (void)fputs("\\f", out); p++; continue;
		case '\n': (void)fputs("\\n", out); p++; continue;
		case '\r': (void)fputs("\\r", out); p++; continue;
		case '\t': (void)fputs("\\t", out); p++; continue;
		default:
			break;
		}
		if (*p < 0x20 || *p == 0x7f) {
			(void)fputs("\\u00", out);
			(void)fputc(hex[*p >> 4], out);
			(void)fputc(hex[*p & 0xf], out);
			p++;
			continue;
		}
		n = utf8_len(p);
		if (n == 0) {
			/* Not UTF-8 (file names are bytes): keep the JSON
			 * valid with U+FFFD for each such byte. */
			(void)fputs("\\ufffd", out);
			p++;
			continue;
		}
		(void)fwrite(p, 1, n, out);
		p += n;
	}
	(void)fputc('"', out);
}

/* As json_string: the caller checks `out` once, after a fflush. */
void print_json_result(FILE *out, const char *filename, bool amended,
		       unsigned version, bool lazy)
{
	(void)fputs("{\n  \"filename\": ", out);
	json_string(out, filename);
	(void)fputs(",\n  \"format\": \"qcow2\",\n", out);
	(void)fprintf(out, "  \"action\": \"%s\",\n", amended ? "amended" : "noop");
	(void)fprintf(out, "  \"compat\": \"%s\",\n", version == 3 ? "1.1" : "0.10");
	(void)fprintf(out, "  \"lazy_refcounts\": \"%s\"\n}\n", lazy ? "on" : "off");
}
