/*
 * policy_parse.c - parser for the seccomp policy language.
 *
 * Trusts nothing in the buffer: every byte is checked to be printable ASCII
 * or a tab before it is interpreted, numbers are overflow-checked, and every
 * copy is bounded by the fixed capacities in policy_table.h. No allocation,
 * no I/O, no globals written: safe to fuzz. Grammar: top of policy.txt.
 */
#include "seccomp/policy_parse.h"

#include <string.h>

struct cur {
	const char *buf;
	size_t pos; /* next byte to read; always <= eol */
	size_t bol; /* first byte of the current line */
	size_t eol; /* index of the line's '\n', or the buffer length */
	unsigned line;
};

static const char *const messages[POLICY_ERR_COUNT_] = {
	[POLICY_OK] = "no error",
	[POLICY_ERR_TOO_LARGE] = "policy file too large",
	[POLICY_ERR_BAD_CHAR] = "character not allowed (printable ASCII and tab only)",
	[POLICY_ERR_BAD_SECTION] = "section header must be [setup] or [always]",
	[POLICY_ERR_RULE_OUTSIDE_SECTION] = "rule before the first [setup] or [always] header",
	[POLICY_ERR_BAD_SYSCALL_NAME] = "expected a syscall name ([a-z][a-z0-9_]*, at most 31 characters)",
	[POLICY_ERR_MISSING_REASON] = "rule has no '# reason'",
	[POLICY_ERR_EMPTY_REASON] = "reason after '#' is empty",
	[POLICY_ERR_REASON_TOO_LONG] = "reason longer than 159 characters",
	[POLICY_ERR_TEXT_TOO_LONG] = "constraints longer than 199 characters",
	[POLICY_ERR_EXPECTED_COMMA] = "expected ',' between constraints or '#' before the reason",
	[POLICY_ERR_BAD_ARG] = "expected arg0, arg1, arg2, arg3, arg4 or arg5",
	[POLICY_ERR_BAD_WIDTH] = "argument width must be :32 or :64",
	[POLICY_ERR_VARIABLE_WIDTH] = "$image_fd needs a 32-bit argument (argN:32); $kvm_path and $write_last_sector a 64-bit one",
	[POLICY_ERR_VALUE_TOO_WIDE] = "value does not fit the 32-bit argument",
	[POLICY_ERR_ARG_REPEATED] = "argument constrained twice in one rule",
	[POLICY_ERR_BAD_OPERATOR] = "expected ==, !=, <, <=, >, >=, '& MASK ==' or 'in {'",
	[POLICY_ERR_BAD_VALUE] = "expected a number, a CONSTANT or a $variable",
	[POLICY_ERR_BAD_NUMBER] = "malformed number or wider than 64 bits",
	[POLICY_ERR_UNKNOWN_SYMBOL] = "unknown constant",
	[POLICY_ERR_UNKNOWN_VARIABLE] = "unknown variable (known: $image_fd, $kvm_path, $write_last_sector)",
	[POLICY_ERR_VARIABLE_NOT_ALLOWED] = "a $variable may only stand alone after a comparison or in a set, never in a mask or with '|'",
	[POLICY_ERR_BAD_SET] = "malformed set: expected '{ value, value, ... }' with at least one value",
	[POLICY_ERR_SET_TOO_LARGE] = "set has more than 16 values",
	[POLICY_ERR_DUPLICATE_VALUE] = "value appears twice in the set",
	[POLICY_ERR_MASK_VALUE] = "in 'argN & MASK == VALUE' the mask is 0 or the value has bits outside the mask",
	[POLICY_ERR_SHADOWED_RULE] = "syscall has an unconditional rule and another rule for it",
	[POLICY_ERR_TOO_MANY_RULES] = "too many rules",
};

const char *policy_strerror(enum policy_err err)
{
	if ((unsigned)err >= (unsigned)POLICY_ERR_COUNT_ || messages[err] == NULL)
		return "unknown policy error";
	return messages[err];
}

void policy_init(struct policy *p)
{
	memset(p, 0, sizeof *p);
}

