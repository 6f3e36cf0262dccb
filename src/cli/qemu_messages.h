/*
 * qemu_messages.h — the words of what qemu-img says when it cannot open
 * an image (one per enum qcow2_open_msg code, with the differences
 * between releases), of its open-time warnings, and of its lock refusals:
 * learned by running each release (docs/info.md, "Opening"). Everything
 * is written into an output buffer, the file name and any text from the
 * image with their control characters escaped (term_escape(): a
 * documented divergence from qemu-img, which prints them raw).
 * Trust: the codes and numbers come from a report the host already
 * checked (src/image/report_parse.c); text from the image is escaped.
 */
#ifndef INSTAR_QEMU_MESSAGES_H
#define INSTAR_QEMU_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/report_abi.h"
#include "src/cli/outbuf.h"
#include "src/cli/qemu_compat.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Append `n` bytes with terminal controls escaped (term_escape()). */
void qmsg_put_escaped(struct outbuf *out, const void *s, size_t n);

/* A refusal that instar makes in its own words, not qemu-img's (images
 * qemu-img opens, or crashes on, that instar does not read). */
bool qmsg_is_instar_refusal(uint32_t code);

/* The instar message of such a refusal ("%s": the file name). */
const char *qmsg_instar_refusal(uint32_t code);

/* qemu-img's stderr lines for an open refusal of `arg`, and the exit
 * status qemu-img ends with (1; 134 for 5.2's assertion). */
int qmsg_open_error(struct outbuf *out, const struct qemu_compat *c,
		    const char *arg, const struct report_message *m,
		    const uint8_t *text);

/* qemu-img's stderr text for an open warning (the second sentence has no
 * new line: qemu-img prints none). */
void qmsg_open_warning(struct outbuf *out, uint32_t code);

/* "Could not open 'ARG': " + reason + "\n": the shape of every open
 * failure; `reason` is constant text. */
void qmsg_could_not_open(struct outbuf *out, const char *arg,
			 const char *reason);

/* The lock refusal: perm is the permission another process holds or
 * does not share (QEMU_PERM_*), as image_lock_reader() reports it. */
void qmsg_lock_error(struct outbuf *out, const char *arg, int perm);

#ifdef __cplusplus
}
#endif

#endif
