/*
 * outbuf.c — the growable output buffer (see outbuf.h).
 */
#include "src/cli/outbuf.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void outbuf_init(struct outbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void outbuf_free(struct outbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static bool reserve(struct outbuf *b, size_t n)
{
	size_t want;

	if (b->failed)
		return false;
	if (n <= b->cap - b->len)
		return true;
	if (__builtin_add_overflow(b->len, n, &want)) {
		b->failed = true;
		return false;
	}
	size_t cap = b->cap != 0 ? b->cap : 4096u;
	while (cap < want) {
		if (__builtin_mul_overflow(cap, (size_t)2, &cap)) {
			b->failed = true;
			return false;
		}
	}
	/* Not realloc(): growing a large (mmap'd) block would call mremap,
	 * which the seccomp policy does not allow (seccomp/policy.txt). */
	char *p = malloc(cap);
	if (p == NULL) {
		b->failed = true;
		return false;
	}
	if (b->len != 0)
		memcpy(p, b->p, b->len);
	free(b->p);
	b->p = p;
	b->cap = cap;
	return true;
}

void outbuf_put(struct outbuf *b, const char *s, size_t n)
{
	if (n == 0 || !reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

void outbuf_puts(struct outbuf *b, const char *s)
{
	outbuf_put(b, s, strlen(s));
}

void outbuf_printf(struct outbuf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		outbuf_put(b, small, (size_t)n);
		return;
	}
	if (!reserve(b, (size_t)n + 1u))
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, (size_t)n + 1u, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	b->len += (size_t)n;
}

bool outbuf_write(const struct outbuf *b, FILE *out)
{
	if (b->failed)
		return false;
	if (b->len != 0 && fwrite(b->p, 1, b->len, out) != b->len)
		return false;
	return fflush(out) == 0 && !ferror(out);
}
