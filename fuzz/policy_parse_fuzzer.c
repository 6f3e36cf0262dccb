/*
 * policy_parse_fuzzer.c — fuzz target 6: the seccomp policy-file parser
 * (policy_parse), which turns seccomp/policy.txt into the build-time
 * table the binary loads.
 *
 * Input: a policy file, copied into a block of exactly its length (the
 * parser must read only `len` bytes). It is parsed as the shipped file,
 * then once more appended as the sanitizer file.
 *
 * Trust: the input is hostile. Asserted (a violation traps): known result
 * codes with a matching diagnosis; on error the policy keeps the rules it
 * had; on success every rule is well formed (NUL-terminated strings,
 * argument numbers 0..5, widths 32/64, at most POLICY_MAX_SET values, in
 * stage and origin as tagged).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_util.h"
#include "seccomp/policy_parse.h"

static void check_rules(const struct policy *p, size_t from,
			enum policy_origin origin)
{
	FUZZ_ASSERT(p->nrules <= POLICY_MAX_RULES);
	for (size_t i = from; i < p->nrules; i++) {
		const struct policy_rule *r = &p->rules[i];
		FUZZ_ASSERT(memchr(r->syscall, 0, sizeof(r->syscall)) != NULL);
		FUZZ_ASSERT(memchr(r->text, 0, sizeof(r->text)) != NULL);
		FUZZ_ASSERT(memchr(r->reason, 0, sizeof(r->reason)) != NULL);
		FUZZ_ASSERT(r->syscall[0] >= 'a' && r->syscall[0] <= 'z');
		FUZZ_ASSERT(r->reason[0] != '\0');
		FUZZ_ASSERT(r->origin == origin);
		FUZZ_ASSERT(r->stage == POLICY_STAGE_SETUP ||
			    r->stage == POLICY_STAGE_ALWAYS ||
			    r->stage == POLICY_STAGE_WRITE);
		FUZZ_ASSERT(r->line >= 1 && r->col >= 1);
		FUZZ_ASSERT(r->nconds <= POLICY_MAX_ARGS);
		for (size_t k = 0; k < r->nconds; k++) {
			const struct policy_cond *c = &r->conds[k];
			FUZZ_ASSERT(c->arg <= 5);
			FUZZ_ASSERT(c->width == 32 || c->width == 64);
			FUZZ_ASSERT(c->nvalues >= 1 && c->nvalues <= POLICY_MAX_SET);
			for (size_t j = 0; j < k; j++)
				FUZZ_ASSERT(r->conds[j].arg != c->arg);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct policy p;
	struct policy_diag d;
	enum policy_err e;
	char *buf = malloc(size ? size : 1);
	size_t before;

	if (buf == NULL)
		return 0;
	if (size)
		memcpy(buf, data, size);
	policy_init(&p);
	FUZZ_ASSERT(p.nrules == 0);

	e = policy_parse(buf, size, POLICY_ORIGIN_SHIPPED, &p, &d);
	FUZZ_ASSERT((unsigned)e < (unsigned)POLICY_ERR_COUNT_);
	FUZZ_ASSERT(policy_strerror(e) != NULL);
	if (e != POLICY_OK) {
		FUZZ_ASSERT(d.err == e);
		FUZZ_ASSERT(p.nrules == 0);
		goto done;
	}
	check_rules(&p, 0, POLICY_ORIGIN_SHIPPED);

	before = p.nrules;
	e = policy_parse(buf, size, POLICY_ORIGIN_SANITIZER, &p, &d);
	FUZZ_ASSERT((unsigned)e < (unsigned)POLICY_ERR_COUNT_);
	if (e != POLICY_OK) {
		FUZZ_ASSERT(d.err == e);
		FUZZ_ASSERT(p.nrules == before);
	} else {
		check_rules(&p, before, POLICY_ORIGIN_SANITIZER);
	}
done:
	free(buf);
	return 0;
}
