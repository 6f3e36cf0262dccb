/*
 * inspect_args.h — the command lines of `instar info` and `instar
 * check`, parsed before any file is opened:
 *   instar info  [-f FMT] [--output human|json] [--qemu-compat VER] [-U] FILE
 *   instar check [-f FMT] [--output human|json] [--qemu-compat VER] [-U] [-q] FILE
 *
 * Trust: argv is user input; the parser is a pure function over it (no
 * I/O, no allocation, no global state). On error it names the offending
 * word (a pointer into argv).
 */
#ifndef INSTAR_INSPECT_ARGS_H
#define INSTAR_INSPECT_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "src/cli/amend_args.h"
#include "src/cli/qemu_compat.h"

#ifdef __cplusplus
extern "C" {
#endif

enum inspect_cmd { INSPECT_INFO = 0, INSPECT_CHECK = 1 };

/* -f: probe (default), or the format forced. */
enum inspect_format { FORMAT_PROBE = 0, FORMAT_QCOW2, FORMAT_RAW };

enum iargs_err {
	IARGS_OK = 0,
	IARGS_HELP,               /* --help: print usage, exit 0 */
	IARGS_UNKNOWN_FLAG,       /* arg = the flag */
	IARGS_MISSING_VALUE,      /* arg = the flag */
	IARGS_BAD_OUTPUT,         /* arg = the value */
	IARGS_UNKNOWN_FORMAT,     /* -f with a name qemu-img does not know */
	IARGS_UNSUPPORTED_FORMAT, /* -f vmdk etc.: a format instar cannot read yet */
	IARGS_BAD_COMPAT,         /* --qemu-compat with a release not in the table */
	IARGS_NO_FILE,
	IARGS_EXTRA_ARG,          /* arg = the second file name */
	IARGS_COUNT_
};

struct inspect_args {
	enum inspect_cmd cmd;
	enum output_mode output;
	enum inspect_format format;
	const struct qemu_compat *compat;
	bool force_share;          /* -U / --force-share */
	bool quiet;                /* check -q: no report on stdout */
	bool stats;                /* --stats: the sandbox's counters on stderr */
	const char *filename;      /* points into argv */
};

struct iargs_error {
	enum iargs_err code;
	const char *arg;
};

/* Parse the arguments after "info" or "check" (argv[0] is the first). */
enum iargs_err inspect_args_parse(enum inspect_cmd cmd, int argc,
				  char *const argv[], struct inspect_args *out,
				  struct iargs_error *err);

#ifdef __cplusplus
}
#endif

#endif
