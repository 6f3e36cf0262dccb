/*
 * policy_parse.h - parser for the seccomp policy language (policy.txt).
 *
 * policy_parse() is a pure function over a buffer and its length: it does
 * no I/O, allocates nothing, keeps no state outside *p and *d, and treats
 * the buffer as untrusted (it is fuzzed). The grammar is documented at the
 * top of seccomp/policy.txt. Errors carry a 1-based line and byte column.
 */
#ifndef INSTAR_SECCOMP_POLICY_PARSE_H
#define INSTAR_SECCOMP_POLICY_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seccomp/policy_table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Capacity of one parsed policy (both files together). */
#define POLICY_MAX_RULES 96u
/* Largest policy file accepted, in bytes. */
#define POLICY_MAX_INPUT (1u << 20)

enum policy_err {
	POLICY_OK = 0,
	POLICY_ERR_TOO_LARGE,          /* input longer than POLICY_MAX_INPUT */
	POLICY_ERR_BAD_CHAR,           /* byte outside printable ASCII/tab */
	POLICY_ERR_BAD_SECTION,        /* not exactly [setup] or [always] */
	POLICY_ERR_RULE_OUTSIDE_SECTION,
	POLICY_ERR_BAD_SYSCALL_NAME,   /* not [a-z][a-z0-9_]*, or too long */
	POLICY_ERR_MISSING_REASON,     /* rule line without '# reason' */
	POLICY_ERR_EMPTY_REASON,
	POLICY_ERR_REASON_TOO_LONG,
	POLICY_ERR_TEXT_TOO_LONG,      /* constraint text too long */
	POLICY_ERR_EXPECTED_COMMA,     /* two constraints not separated by ',' */
	POLICY_ERR_BAD_ARG,            /* expected arg0 .. arg5 */
	POLICY_ERR_BAD_WIDTH,          /* argN: followed by other than 32 or 64 */
	POLICY_ERR_VARIABLE_WIDTH,     /* $var with an argument of the wrong width */
	POLICY_ERR_VALUE_TOO_WIDE,     /* argN:32 value outside 32 bits */
	POLICY_ERR_ARG_REPEATED,       /* same argN twice in one rule */
	POLICY_ERR_BAD_OPERATOR,
	POLICY_ERR_BAD_VALUE,          /* expected a number, CONSTANT or $var */
	POLICY_ERR_BAD_NUMBER,         /* malformed or wider than 64 bits */
	POLICY_ERR_UNKNOWN_SYMBOL,
	POLICY_ERR_UNKNOWN_VARIABLE,
	POLICY_ERR_VARIABLE_NOT_ALLOWED, /* $var in '|' or a mask */
	POLICY_ERR_BAD_SET,            /* malformed or empty { ... } */
	POLICY_ERR_SET_TOO_LARGE,
	POLICY_ERR_DUPLICATE_VALUE,    /* same constant twice in a set */
	POLICY_ERR_MASK_VALUE,         /* arg & M == V with M == 0 or V outside M */
	POLICY_ERR_SHADOWED_RULE,      /* unconditional rule plus another rule */
	POLICY_ERR_TOO_MANY_RULES,
	POLICY_ERR_COUNT_               /* number of codes, not an error */
};

struct policy_diag {
	enum policy_err err;
	unsigned line; /* 1-based; 0 when not tied to a position */
	unsigned col;  /* 1-based byte column */
};

struct policy_rule {
	char syscall[POLICY_NAME_MAX];
	unsigned line, col; /* position of the syscall name */
	enum policy_stage stage;
	enum policy_origin origin;
	char text[POLICY_TEXT_MAX];
	char reason[POLICY_REASON_MAX];
	size_t nconds;
	struct policy_cond conds[POLICY_MAX_ARGS];
};

struct policy {
	size_t nrules;
	struct policy_rule rules[POLICY_MAX_RULES];
};

/* Empties *p. */
void policy_init(struct policy *p);

/*
 * Parses one policy file of len bytes and appends its rules, tagged with
 * origin, to *p (so the sanitizer file can follow the shipped one). On error
 * returns the code, fills *d, and leaves p->nrules as it was before the call.
 */
enum policy_err policy_parse(const char *buf, size_t len,
			     enum policy_origin origin, struct policy *p,
			     struct policy_diag *d);

/* One fixed message per code; never NULL. */
const char *policy_strerror(enum policy_err err);

/* Build-time constants the policy may name (policy_symbols.c). */
bool policy_symbol_lookup(const char *name, size_t len, uint64_t *value);
/* The i-th known symbol, for tests; false past the end. */
bool policy_symbol_at(size_t i, const char **name, uint64_t *value);

#ifdef __cplusplus
}
#endif

#endif
