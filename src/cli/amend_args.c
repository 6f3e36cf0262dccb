/*
 * amend_args.c — argv parser of `instar amend` (see amend_args.h).
 * Accepts: -f/--format FMT, -o/--options OPTS (repeatable),
 * -q/--quiet, -p/--progress, --stats, --output human|json (also --output=json, -fFMT, -oOPTS,
 * --format=FMT, --options=OPTS), --help, "--" ending the flags, and one
 * FILE. Trust: argv is user input; no I/O, no allocation.
 */
#include <string.h>

#include "src/cli/amend_args.h"

/* Formats qemu-img knows that are not qcow2: refused with the spec's
 * message rather than as an unknown word. */
static const char *const other_formats[] = {
	"raw", "vmdk", "vpc", "vhdx", "qcow", "qed", "vdi", "parallels",
	"dmg", "bochs", "cloop", "luks", "vvfat", "file", "host_device",
};

static enum args_err fail(struct args_error *err, enum args_err code,
			  const char *arg)
{
	err->code = code;
	err->arg = arg;
	err->arg_len = arg ? strlen(arg) : 0;
	return code;
}

/* Match "--name" or "--name=value". Returns the value via *val (NULL if
 * the value is in the next argument). */
static bool long_opt(const char *a, const char *name, const char **val)
{
	size_t n = strlen(name);
	if (strncmp(a, name, n) != 0)
		return false;
	if (a[n] == '\0') {
		*val = NULL;
		return true;
	}
	if (a[n] == '=') {
		*val = a + n + 1;
		return true;
	}
	return false;
}

static enum args_err take_format(const char *v, struct amend_args *out,
				 struct args_error *err)
{
	if (strcmp(v, "qcow2") == 0) {
		out->format_forced = true;
		return ARGS_OK;
	}
	for (size_t i = 0; i < sizeof(other_formats) / sizeof(other_formats[0]); i++) {
		if (strcmp(v, other_formats[i]) == 0)
			return fail(err, ARGS_NOT_QCOW2_FORMAT, v);
	}
	return fail(err, ARGS_UNKNOWN_FORMAT, v);
}

static enum args_err take_output(const char *v, struct amend_args *out,
				 struct args_error *err)
{
	if (strcmp(v, "human") == 0)
		out->output = OUTPUT_HUMAN;
	else if (strcmp(v, "json") == 0)
		out->output = OUTPUT_JSON;
	else
		return fail(err, ARGS_BAD_OUTPUT, v);
	return ARGS_OK;
}

enum args_err amend_args_parse(int argc, char *const argv[],
			       struct amend_args *out, struct args_error *err)
{
	bool flags_done = false, any_o = false;
	int i;

	memset(out, 0, sizeof(*out));
	err->code = ARGS_OK;
	err->arg = NULL;
	err->arg_len = 0;

	/* --help anywhere wins, as with most tools. */
	for (i = 0; i < argc; i++) {
		if (argv[i] == NULL)
			break;
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return ARGS_HELP;
	}

	for (i = 0; i < argc && argv[i] != NULL; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		char kind = 0;   /* 'f', 'o', 'O' (--output) */
		enum args_err e;

		if (!flags_done && strcmp(a, "--") == 0) {
			flags_done = true;
			continue;
		}
		if (flags_done || a[0] != '-' || a[1] == '\0') {
			if (out->filename != NULL)
				return fail(err, ARGS_EXTRA_ARG, a);
			out->filename = a;
			continue;
		}
		if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			out->quiet = true;
			continue;
		}
		if (strcmp(a, "--stats") == 0) {
			out->stats = true;
			continue;
		}
		if (strcmp(a, "-p") == 0 || strcmp(a, "--progress") == 0) {
			out->progress = true;
			continue;
		}
		if (a[1] == 'f' || a[1] == 'o') {
			kind = a[1];
			val = a[2] ? a + 2 : NULL;
		} else if (long_opt(a, "--format", &val)) {
			kind = 'f';
		} else if (long_opt(a, "--options", &val)) {
			kind = 'o';
		} else if (long_opt(a, "--output", &val)) {
			kind = 'O';
		} else {
			return fail(err, ARGS_UNKNOWN_FLAG, a);
		}
		if (val == NULL) {
			if (i + 1 >= argc || argv[i + 1] == NULL)
				return fail(err, ARGS_MISSING_VALUE, a);
			val = argv[++i];
		}
		if (kind == 'f') {
			e = take_format(val, out, err);
		} else if (kind == 'O') {
			e = take_output(val, out, err);
		} else if (amend_options_want_help(val, strlen(val))) {
			return ARGS_OPTIONS_HELP;
		} else {
			any_o = true;
			e = amend_options_parse(val, strlen(val), &out->request, err);
		}
		if (e != ARGS_OK)
			return e;
	}
	if (!any_o)
		return fail(err, ARGS_NO_OPTIONS, NULL);
	if (out->request.compat == AMEND_COMPAT_KEEP &&
	    out->request.lazy == AMEND_LAZY_KEEP)
		return fail(err, ARGS_NO_SUPPORTED_KEY, NULL);
	if (out->filename == NULL)
		return fail(err, ARGS_NO_FILE, NULL);
	if (out->progress && out->output == OUTPUT_JSON)
		return fail(err, ARGS_PROGRESS_JSON, NULL);
	return ARGS_OK;
}
