/*
 * outbuf.h — a growable byte buffer the report printers write into, so
 * that a report reaches stdout (or stderr) in one piece, and only once it
 * is complete. Trust: none needed; the bytes appended are the printers'.
 */
#ifndef INSTAR_OUTBUF_H
#define INSTAR_OUTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct outbuf {
	char *p;
	size_t len;
	size_t cap;
	bool failed;               /* an allocation failed: the text is cut */
};

void outbuf_init(struct outbuf *b);
void outbuf_free(struct outbuf *b);

/* Append bytes / a C string / a printf-style text. After a failure
 * nothing more is appended and `failed` stays set. */
void outbuf_put(struct outbuf *b, const char *s, size_t n);
void outbuf_puts(struct outbuf *b, const char *s);
void outbuf_printf(struct outbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Write it all to `out` and flush; false on a write error or if the
 * buffer had failed. */
bool outbuf_write(const struct outbuf *b, FILE *out);

#ifdef __cplusplus
}
#endif

#endif
