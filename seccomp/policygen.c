/*
 * policygen.c - build-time generator: parses seccomp/policy.txt (and, for
 * sanitizer builds only, seccomp/policy_sanitizer.txt) and writes the C
 * table the instar binary loads (policy_table_gen.c).
 *
 * Usage: policygen OUT.c POLICY.txt [SANITIZER.txt]
 *
 * Run by Bazel as a genrule tool. Trusts the policy files no more than the
 * parser does; every syscall name must resolve on x86-64 through libseccomp
 * or the build fails with file:line:col. Being a program, it may exit().
 */
#define _POSIX_C_SOURCE 200809L
#include <seccomp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seccomp/filter_build.h"
#include "seccomp/policy_parse.h"
#include "seccomp/precompiled.h"

static struct policy pol;
static struct policy_entry entries[POLICY_MAX_RULES];
static char inbuf[POLICY_MAX_INPUT + 1u];

/* Output errors: a write to the generated file that fails sets its error
 * indicator, which main() checks once before closing it (emitf and
 * put_str leave it there); a diagnostic on stderr that cannot be written
 * has nowhere else to go, and the exit status still fails the build. */
__attribute__((format(printf, 2, 3)))
static void emitf(FILE *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vfprintf(o, fmt, ap);
	va_end(ap);
}

static int read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		(void)fprintf(stderr, "policygen: cannot open %s\n", path);
		return -1;
	}
	*len = fread(inbuf, 1, sizeof inbuf, f);
	int bad = ferror(f);
	(void)fclose(f);   /* read-only: everything read was checked above */
	if (bad) {
		(void)fprintf(stderr, "policygen: cannot read %s\n", path);
		return -1;
	}
	if (*len > POLICY_MAX_INPUT) {
		(void)fprintf(stderr, "%s: error: %s\n", path,
			      policy_strerror(POLICY_ERR_TOO_LARGE));
		return -1;
	}
	return 0;
}

static int parse_file(const char *path, enum policy_origin origin,
		      size_t *first)
{
	size_t len = 0;
	struct policy_diag d;

	*first = pol.nrules;
	if (read_file(path, &len) != 0)
		return -1;
	if (policy_parse(inbuf, len, origin, &pol, &d) != POLICY_OK) {
		(void)fprintf(stderr, "%s:%u:%u: error: %s\n", path, d.line, d.col,
			      policy_strerror(d.err));
		return -1;
	}
	for (size_t i = *first; i < pol.nrules; i++) {
		const struct policy_rule *r = &pol.rules[i];
		int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64,
							   r->syscall);
		if (nr < 0) {
			(void)fprintf(stderr, "%s:%u:%u: error: unknown syscall '%s'\n",
				      path, r->line, r->col, r->syscall);
			return -1;
		}
	}
	return 0;
}

/* Strings were checked to be printable ASCII; escape what C needs.
 * Write errors stay in `o`'s error indicator, checked once in main(). */
static void put_str(FILE *o, const char *s)
{
	(void)fputc('"', o);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\' || *s == '?')
			(void)fputc('\\', o);
		(void)fputc(*s, o);
	}
	(void)fputc('"', o);
}

static const char *op_name(enum policy_op op)
{
	switch (op) {
	case POLICY_OP_EQ: return "POLICY_OP_EQ";
	case POLICY_OP_NE: return "POLICY_OP_NE";
	case POLICY_OP_LT: return "POLICY_OP_LT";
	case POLICY_OP_LE: return "POLICY_OP_LE";
	case POLICY_OP_GT: return "POLICY_OP_GT";
	case POLICY_OP_GE: return "POLICY_OP_GE";
	case POLICY_OP_MASKED_EQ: return "POLICY_OP_MASKED_EQ";
	}
	return NULL;
}

static const char *kind_name(enum policy_val_kind k)
{
	switch (k) {
	case POLICY_VAL_CONST: return "POLICY_VAL_CONST";
	case POLICY_VAL_IMAGE_FD: return "POLICY_VAL_IMAGE_FD";
	case POLICY_VAL_KVM_PATH: return "POLICY_VAL_KVM_PATH";
	case POLICY_VAL_WRITE_LAST_SECTOR: return "POLICY_VAL_WRITE_LAST_SECTOR";
	}
	return NULL;
}

/* The rules as the binary's table holds them (the same fields emit()
 * writes out), for filter_build(). */
static void to_entries(void)
{
	for (size_t i = 0; i < pol.nrules; i++) {
		const struct policy_rule *r = &pol.rules[i];
		struct policy_entry *e = &entries[i];
		e->syscall = r->syscall;
		e->nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64,
							  r->syscall);
		e->stage = r->stage;
		e->origin = r->origin;
		e->file = "";
		e->line = r->line;
		e->text = r->text;
		e->reason = r->reason;
		e->nconds = r->nconds;
		for (size_t j = 0; j < r->nconds; j++)
			e->conds[j] = r->conds[j];
	}
}

/* Build the filter of one canonical binding with libseccomp and write its
 * BPF as a C array named `name`; *len receives its instruction count. */
