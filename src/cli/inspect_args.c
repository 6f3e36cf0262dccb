/*
 * inspect_args.c — argv parser of `instar info` and `instar check` (see
 * inspect_args.h). Accepts -f/--format FMT, --output human|json (also
 * --output=json), --qemu-compat VER (also --qemu-compat=VER),
 * -U/--force-share, -q/--quiet (check), --stats, --help, "--" ending the
 * flags, and one FILE. Trust: argv is user input; no I/O, no allocation.
 */
#include "src/cli/inspect_args.h"

#include <string.h>

/* Formats qemu-img reads that instar does not read yet: named in a
 * refusal rather than treated as unknown words. */
static const char *const unsupported_formats[] = {
	"vmdk", "vpc", "vhdx", "qcow", "qed", "vdi", "parallels", "dmg",
	"bochs", "cloop", "luks", "vvfat",
};

static enum iargs_err fail(struct iargs_error *err, enum iargs_err code,
			   const char *arg)
{
	err->code = code;
	err->arg = arg;
	return code;
}

/* "--name" (value in the next word: *val = NULL) or "--name=value". */
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

static enum iargs_err take_format(const char *v, struct inspect_args *out,
				  struct iargs_error *err)
{
	if (strcmp(v, "qcow2") == 0) {
		out->format = FORMAT_QCOW2;
		return IARGS_OK;
	}
	if (strcmp(v, "raw") == 0) {
		out->format = FORMAT_RAW;
		return IARGS_OK;
	}
	for (size_t i = 0; i < sizeof(unsupported_formats) / sizeof(unsupported_formats[0]); i++) {
		if (strcmp(v, unsupported_formats[i]) == 0)
			return fail(err, IARGS_UNSUPPORTED_FORMAT, v);
	}
	return fail(err, IARGS_UNKNOWN_FORMAT, v);
}

static enum iargs_err take_value(char kind, const char *v,
				 struct inspect_args *out,
				 struct iargs_error *err)
{
	switch (kind) {
	case 'f':
		return take_format(v, out, err);
	case 'O':
		if (strcmp(v, "human") == 0)
			out->output = OUTPUT_HUMAN;
		else if (strcmp(v, "json") == 0)
			out->output = OUTPUT_JSON;
		else
			return fail(err, IARGS_BAD_OUTPUT, v);
		return IARGS_OK;
	default:   /* 'C' */
		out->compat = qemu_compat_find(v);
		return out->compat != NULL ? IARGS_OK
					   : fail(err, IARGS_BAD_COMPAT, v);
	}
}

/* A flag without a value; false if `a` is not one. */
static bool take_switch(const char *a, struct inspect_args *out)
{
	if (strcmp(a, "-U") == 0 || strcmp(a, "--force-share") == 0)
		out->force_share = true;
	else if (out->cmd == INSPECT_CHECK &&
		 (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0))
		out->quiet = true;
	else if (strcmp(a, "--stats") == 0)
		out->stats = true;
	else
		return false;
	return true;
}

/* Which valued flag `a` is ('f', 'O' --output, 'C' --qemu-compat; 0:
 * none), with its value if it is in the same word. */
static char valued_flag(const char *a, const char **val)
{
	if (a[1] == 'f') {
		*val = a[2] != '\0' ? a + 2 : NULL;
		return 'f';
	}
	if (long_opt(a, "--format", val))
		return 'f';
	if (long_opt(a, "--output", val))
		return 'O';
	if (long_opt(a, "--qemu-compat", val))
		return 'C';
	return 0;
}

enum iargs_err inspect_args_parse(enum inspect_cmd cmd, int argc,
				  char *const argv[], struct inspect_args *out,
				  struct iargs_error *err)
{
	bool flags_done = false;

	memset(out, 0, sizeof(*out));
	out->cmd = cmd;
	out->compat = qemu_compat_default();
	err->code = IARGS_OK;
	err->arg = NULL;

	for (int i = 0; i < argc && argv[i] != NULL; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return IARGS_HELP;
	}
	for (int i = 0; i < argc && argv[i] != NULL; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		char kind;
		enum iargs_err e;

		if (!flags_done && strcmp(a, "--") == 0) {
			flags_done = true;
			continue;
		}
		if (flags_done || a[0] != '-' || a[1] == '\0') {
			if (out->filename != NULL)
				return fail(err, IARGS_EXTRA_ARG, a);
			out->filename = a;
			continue;
		}
		if (take_switch(a, out))
			continue;
		kind = valued_flag(a, &val);
		if (kind == 0)
			return fail(err, IARGS_UNKNOWN_FLAG, a);
		if (val == NULL) {
			if (i + 1 >= argc || argv[i + 1] == NULL)
				return fail(err, IARGS_MISSING_VALUE, a);
			val = argv[++i];
		}
		e = take_value(kind, val, out, err);
		if (e != IARGS_OK)
			return e;
	}
	if (out->filename == NULL)
		return fail(err, IARGS_NO_FILE, NULL);
	return IARGS_OK;
}
