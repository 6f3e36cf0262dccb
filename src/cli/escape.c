/*
 * escape.c — terminal-safe text (see escape.h).
 */
#include "src/cli/escape.h"

/* Length of the valid UTF-8 sequence at `p` (1..4), or 0 if the bytes
 * there are not one (overlong forms, surrogates and values past
 * U+10FFFF are invalid). */
size_t utf8_len(const unsigned char *p)
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

