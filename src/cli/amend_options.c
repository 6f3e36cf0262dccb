/*
 * amend_options.c — parse qemu-img-style `-o key=value[,key=value...]`
 * for `instar amend`: keys compat (0.10, 1.1) and lazy_refcounts
 * (on/true/yes, off/false/no). Trust: the text is user input; the parser
 * reads only `len` bytes and never writes outside `req`/`err`.
 */
#include <string.h>

#include "src/cli/amend_args.h"

static bool word_is(const char *p, size_t n, const char *w)
{
	size_t wl = strlen(w);
	return n == wl && memcmp(p, w, n) == 0;
}

static enum args_err fail(struct args_error *err, enum args_err code,
			  const char *p, size_t n)
{
	err->code = code;
	err->arg = p;
	err->arg_len = n;
	return code;
}

/* Store `value` in *slot unless a different value is already there. */
static enum args_err set_once(uint32_t *slot, uint32_t value,
			      struct args_error *err, const char *piece,
			      size_t piece_len)
{
	if (*slot != 0 && *slot != value)
		return fail(err, ARGS_CONFLICT, piece, piece_len);
	*slot = value;
	return ARGS_OK;
}

static enum args_err parse_piece(const char *p, size_t n,
				 struct amend_request *req,
				 struct args_error *err)
{
	const char *eq = memchr(p, '=', n);
	const char *val;
	size_t klen, vlen;

	if (n == 0)
		return fail(err, ARGS_EMPTY_PIECE, p, 0);
	if (eq == NULL)
		return fail(err, ARGS_MISSING_EQUALS, p, n);
	klen = (size_t)(eq - p);
	if (klen == 0)
		return fail(err, ARGS_EMPTY_KEY, p, n);
	val = eq + 1;
	vlen = n - klen - 1;

	if (word_is(p, klen, "compat")) {
		if (vlen == 0)
			return fail(err, ARGS_EMPTY_VALUE, p, n);
		if (word_is(val, vlen, "0.10"))
			return set_once(&req->compat, AMEND_COMPAT_V2, err, p, n);
		if (word_is(val, vlen, "1.1"))
			return set_once(&req->compat, AMEND_COMPAT_V3, err, p, n);
		return fail(err, ARGS_BAD_COMPAT, p, n);
	}
	if (word_is(p, klen, "lazy_refcounts")) {
		if (vlen == 0)
			return fail(err, ARGS_EMPTY_VALUE, p, n);
		if (word_is(val, vlen, "on") || word_is(val, vlen, "true") ||
		    word_is(val, vlen, "yes"))
			return set_once(&req->lazy, AMEND_LAZY_ON, err, p, n);
		if (word_is(val, vlen, "off") || word_is(val, vlen, "false") ||
		    word_is(val, vlen, "no"))
			return set_once(&req->lazy, AMEND_LAZY_OFF, err, p, n);
		return fail(err, ARGS_BAD_LAZY, p, n);
	}
	return fail(err, ARGS_UNKNOWN_KEY, p, klen);
}

bool amend_options_want_help(const char *s, size_t len)
{
	size_t start = 0;

	if (s == NULL)
		return false;
	for (;;) {
		const char *comma = memchr(s + start, ',', len - start);
		size_t end = comma ? (size_t)(comma - s) : len;

		if (word_is(s + start, end - start, "help") ||
		    word_is(s + start, end - start, "?"))
			return true;
		if (comma == NULL)
			return false;
		start = end + 1;
	}
}

enum args_err amend_options_parse(const char *s, size_t len,
				  struct amend_request *req,
				  struct args_error *err)
{
	size_t start = 0;

	if (s == NULL || req == NULL || err == NULL)
		return ARGS_NO_OPTIONS;
	err->code = ARGS_OK;
	err->arg = NULL;
	err->arg_len = 0;
	if (len == 0)
		return fail(err, ARGS_EMPTY_PIECE, s, 0);
	for (;;) {
		const char *comma = memchr(s + start, ',', len - start);
		size_t end = comma ? (size_t)(comma - s) : len;
		enum args_err e = parse_piece(s + start, end - start, req, err);

		if (e != ARGS_OK)
			return e;
		if (comma == NULL)
			return ARGS_OK;
		start = end + 1;
	}
}
