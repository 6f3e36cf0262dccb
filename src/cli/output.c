/*
 * output.c — message and JSON printing (see output.h).
 */
#include "src/cli/output.h"

#include <string.h>

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
