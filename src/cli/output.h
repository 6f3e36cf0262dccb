/*
 * output.h — everything `instar amend` prints: error lines on stderr
 * ("instar amend: MESSAGE"), the success line or the JSON object on
 * stdout. Trust: the filename printed is user input and is JSON-escaped
 * in JSON output; message arguments are substituted without printf.
 */
#ifndef INSTAR_OUTPUT_H
#define INSTAR_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Print "instar amend: " + msg + "\n" to `out`, replacing the first
 * "%s" with a1 (a1_len bytes) and the second with a2 (NUL-terminated). */
void msg_print(FILE *out, const char *msg, const char *a1, size_t a1_len,
	       const char *a2);

/* Write `s` as a JSON string (with quotes) to `out`: control characters
 * escaped, valid UTF-8 kept, each byte of invalid UTF-8 as \ufffd. */
void json_string(FILE *out, const char *s);

/* The spec's JSON object for a successful amend or no-op. */
void print_json_result(FILE *out, const char *filename, bool amended,
		       unsigned version, bool lazy);

#ifdef __cplusplus
}
#endif

#endif
