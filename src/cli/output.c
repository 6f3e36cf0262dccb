/*
 * output.c — message and JSON printing (see output.h).
 */
#include "src/cli/output.h"

#include <string.h>

void msg_print(FILE *out, const char *msg, const char *a1, size_t a1_len,
	       const char *a2)
{
	int n = 0;

	fputs("instar amend: ", out);
	while (*msg) {
		if (msg[0] == '%' && msg[1] == 's') {
			if (n == 0 && a1 != NULL)
				fwrite(a1, 1, a1_len, out);
			else if (n == 1 && a2 != NULL)
				fputs(a2, out);
			n++;
			msg += 2;
			continue;
		}
		fputc(*msg, out);
		msg++;
	}
	fputc('\n', out);
}

void json_string(FILE *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':  fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\b': fputs("\\b", out); break;
		case '\f': fputs("\\f", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				fputs("\\u00", out);
				fputc(hex[*p >> 4], out);
				fputc(hex[*p & 0xf], out);
			} else {
				/* Bytes >= 0x80 pass through: a UTF-8 name
				 * stays UTF-8. */
				fputc(*p, out);
			}
		}
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
