/*
 * output.h — the messages every command prints on stderr ("instar
 * COMMAND: MESSAGE"), and what `instar amend` prints on stdout (the
 * success line or its JSON object); the inspection commands' reports are
 * printed by src/cli/info_print.c and check_print.c. Trust: the filename printed is user input and is JSON-escaped
 * in JSON output; message arguments are substituted without printf.
 */
#ifndef INSTAR_OUTPUT_H
#define INSTAR_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "src/cli/escape.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The command msg_print() names ("amend" until set; main.c sets it once,
 * from the command line, to a string that outlives every message). */
void msg_set_command(const char *name);

/* Print "instar COMMAND: " + msg + "\n" to `out`, replacing the first
 * "%s" with a1 (a1_len bytes) and the second with a2 (NUL-terminated),
 * both escaped with term_escape(). */
void msg_print(FILE *out, const char *msg, const char *a1, size_t a1_len,
	       const char *a2);

/* Write `s` as a JSON string (with quotes) to `out`: control characters
 * escaped, valid UTF-8 kept, each byte of invalid UTF-8 as \ufffd. A
 * write error is left in `out`'s error indicator (fflush, then ferror). */
void json_string(FILE *out, const char *s);

/* The spec's JSON object for a successful amend or no-op; write errors
 * as for json_string. */
void print_json_result(FILE *out, const char *filename, bool amended,
		       unsigned version, bool lazy);

#ifdef __cplusplus
}
#endif

#endif