static int emit_program(FILE *o, const char *name, enum lockdown_profile p,
			const struct lockdown_binding *bp, size_t *len)
{
	struct lockdown_binding b = *bp;
	scmp_filter_ctx ctx = NULL;
	FILE *t = tmpfile();
	unsigned char buf[BPF_MAXINSNS * sizeof(struct sock_filter)];
	size_t n;

	if (t == NULL ||
	    filter_build(entries, pol.nrules, p, &b, &ctx) != LOCKDOWN_OK ||
	    seccomp_export_bpf(ctx, fileno(t)) != 0) {
		if (ctx != NULL)
			seccomp_release(ctx);
		if (t != NULL)
			(void)fclose(t);   /* failing anyway */
		(void)fprintf(stderr, "policygen: cannot build the %s program\n", name);
		return -1;
	}
	seccomp_release(ctx);
	rewind(t);
	n = fread(buf, 1, sizeof buf, t);
	/* A read error could leave a shorter, still well-formed program. */
	bool bad = ferror(t) != 0;
	(void)fclose(t);   /* a temporary file, read: checked here */
	if (bad || n == 0 || n % sizeof(struct sock_filter) != 0 ||
	    n == sizeof buf) {
		(void)fprintf(stderr, "policygen: bad BPF for %s\n", name);
		return -1;
	}
	*len = n / sizeof(struct sock_filter);
	emitf(o, "static const struct sock_filter %s[] = {\n", name);
	for (size_t i = 0; i < *len; i++) {
		struct sock_filter f;
		memcpy(&f, buf + i * sizeof f, sizeof f);
		emitf(o, "\t{ 0x%04x, %u, %u, 0x%08xu },\n", (unsigned)f.code,
		      (unsigned)f.jt, (unsigned)f.jf, (unsigned)f.k);
	}
	emitf(o, "};\n\n");
	return 0;
}

/* The programs the binary loads for its canonical bindings
 * (precompiled.h). */
static int emit_precompiled(FILE *o)
{
	size_t lens[LOCKDOWN_PRECOMPILED];
	char name[64];
	const struct lockdown_binding reader = lockdown_canonical_reader();
	const struct lockdown_binding sb =
		lockdown_canonical_binding(LOCKDOWN_PROFILE_SETUP, 0);

	to_entries();
	emitf(o, "\n/* BPF compiled by libseccomp at build time for the CLI's\n"
		 " * bindings (seccomp/precompiled.h). */\n");
	if (emit_program(o, "precompiled_setup", LOCKDOWN_PROFILE_SETUP, &sb,
			 &lens[0]) != 0)
		return -1;
	for (unsigned bits = LOCKDOWN_MIN_CLUSTER_BITS;
	     bits <= LOCKDOWN_MAX_WRITE_BITS; bits++) {
		struct lockdown_binding rb =
			lockdown_canonical_binding(LOCKDOWN_PROFILE_RUN, bits);
		/* Cannot be cut: 16 characters and a two-digit number. */
		(void)snprintf(name, sizeof name, "precompiled_run_%u", bits);
		if (emit_program(o, name, LOCKDOWN_PROFILE_RUN, &rb,
				 &lens[1u + bits - LOCKDOWN_MIN_CLUSTER_BITS]) != 0)
			return -1;
	}
	if (emit_program(o, "precompiled_reader_setup", LOCKDOWN_PROFILE_SETUP,
			 &reader, &lens[1u + LOCKDOWN_RUN_PROGRAMS]) != 0 ||
	    emit_program(o, "precompiled_reader_run", LOCKDOWN_PROFILE_RUN,
			 &reader, &lens[2u + LOCKDOWN_RUN_PROGRAMS]) != 0)
		return -1;
	emitf(o, "const struct precompiled_filter policy_precompiled[] = {\n");
	emitf(o, "\t{ LOCKDOWN_PROFILE_SETUP, false, 0x%llxu, %zuu, precompiled_setup },\n",
	      (unsigned long long)sb.write_last_sector, lens[0]);
	for (unsigned bits = LOCKDOWN_MIN_CLUSTER_BITS;
	     bits <= LOCKDOWN_MAX_WRITE_BITS; bits++) {
		struct lockdown_binding rb =
			lockdown_canonical_binding(LOCKDOWN_PROFILE_RUN, bits);
		emitf(o, "\t{ LOCKDOWN_PROFILE_RUN, false, 0x%llxu, %zuu, precompiled_run_%u },\n",
		      (unsigned long long)rb.write_last_sector,
		      lens[1u + bits - LOCKDOWN_MIN_CLUSTER_BITS], bits);
	}
	emitf(o, "\t{ LOCKDOWN_PROFILE_SETUP, true, 0x%llxu, %zuu, precompiled_reader_setup },\n",
	      (unsigned long long)reader.write_last_sector,
	      lens[1u + LOCKDOWN_RUN_PROGRAMS]);
	emitf(o, "\t{ LOCKDOWN_PROFILE_RUN, true, 0x%llxu, %zuu, precompiled_reader_run },\n",
	      (unsigned long long)reader.write_last_sector,
	      lens[2u + LOCKDOWN_RUN_PROGRAMS]);
	emitf(o, "};\n");
	return 0;
}

