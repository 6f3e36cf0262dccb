/*
 * amend_args_fuzzer.c — fuzz target 3: the command line of `instar amend`
 * (amend_args_parse) and its -o option parser (amend_options_parse).
 *
 * Input: words separated by NUL bytes become argv (at most 32 words, each
 * its own heap block so ASan sees any read past its NUL); the whole input
 * is also given, unterminated and in a block of exactly its length, to
 * amend_options_parse, whose contract is to read only `len` bytes.
 *
 * Trust: the input is hostile. Asserted (a violation traps): results are
 * known codes; an error's word lies inside the argument it names; on
 * success the request holds valid codes (and asks for something) and the
 * file name is one of the words.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_util.h"
#include "src/amend/amend_request.h"
#include "src/cli/amend_args.h"

#define MAX_WORDS 32

static bool inside(const char *p, size_t n, const char *base, size_t len)
{
	return p >= base && n <= len && (size_t)(p - base) <= len - n;
}

static bool request_ok(const struct amend_request *r)
{
	return (r->compat == AMEND_COMPAT_KEEP || r->compat == AMEND_COMPAT_V2 ||
		r->compat == AMEND_COMPAT_V3) &&
	       (r->lazy == AMEND_LAZY_KEEP || r->lazy == AMEND_LAZY_OFF ||
		r->lazy == AMEND_LAZY_ON);
}

static void fuzz_options(const uint8_t *data, size_t size)
{
	struct amend_request req = { 0, 0 };
	struct args_error err = { ARGS_OK, NULL, 0 };
	char *s = malloc(size ? size : 1);
	enum args_err e;

	if (s == NULL)
		return;
	if (size)
		memcpy(s, data, size);
	e = amend_options_parse(s, size, &req, &err);
	FUZZ_ASSERT((unsigned)e < (unsigned)ARGS_COUNT_);
	FUZZ_ASSERT(request_ok(&req));
	if (e != ARGS_OK) {
		FUZZ_ASSERT(err.code == e);
		if (err.arg != NULL)
			FUZZ_ASSERT(inside(err.arg, err.arg_len, s, size));
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *words[MAX_WORDS + 1];
	size_t lens[MAX_WORDS];
	int argc = 0;
	size_t start = 0;
	struct amend_args out;
	struct args_error err;
	enum args_err e;

	fuzz_options(data, size);

	for (size_t i = 0; i <= size && argc < MAX_WORDS; i++) {
		if (i < size && data[i] != 0)
			continue;
		size_t n = i - start;
		words[argc] = malloc(n + 1);
		if (words[argc] == NULL)
			break;
		memcpy(words[argc], data + start, n);
		words[argc][n] = '\0';
		lens[argc] = n;
		argc++;
		start = i + 1;
	}
	words[argc] = NULL;

	e = amend_args_parse(argc, words, &out, &err);
	FUZZ_ASSERT((unsigned)e < (unsigned)ARGS_COUNT_);
	if (e == ARGS_OK) {
		bool named = false;
		FUZZ_ASSERT(request_ok(&out.request));
		FUZZ_ASSERT(out.request.compat != AMEND_COMPAT_KEEP ||
			    out.request.lazy != AMEND_LAZY_KEEP);
		FUZZ_ASSERT(out.output == OUTPUT_HUMAN ||
			    out.output == OUTPUT_JSON);
		FUZZ_ASSERT(out.filename != NULL);
		for (int k = 0; k < argc; k++)
			named = named || out.filename == words[k];
		FUZZ_ASSERT(named);
	} else if (e != ARGS_HELP && e != ARGS_OPTIONS_HELP) {
		FUZZ_ASSERT(err.code == e);
		if (err.arg != NULL) {
			bool in_word = false;
			for (int k = 0; k < argc; k++)
				in_word = in_word || inside(err.arg, err.arg_len,
							    words[k], lens[k]);
			FUZZ_ASSERT(in_word);
		}
	}
	for (int k = 0; k < argc; k++)
		free(words[k]);
	return 0;
}