static enum policy_err fail(struct policy_diag *d, enum policy_err e,
			    const struct cur *c, size_t at)
{
	d->err = e;
	d->line = c->line;
	/* at <= eol and a line is at most POLICY_MAX_INPUT bytes long. */
	d->col = (unsigned)(at - c->bol + 1u);
	return e;
}

/* The current byte, or NUL at the end of the line (NUL is never valid). */
static char peek(const struct cur *c)
{
	if (c->pos >= c->eol)
		return '\0';
	return c->buf[c->pos];
}

static char peek_at(const struct cur *c, size_t off)
{
	if (off >= c->eol - c->pos)
		return '\0';
	return c->buf[c->pos + off];
}

static bool is_lower(char ch) { return ch >= 'a' && ch <= 'z'; }
static bool is_upper(char ch) { return ch >= 'A' && ch <= 'Z'; }
static bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }
static bool is_word(char ch)
{
	return is_lower(ch) || is_upper(ch) || is_digit(ch) || ch == '_';
}
static bool is_ws(char ch) { return ch == ' ' || ch == '\t'; }

static void skip_ws(struct cur *c)
{
	while (is_ws(peek(c)))
		c->pos++;
}

static int hex_digit(char ch)
{
	if (is_digit(ch))
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* term := NUMBER | CONSTANT */
static enum policy_err parse_term(struct cur *c, struct policy_diag *d,
				  uint64_t *out)
{
	size_t start = c->pos;
	char ch = peek(c);

	if (ch == '$')
		return fail(d, POLICY_ERR_VARIABLE_NOT_ALLOWED, c, start);
	if (is_digit(ch)) {
		uint64_t base = 10, v = 0;
		if (ch == '0' && (peek_at(c, 1) == 'x' || peek_at(c, 1) == 'X')) {
			base = 16;
			c->pos += 2;
			if (hex_digit(peek(c)) < 0)
				return fail(d, POLICY_ERR_BAD_NUMBER, c, start);
		}
		for (;;) {
			int dig = base == 16 ? hex_digit(peek(c))
					     : (is_digit(peek(c)) ? peek(c) - '0' : -1);
			if (dig < 0)
				break;
			uint64_t u = (uint64_t)dig;
			if (v > (UINT64_MAX - u) / base)
				return fail(d, POLICY_ERR_BAD_NUMBER, c, start);
			v = v * base + u;
			c->pos++;
		}
		if (is_word(peek(c)))
			return fail(d, POLICY_ERR_BAD_NUMBER, c, start);
		*out = v;
		return POLICY_OK;
	}
	if (is_upper(ch) || ch == '_') {
		while (is_word(peek(c)))
			c->pos++;
		if (!policy_symbol_lookup(c->buf + start, c->pos - start, out))
			return fail(d, POLICY_ERR_UNKNOWN_SYMBOL, c, start);
		return POLICY_OK;
	}
	return fail(d, POLICY_ERR_BAD_VALUE, c, start);
}

/* expr := term { '|' term } */
static enum policy_err parse_expr(struct cur *c, struct policy_diag *d,
				  uint64_t *out)
{
	uint64_t v = 0, t = 0;
	enum policy_err e = parse_term(c, d, &v);

	if (e != POLICY_OK)
		return e;
	for (;;) {
		size_t save = c->pos;
		skip_ws(c);
		if (peek(c) != '|') {
			c->pos = save;
			break;
		}
		c->pos++;
		skip_ws(c);
		e = parse_term(c, d, &t);
		if (e != POLICY_OK)
			return e;
		v |= t;
	}
	*out = v;
	return POLICY_OK;
}

/* The run-time variables (struct lockdown_binding), with the argument
 * width each needs: a descriptor is an int, the others are 64-bit. */
static const struct {
	const char *name;
	enum policy_val_kind kind;
	uint8_t width;
} variables[] = {
	{ "image_fd", POLICY_VAL_IMAGE_FD, 32 },
	{ "kvm_path", POLICY_VAL_KVM_PATH, 64 },
	{ "write_last_sector", POLICY_VAL_WRITE_LAST_SECTOR, 64 },
};

/* value := expr | '$' NAME */
static enum policy_err parse_value(struct cur *c, struct policy_diag *d,
				   bool allow_var, uint8_t width,
				   struct policy_value *out)
{
	size_t start = c->pos;

	if (peek(c) != '$') {
		out->kind = POLICY_VAL_CONST;
		return parse_expr(c, d, &out->v);
	}
	if (!allow_var)
		return fail(d, POLICY_ERR_VARIABLE_NOT_ALLOWED, c, start);
	c->pos++;
	while (is_word(peek(c)))
		c->pos++;
	size_t n = c->pos - start - 1u;
	size_t i = 0;
	while (i < sizeof variables / sizeof variables[0] &&
	       !(strlen(variables[i].name) == n &&
		 memcmp(c->buf + start + 1u, variables[i].name, n) == 0))
		i++;
	if (i == sizeof variables / sizeof variables[0])
		return fail(d, POLICY_ERR_UNKNOWN_VARIABLE, c, start);
	if (variables[i].width != width)
		return fail(d, POLICY_ERR_VARIABLE_WIDTH, c, start);
	out->kind = variables[i].kind;
	out->v = 0;
	size_t save = c->pos;
	skip_ws(c);
	if (peek(c) == '|')
		return fail(d, POLICY_ERR_VARIABLE_NOT_ALLOWED, c, c->pos);
	c->pos = save;
	return POLICY_OK;
}

static bool same_value(const struct policy_value *a, const struct policy_value *b)
{
	return a->kind == b->kind && a->v == b->v;
}

/*
 * For argN:32, a value must be a 32-bit number, unsigned or sign-extended
 * (AT_FDCWD); it is reduced to its low 32 bits, which is what is compared.
 */
static enum policy_err narrow(struct cur *c, struct policy_diag *d,
			      uint8_t width, size_t at, uint64_t *v)
{
	if (width == 64)
		return POLICY_OK;
	if (*v > UINT64_C(0xffffffff) && *v < UINT64_C(0xffffffff80000000))
		return fail(d, POLICY_ERR_VALUE_TOO_WIDE, c, at);
	*v &= UINT64_C(0xffffffff);
	return POLICY_OK;
}

/* argN[:32|:64], each argument at most once per rule. */
static enum policy_err parse_arg_ref(struct cur *c, struct policy_diag *d,
				     bool used[POLICY_MAX_ARGS],
				     struct policy_cond *out)
{
	size_t start = c->pos;

	if (!(peek(c) == 'a' && peek_at(c, 1) == 'r' && peek_at(c, 2) == 'g'))
		return fail(d, POLICY_ERR_BAD_ARG, c, start);
	char n = peek_at(c, 3);
	if (n < '0' || n > '5' || is_word(peek_at(c, 4)))
		return fail(d, POLICY_ERR_BAD_ARG, c, start);
	out->arg = (uint8_t)(n - '0');
	if (used[out->arg])
		return fail(d, POLICY_ERR_ARG_REPEATED, c, start);
	used[out->arg] = true;
	c->pos += 4;
	out->width = 64;
	if (peek(c) == ':') {
		char w0 = peek_at(c, 1), w1 = peek_at(c, 2);
		if (w0 == '3' && w1 == '2' && !is_word(peek_at(c, 3)))
			out->width = 32;
		else if (!(w0 == '6' && w1 == '4' && !is_word(peek_at(c, 3))))
			return fail(d, POLICY_ERR_BAD_WIDTH, c, c->pos);
		c->pos += 3;
	}
	return POLICY_OK;
}

/* The comparison operators, longest first; `in` is handled apart. */
static const struct {
	char a, b;                 /* b == 0: a one-character operator */
	enum policy_op op;
} policy_ops[] = {
	{ '=', '=', POLICY_OP_EQ }, { '!', '=', POLICY_OP_NE },
	{ '<', '=', POLICY_OP_LE }, { '>', '=', POLICY_OP_GE },
	{ '<', 0, POLICY_OP_LT },   { '>', 0, POLICY_OP_GT },
	{ '&', 0, POLICY_OP_MASKED_EQ },
};

/* One operator; *is_set for `in` (a set is a disjunction of ==). */
static enum policy_err parse_op(struct cur *c, struct policy_diag *d,
				struct policy_cond *out, bool *is_set)
{
	char a = peek(c), b = peek_at(c, 1);

	*is_set = false;
	for (size_t i = 0; i < sizeof policy_ops / sizeof policy_ops[0]; i++) {
		if (a != policy_ops[i].a ||
		    (policy_ops[i].b != 0 && b != policy_ops[i].b))
			continue;
		out->op = policy_ops[i].op;
		c->pos += policy_ops[i].b != 0 ? 2u : 1u;
		return POLICY_OK;
	}
	if (a == 'i' && b == 'n' &&
	    (is_ws(peek_at(c, 2)) || peek_at(c, 2) == '{')) {
		out->op = POLICY_OP_EQ;
		c->pos += 2;
		*is_set = true;
		return POLICY_OK;
	}
	return fail(d, POLICY_ERR_BAD_OPERATOR, c, c->pos);
}

/* set := '{' value ( ',' value )* '}', no value twice. */
static enum policy_err parse_set(struct cur *c, struct policy_diag *d,
				 struct policy_cond *out)
{
	enum policy_err e;

	skip_ws(c);
	if (peek(c) != '{')
		return fail(d, POLICY_ERR_BAD_SET, c, c->pos);
	c->pos++;
	for (;;) {
		skip_ws(c);
		size_t vat = c->pos;
		if (out->nvalues == 0 && peek(c) == '}')
			return fail(d, POLICY_ERR_BAD_SET, c, vat);
		if (out->nvalues >= POLICY_MAX_SET)
			return fail(d, POLICY_ERR_SET_TOO_LARGE, c, vat);
		struct policy_value *v = &out->values[out->nvalues];
		e = parse_value(c, d, true, out->width, v);
		if (e != POLICY_OK)
			return e;
		e = narrow(c, d, out->width, vat, &v->v);
		if (e != POLICY_OK)
			return e;
		for (size_t i = 0; i < out->nvalues; i++)
			if (same_value(&out->values[i], v))
				return fail(d, POLICY_ERR_DUPLICATE_VALUE, c, vat);
		out->nvalues++;
		skip_ws(c);
		if (peek(c) == ',') {
			c->pos++;
			continue;
		}
		if (peek(c) == '}') {
			c->pos++;
			return POLICY_OK;
		}
		return fail(d, POLICY_ERR_BAD_SET, c, c->pos);
	}
}

/* A constant expression narrowed to the argument's width. */
static enum policy_err parse_narrow_expr(struct cur *c, struct policy_diag *d,
					 uint8_t width, uint64_t *v)
{
	size_t vat = c->pos;
	enum policy_err e = parse_expr(c, d, v);

	return e == POLICY_OK ? narrow(c, d, width, vat, v) : e;
}

/* After `&`: mask '==' value, the value inside the mask, mask non-zero. */
static enum policy_err parse_masked(struct cur *c, struct policy_diag *d,
				    size_t start, struct policy_cond *out)
{
	enum policy_err e = parse_narrow_expr(c, d, out->width, &out->mask);

	if (e != POLICY_OK)
		return e;
	skip_ws(c);
	if (!(peek(c) == '=' && peek_at(c, 1) == '='))
		return fail(d, POLICY_ERR_BAD_OPERATOR, c, c->pos);
	c->pos += 2;
	skip_ws(c);
	out->values[0].kind = POLICY_VAL_CONST;
	e = parse_narrow_expr(c, d, out->width, &out->values[0].v);
	if (e != POLICY_OK)
		return e;
	if (out->mask == 0 || (out->values[0].v & ~out->mask) != 0)
		return fail(d, POLICY_ERR_MASK_VALUE, c, start);
	out->nvalues = 1;
	return POLICY_OK;
}

/* cond := 'arg' DIGIT [ ':32' | ':64' ]
 *         ( OP value | '&' expr '==' expr | 'in' '{' values '}' ) */
static enum policy_err parse_cond(struct cur *c, struct policy_diag *d,
				  bool used[POLICY_MAX_ARGS],
				  struct policy_cond *out)
{
	size_t start = c->pos;
	enum policy_err e;
	bool is_set;

	memset(out, 0, sizeof *out);
	e = parse_arg_ref(c, d, used, out);
	if (e != POLICY_OK)
		return e;
	skip_ws(c);
	e = parse_op(c, d, out, &is_set);
	if (e != POLICY_OK)
		return e;
	if (is_set)
		return parse_set(c, d, out);
	skip_ws(c);
	if (out->op == POLICY_OP_MASKED_EQ)
		return parse_masked(c, d, start, out);
	size_t vat = c->pos;
	e = parse_value(c, d, true, out->width, &out->values[0]);
	if (e == POLICY_OK)
		e = narrow(c, d, out->width, vat, &out->values[0].v);
	if (e != POLICY_OK)
		return e;
	out->nvalues = 1;
	return POLICY_OK;
}

/* section := '[' ( 'setup' | 'always' | 'write' ) ']' */
static enum policy_err parse_section(struct cur *c, struct policy_diag *d,
				     enum policy_stage *stage)
{
	size_t start = c->pos;

	c->pos++;
	size_t w = c->pos;
	while (is_lower(peek(c)))
		c->pos++;
	size_t n = c->pos - w;
	if (peek(c) != ']')
		return fail(d, POLICY_ERR_BAD_SECTION, c, start);
	if (n == 5 && memcmp(c->buf + w, "setup", 5) == 0)
		*stage = POLICY_STAGE_SETUP;
	else if (n == 6 && memcmp(c->buf + w, "always", 6) == 0)
		*stage = POLICY_STAGE_ALWAYS;
	else if (n == 5 && memcmp(c->buf + w, "write", 5) == 0)
		*stage = POLICY_STAGE_WRITE;
	else
		return fail(d, POLICY_ERR_BAD_SECTION, c, start);
	c->pos++;
	skip_ws(c);
	if (peek(c) != '\0' && peek(c) != '#')
		return fail(d, POLICY_ERR_BAD_SECTION, c, c->pos);
	return POLICY_OK;
}

/* Copies buf[from, to) with trailing blanks removed into dst[cap]. */
static bool copy_trimmed(char *dst, size_t cap, const char *buf, size_t from,
			 size_t to)
{
	while (to > from && is_ws(buf[to - 1u]))
		to--;
	if (to - from >= cap)
		return false;
	memcpy(dst, buf + from, to - from);
	dst[to - from] = '\0';
	return true;
}

/* rule := NAME [ cond { ',' cond } ] '#' REASON */
static enum policy_err parse_rule(struct cur *c, struct policy_diag *d,
				  struct policy_rule *r)
{
	size_t start = c->pos;
	enum policy_err e;

	if (!is_lower(peek(c)))
		return fail(d, POLICY_ERR_BAD_SYSCALL_NAME, c, start);
	while (is_lower(peek(c)) || is_digit(peek(c)) || peek(c) == '_')
		c->pos++;
	size_t n = c->pos - start;
	char after = peek(c);
	if (n >= POLICY_NAME_MAX || !(after == '\0' || after == '#' || is_ws(after)))
		return fail(d, POLICY_ERR_BAD_SYSCALL_NAME, c, start);
	memcpy(r->syscall, c->buf + start, n);
	r->syscall[n] = '\0';
	r->line = c->line;
	r->col = (unsigned)(start - c->bol + 1u);

	bool used[POLICY_MAX_ARGS] = { false };
	skip_ws(c);
	size_t text_from = c->pos, text_to = c->pos;
	while (peek(c) != '#') {
		if (peek(c) == '\0')
			return fail(d, POLICY_ERR_MISSING_REASON, c, c->pos);
		if (r->nconds > 0) {
			if (peek(c) != ',')
				return fail(d, POLICY_ERR_EXPECTED_COMMA, c, c->pos);
			c->pos++;
			skip_ws(c);
		}
		/* Six distinct arguments at most: a seventh repeats one. */
		if (r->nconds >= POLICY_MAX_ARGS)
			return fail(d, POLICY_ERR_ARG_REPEATED, c, c->pos);
		e = parse_cond(c, d, used, &r->conds[r->nconds]);
		if (e != POLICY_OK)
			return e;
		r->nconds++;
		text_to = c->pos;
		skip_ws(c);
	}
	if (!copy_trimmed(r->text, sizeof r->text, c->buf, text_from, text_to))
		return fail(d, POLICY_ERR_TEXT_TOO_LONG, c, text_from);

	size_t hash = c->pos;
	c->pos++;
	skip_ws(c);
	if (c->pos == c->eol)
		return fail(d, POLICY_ERR_EMPTY_REASON, c, hash);
	if (!copy_trimmed(r->reason, sizeof r->reason, c->buf, c->pos, c->eol))
		return fail(d, POLICY_ERR_REASON_TOO_LONG, c, c->pos);
	c->pos = c->eol;
	return POLICY_OK;
}

enum policy_err policy_parse(const char *buf, size_t len,
			     enum policy_origin origin, struct policy *p,
			     struct policy_diag *d)
{
	struct cur c = { .buf = buf, .pos = 0, .bol = 0, .eol = 0, .line = 0 };
	size_t first = p->nrules;
	bool have_stage = false;
	enum policy_stage stage = POLICY_STAGE_ALWAYS;
	enum policy_err e = POLICY_OK;

	d->err = POLICY_OK;
	d->line = 0;
	d->col = 0;
	if (len > POLICY_MAX_INPUT) {
		d->err = POLICY_ERR_TOO_LARGE;
		return d->err;
	}
	if (first > POLICY_MAX_RULES) {
		d->err = POLICY_ERR_TOO_MANY_RULES;
		return d->err;
	}

	while (c.bol < len) {
		const char *nl = memchr(buf + c.bol, '\n', len - c.bol);
		c.eol = nl != NULL ? (size_t)(nl - buf) : len;
		c.pos = c.bol;
		c.line++;

		for (size_t i = c.bol; i < c.eol; i++) {
			char ch = buf[i];
			if (!(ch == '\t' || (ch >= 0x20 && ch <= 0x7e))) {
				e = fail(d, POLICY_ERR_BAD_CHAR, &c, i);
				goto out;
			}
		}

		skip_ws(&c);
		char ch = peek(&c);
		if (ch == '[') {
			e = parse_section(&c, d, &stage);
			if (e != POLICY_OK)
				goto out;
			have_stage = true;
		} else if (ch != '\0' && ch != '#') {
			if (!have_stage) {
				e = fail(d, POLICY_ERR_RULE_OUTSIDE_SECTION, &c, c.pos);
				goto out;
			}
			if (p->nrules >= POLICY_MAX_RULES) {
				e = fail(d, POLICY_ERR_TOO_MANY_RULES, &c, c.pos);
				goto out;
			}
			struct policy_rule *r = &p->rules[p->nrules];
			memset(r, 0, sizeof *r);
			r->stage = stage;
			r->origin = origin;
			e = parse_rule(&c, d, r);
			if (e != POLICY_OK)
				goto out;
			for (size_t i = 0; i < p->nrules; i++) {
				const struct policy_rule *o = &p->rules[i];
				if (strcmp(o->syscall, r->syscall) == 0 &&
				    (o->nconds == 0 || r->nconds == 0)) {
					e = fail(d, POLICY_ERR_SHADOWED_RULE, &c,
						 c.bol + r->col - 1u);
					goto out;
				}
			}
			p->nrules++;
		}
		c.bol = c.eol + 1u; /* past the '\n' (or past the end) */
	}
out:
	if (e != POLICY_OK)
		p->nrules = first;
	return e;
}
