/*
 * progress.h — qemu-img's progress lines for `instar amend -p`: on
 * stdout, "    (0.00/100%)\r" when the work starts, a new line like it
 * each time the figure has moved by a whole per cent, and
 * "    (100.00/100%)\r\n" when it is done (learned by running
 * `qemu-img amend -p`: four spaces, two decimals, a carriage return, the
 * last one followed by a new line). The figure is the guest's own
 * (sandbox_config.progress; a table walk counts the L1 entries whose
 * tables it has read): a display, never a decision. Trust: the number is
 * the guest's; it is clamped and never shown going backwards.
 */
#ifndef INSTAR_CLI_PROGRESS_H
#define INSTAR_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct progress {
	FILE *out;
	bool on;             /* printing at all */
	bool open;           /* a line was started and not ended */
	double shown;        /* the last figure printed, per cent */
};

/* Start: prints the 0.00 line when `on`. */
void progress_start(struct progress *p, FILE *out, bool on);

/* The sandbox's callback (sandbox_config.progress): done_65536/65536 of
 * the work done, as the guest says. */
void progress_update(void *ctx, uint32_t done_65536);

/* End: the 100.00 line and a new line when the work succeeded; only the
 * new line otherwise (so that a message after it starts a line). Safe to
 * call more than once. */
void progress_end(struct progress *p, bool done);

#ifdef __cplusplus
}
#endif

#endif