static int emit(FILE *o, const char *const files[2], size_t nshipped)
{
	emitf(o, "/* Generated by //seccomp:policygen from %s%s%s. Do not edit. */\n",
	      files[0], files[1] != NULL ? " and " : "",
	      files[1] != NULL ? files[1] : "");
	emitf(o, "#include \"seccomp/policy_table.h\"\n");
	emitf(o, "#include \"seccomp/precompiled.h\"\n\n");
	emitf(o, "const struct policy_entry policy_table[] = {\n");
	for (size_t i = 0; i < pol.nrules; i++) {
		const struct policy_rule *r = &pol.rules[i];
		const char *file = files[i < nshipped ? 0 : 1];
		/* Rules past the shipped ones come from the sanitizer file. */
		if (file == NULL)
			return -1;
		int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64,
							   r->syscall);
		emitf(o, "\t{\n\t\t.syscall = ");
		put_str(o, r->syscall);
		emitf(o, ",\n\t\t.nr = %d,\n", nr);
		emitf(o, "\t\t.stage = %s,\n",
		      r->stage == POLICY_STAGE_SETUP    ? "POLICY_STAGE_SETUP"
		      : r->stage == POLICY_STAGE_WRITE ? "POLICY_STAGE_WRITE"
							: "POLICY_STAGE_ALWAYS");
		emitf(o, "\t\t.origin = %s,\n",
		      r->origin == POLICY_ORIGIN_SHIPPED ? "POLICY_ORIGIN_SHIPPED"
							 : "POLICY_ORIGIN_SANITIZER");
		emitf(o, "\t\t.file = ");
		put_str(o, file);
		emitf(o, ",\n\t\t.line = %uu,\n\t\t.text = ", r->line);
		put_str(o, r->text);
		emitf(o, ",\n\t\t.reason = ");
		put_str(o, r->reason);
		emitf(o, ",\n\t\t.nconds = %zuu,\n\t\t.conds = {\n", r->nconds);
		for (size_t j = 0; j < r->nconds; j++) {
			const struct policy_cond *cd = &r->conds[j];
			const char *op = op_name(cd->op);
			if (op == NULL)
				return -1;
			emitf(o, "\t\t\t{ .arg = %u, .width = %u, .op = %s, "
				 ".mask = 0x%llxu, .nvalues = %zuu, .values = {",
			      (unsigned)cd->arg, (unsigned)cd->width, op,
			      (unsigned long long)cd->mask,
			      cd->nvalues);
			for (size_t k = 0; k < cd->nvalues; k++) {
				const struct policy_value *v = &cd->values[k];
				const char *kind = kind_name(v->kind);
				if (kind == NULL)
					return -1;
				emitf(o, " { %s, 0x%llxu },", kind,
				      (unsigned long long)v->v);
			}
			emitf(o, " } },\n");
		}
		emitf(o, "\t\t},\n\t},\n");
	}
	emitf(o, "};\n\n");
	emitf(o, "const size_t policy_table_len = %zuu;\n", pol.nrules);
	if (emit_precompiled(o) != 0)
		return -1;
	emitf(o, "const int policy_table_has_sanitizer_rules = %d;\n",
	      files[1] != NULL ? 1 : 0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 4) {
		(void)fprintf(stderr, "usage: policygen OUT.c POLICY.txt [SANITIZER.txt]\n");
		return 2;
	}
	const char *files[2] = { argv[2], argc == 4 ? argv[3] : NULL };
	size_t first = 0, sfirst = 0;

	policy_init(&pol);
	if (parse_file(files[0], POLICY_ORIGIN_SHIPPED, &first) != 0)
		return 1;
	size_t nshipped = pol.nrules;
	if (nshipped == 0) {
		(void)fprintf(stderr, "%s: error: the policy allows nothing\n", files[0]);
		return 1;
	}
	if (files[1] != NULL &&
	    parse_file(files[1], POLICY_ORIGIN_SANITIZER, &sfirst) != 0)
		return 1;

	FILE *o = fopen(argv[1], "w");
	if (o == NULL) {
		(void)fprintf(stderr, "policygen: cannot create %s\n", argv[1]);
		return 1;
	}
	/* A write that failed midway sets the error indicator, which
	 * fclose() does not report: check it before closing. */
	int rc = emit(o, files, nshipped);
	if (ferror(o))
		rc = -1;
	if (fclose(o) != 0 || rc != 0) {
		(void)fprintf(stderr, "policygen: cannot write %s\n", argv[1]);
		/* Best effort: the build fails either way, and Bazel drops the
		 * outputs of a failed action. */
		(void)remove(argv[1]);
		return 1;
	}
	(void)fprintf(stderr, "policygen: %zu shipped rules, %zu sanitizer-only rules\n",
		      nshipped, pol.nrules - nshipped);
	return 0;
}
