/*
 * escape.h — text from outside (file names, names from an image) made safe
 * for a terminal: every C0 control, DEL and C1 control written as \xHH.
 * Used by every message and by the human reports of info and check (a
 * documented divergence from qemu-img, which prints them raw).
 * Trust: the bytes are anyone's; only escaped copies are written.
 */
#ifndef INSTAR_CLI_ESCAPE_H
#define INSTAR_CLI_ESCAPE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Length of the valid UTF-8 sequence at p (1..4; 0 if the bytes there
 * are not one: overlong forms, surrogates and values past U+10FFFF are
 * invalid). Reads at most as far as the NUL that ends p. */
size_t utf8_len(const unsigned char *p);

/* Copy in[0, len) to out[0, cap) with every byte a terminal would act on
 * (C0 controls, DEL, C1 controls as UTF-8 or as single bytes) written as
 * \xHH. Returns the length of the whole escaped text, which may exceed
 * cap (only cap bytes are written then). */
size_t term_escape(const char *in, size_t len, char *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
