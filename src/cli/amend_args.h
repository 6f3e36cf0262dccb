/*
 * amend_args.h — the command line of `instar amend`, parsed into a
 * request before any file is opened.
 *
 * Trust: argv is user input; the parser is a pure function over it (no
 * I/O, no allocation, no global state) so it can be fuzzed. On error it
 * names the offending word in `err->arg` (a pointer into argv).
 */
#ifndef INSTAR_AMEND_ARGS_H
#define INSTAR_AMEND_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "src/amend/amend_request.h"

#ifdef __cplusplus
extern "C" {
#endif

enum args_err {
	ARGS_OK = 0,
	ARGS_HELP,                /* --help: print usage, exit 0 */
	ARGS_OPTIONS_HELP,        /* -o help (or -o ?): list the -o keys, exit 0 */
	ARGS_UNKNOWN_FLAG,        /* arg = the flag */
	ARGS_MISSING_VALUE,       /* a flag that needs a value is last; arg = flag */
	ARGS_BAD_OUTPUT,          /* --output not human|json; arg = value */
	ARGS_UNKNOWN_FORMAT,      /* -f with a name we do not know; arg = value */
	ARGS_NOT_QCOW2_FORMAT,    /* -f raw/vmdk/vpc/vhdx/...: spec refusal */
	ARGS_NO_FILE,             /* no image file named */
	ARGS_EXTRA_ARG,           /* a second file name; arg = it */
	ARGS_NO_OPTIONS,          /* no -o at all */
	ARGS_EMPTY_PIECE,         /* "-o compat=1.1,," */
	ARGS_MISSING_EQUALS,      /* arg = the piece */
	ARGS_EMPTY_VALUE,         /* arg = the piece */
	ARGS_UNKNOWN_KEY,         /* arg = the key */
	ARGS_EMPTY_KEY,           /* "=value": arg = the piece */
	ARGS_BAD_COMPAT,          /* arg = the piece */
	ARGS_BAD_LAZY,            /* arg = the piece */
	ARGS_CONFLICT,            /* same key, two different values; arg = piece */
	ARGS_NO_SUPPORTED_KEY,    /* -o given but nothing usable (not reachable
				     with the current key set; kept for the table) */
	ARGS_PROGRESS_JSON,       /* -p with --output json */
	ARGS_COUNT_
};

enum output_mode { OUTPUT_HUMAN = 0, OUTPUT_JSON = 1 };

struct amend_args {
	struct amend_request request;
	bool quiet;
	bool progress;             /* -p: qemu-img's progress lines on stdout */
	bool stats;                /* --stats: the sandbox's counters on stderr */
	enum output_mode output;
	bool format_forced;        /* -f qcow2 given */
	const char *filename;      /* points into argv */
};

/* The error and the word it is about (NULL when none), with its length:
 * -o pieces are not NUL-terminated inside their -o argument. */
struct args_error {
	enum args_err code;
	const char *arg;
	size_t arg_len;
};

/* Parse the arguments after "amend" (argv[0] is the first of them). */
enum args_err amend_args_parse(int argc, char *const argv[],
			       struct amend_args *out, struct args_error *err);

/* Does one -o argument ask for the list of keys: a piece "help" or "?"
 * (as qemu-img, whatever else the argument holds)? */
bool amend_options_want_help(const char *s, size_t len);

/* Parse one -o argument ("k=v,k=v") into `req`, merging with what it
 * already holds. Pure; `len` bytes of `s`, no NUL needed. */
enum args_err amend_options_parse(const char *s, size_t len,
				  struct amend_request *req,
				  struct args_error *err);

#ifdef __cplusplus
}
#endif

#endif
