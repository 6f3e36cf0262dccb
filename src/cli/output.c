/*
 * output.c — message and JSON printing (see output.h).
 */
#include "src/cli/output.h"

#include <string.h>

void msg_print(FILE *out, const char *msg, const char *a1, size_t a1_len,
	       const char *a2)
{
	char line[2048];
	size_t n = 0;
	int arg = 0;

	/* Build the whole line, then write it at once: stderr is
	 * unbuffered, and lines of two processes must not interleave. */
#define PUT(p, len)                                                   \
	do {                                                          \
		size_t l_ = (len);                                    \
		if (l_ > sizeof(line) - 1 - n)                        \
			l_ = sizeof(line) - 1 - n;                    \
		memcpy(line + n, (p), l_);                            \
		n += l_;                                              \
	} while (0)
	PUT("instar amend: ", 14);
	while (*msg) {
		if (msg[0] == '%' && msg[1] == 's') {
			if (arg == 0 && a1 != NULL)
				PUT(a1, a1_len);
			else if (arg == 1 && a2 != NULL)
				PUT(a2, strlen(a2));
			arg++;
			msg += 2;
			continue;
		}
		PUT(msg, 1);
		msg++;
	}
#undef PUT
	line[n++] = '\n';
	fwrite(line, 1, n, out);
	fflush(out);
}

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

void json_string(FILE *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', out);
	while (*p) {
		size_t n;

		switch (*p) {
		case '"':  fputs("\\\"", out); p++; continue;
		case '\\': fputs("\\\\", out); p++; continue;
		case '\b': fputs("\\b", out); p++; continue;
		case '\f': fputs("\\f", out); p++; continue;
		case '\n': fputs("\\n", out); p++; continue;
		case '\r': fputs("\\r", out); p++; continue;
		case '\t': fputs("\\t", out); p++; continue;
		default:
			break;
		}
		if (*p < 0x20 || *p == 0x7f) {
			fputs("\\u00", out);
			fputc(hex[*p >> 4], out);
			fputc(hex[*p & 0xf], out);
			p++;
			continue;
		}
		n = utf8_len(p);
		if (n == 0) {
			/* Not UTF-8 (file names are bytes): keep the JSON
			 * valid with U+FFFD for each such byte. */
			fputs("\\ufffd", out);
			p++;
			continue;
		}
		fwrite(p, 1, n, out);
		p += n;
	}
	fputc('"', out);
}

void print_json_result(FILE *out, const char *filename, bool amended,
		       unsigned version, bool lazy)
{
	fputs("{\n  \"filename\": ", out);
	json_string(out, filename);
	fputs(",\n  \"format\": \"qcow2\",\n", out);
	fprintf(out, "  \"action\": \"%s\",\n", amended ? "amended" : "noop");
	fprintf(out, "  \"compat\": \"%s\",\n", version == 3 ? "1.1" : "0.10");
	fprintf(out, "  \"lazy_refcounts\": \"%s\"\n}\n", lazy ? "on" : "off");
}
