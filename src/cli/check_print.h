/*
 * check_print.h — `instar check`'s output as the chosen qemu-img release
 * prints it: each finding's line(s) on stderr, in the order found, then
 * the report (human or JSON) on stdout, and the exit status
 * (docs/check.md has every message and how it was learned).
 * Trust: the report was checked (src/image/report_parse.c); the snapshot
 * ids and names it carries are escaped for the terminal.
 */
#ifndef INSTAR_CHECK_PRINT_H
#define INSTAR_CHECK_PRINT_H

#include <stdbool.h>

#include "src/cli/outbuf.h"
#include "src/image/report_parse.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Every finding's stderr text, in order. */
void check_print_findings(struct outbuf *err, const struct report_view *v);

/* The report on stdout (nothing when the check failed or was quiet),
 * the last stderr line, and the exit status qemu-img ends with. */
int check_print_report(struct outbuf *out, struct outbuf *err,
		       const struct report_view *v, const char *filename,
		       bool json, bool quiet);

#ifdef __cplusplus
}
#endif

#endif
