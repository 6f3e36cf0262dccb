/*
 * filter_build.c - turn policy entries (the generated table, or the
 * generator's own parse of policy.txt) and a binding of the policy's
 * variables into a libseccomp filter. Shared by the binary (lockdown.c,
 * for bindings without a precompiled program) and the build-time
 * generator (policygen.c, which precompiles the programs the binary
 * normally loads), so both come from one piece of code.
 *
 * Trusts: libseccomp and the entries, which are still checked against
 * their own capacities and against libseccomp's syscall numbering.
 */
#define _GNU_SOURCE
#include "seccomp/filter_build.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "seccomp/cmp32.h"
#include "seccomp/precompiled.h"

/* Most libseccomp rules one policy line may expand to (the product of its
 * set sizes); far above anything a sane policy needs. */
#define LOCKDOWN_MAX_EXPANSION 256u

bool lockdown_profile_valid(enum lockdown_profile p)
{
	return p == LOCKDOWN_PROFILE_SETUP || p == LOCKDOWN_PROFILE_RUN;
}

static bool in_profile(enum lockdown_profile p, enum policy_stage s,
		       const struct lockdown_binding *b)
{
	if (s == POLICY_STAGE_ALWAYS)
		return true;
	if (s == POLICY_STAGE_WRITE)
		return !b->read_only;
	return s == POLICY_STAGE_SETUP && p == LOCKDOWN_PROFILE_SETUP;
}

/* (Only the values: a filter can be built for an address that is not
 * mapped here, as policygen does. lockdown.c checks the bytes too.) */
bool lockdown_binding_valid(const struct lockdown_binding *b)
{
	return b != NULL && b->image_fd >= 0 && b->kvm_path != NULL &&
	       b->write_last_sector % 512u == 0;
}

static enum lockdown_err value_of(const struct policy_value *v,
				  const struct lockdown_binding *b, uint64_t *out)
{
	switch (v->kind) {
	case POLICY_VAL_CONST:
		*out = v->v;
		return LOCKDOWN_OK;
	case POLICY_VAL_IMAGE_FD:
		/* lockdown_binding_valid() was checked by the caller. */
		*out = (uint64_t)b->image_fd;
		return LOCKDOWN_OK;
	case POLICY_VAL_KVM_PATH:
		*out = (uint64_t)(uintptr_t)b->kvm_path;
		return LOCKDOWN_OK;
	case POLICY_VAL_WRITE_LAST_SECTOR:
		*out = b->write_last_sector;
		return LOCKDOWN_OK;
	}
	return LOCKDOWN_ERR_TABLE;
}

static bool cmp_of(enum policy_op op, enum scmp_compare *out)
{
	switch (op) {
	case POLICY_OP_EQ: *out = SCMP_CMP_EQ; return true;
	case POLICY_OP_NE: *out = SCMP_CMP_NE; return true;
	case POLICY_OP_LT: *out = SCMP_CMP_LT; return true;
	case POLICY_OP_LE: *out = SCMP_CMP_LE; return true;
	case POLICY_OP_GT: *out = SCMP_CMP_GT; return true;
	case POLICY_OP_GE: *out = SCMP_CMP_GE; return true;
	case POLICY_OP_MASKED_EQ: *out = SCMP_CMP_MASKED_EQ; return true;
	}
	return false;
}

/* The libseccomp comparisons one condition stands for (any one of them
 * satisfies it): one per value of a set; for a 32-bit argument, masked
 * equalities on the low half only (seccomp/cmp32.h), so whatever the
 * caller leaves in the high half of the register cannot change the
 * verdict. At most CMP32_MAX_ATOMS. */
static enum lockdown_err cond_atoms(const struct policy_cond *c,
				    const struct lockdown_binding *b,
				    struct scmp_arg_cmp *out, size_t *n)
{
	*n = 0;
	if (c->nvalues == 0 || c->nvalues > POLICY_MAX_SET ||
	    c->arg >= POLICY_MAX_ARGS ||
	    (c->nvalues > 1 && c->op != POLICY_OP_EQ) ||
	    (c->width != 32 && c->width != 64) ||
	    (c->width == 32 && c->mask > UINT32_MAX))
		return LOCKDOWN_ERR_TABLE;
	for (size_t i = 0; i < c->nvalues; i++) {
		uint64_t val = 0;
		enum lockdown_err err = value_of(&c->values[i], b, &val);
		if (err != LOCKDOWN_OK)
			return err;
		if (c->width == 64) {
			enum scmp_compare op;
			if (!cmp_of(c->op, &op))
				return LOCKDOWN_ERR_TABLE;
			out[*n].arg = c->arg;
			out[*n].op = op;
			out[*n].datum_a = c->op == POLICY_OP_MASKED_EQ ? c->mask : val;
			out[*n].datum_b = c->op == POLICY_OP_MASKED_EQ ? val : 0;
			(*n)++;
			continue;
		}
		/* The kernel reads only the low half of an int argument. */
		if (val > UINT32_MAX)
			return LOCKDOWN_ERR_TABLE;
		struct cmp32_atom atoms[CMP32_MAX_ATOMS];
		size_t k;
		if (c->op == POLICY_OP_MASKED_EQ) {
			atoms[0].mask = (uint32_t)c->mask;
			atoms[0].value = (uint32_t)val;
			k = 1;
		} else {
			k = cmp32_expand(c->op, (uint32_t)val, atoms);
		}
		if (*n + k > CMP32_MAX_ATOMS)
			return LOCKDOWN_ERR_TABLE;
		for (size_t j = 0; j < k; j++) {
			out[*n].arg = c->arg;
			out[*n].op = SCMP_CMP_MASKED_EQ;
			out[*n].datum_a = atoms[j].mask;
			out[*n].datum_b = atoms[j].value;
			(*n)++;
		}
	}
	return LOCKDOWN_OK;
}

/*
 * Adds one policy line. A line stands for the cross product of its
 * conditions' alternatives (set values, or the masked equalities of a
 * 32-bit order comparison): one libseccomp rule (a conjunction) per
 * combination; libseccomp ORs the rules of one syscall together. A
 * condition no value can satisfy (x > 0xffffffff) adds no rule.
 */
static enum lockdown_err add_entry(scmp_filter_ctx ctx,
				   const struct policy_entry *e,
				   const struct lockdown_binding *b)
{
	if (e->syscall == NULL || e->nconds > POLICY_MAX_ARGS)
		return LOCKDOWN_ERR_TABLE;
	int nr = seccomp_syscall_resolve_name(e->syscall);
	if (nr == __NR_SCMP_ERROR || nr < 0 || nr != e->nr)
		return LOCKDOWN_ERR_TABLE;
	if (e->nconds == 0)
		return seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, nr, 0) == 0
			       ? LOCKDOWN_OK
			       : LOCKDOWN_ERR_FILTER;

	struct scmp_arg_cmp alt[POLICY_MAX_ARGS][CMP32_MAX_ATOMS];
	size_t nalt[POLICY_MAX_ARGS];
	size_t combos = 1;
	bool satisfiable = true;
	for (size_t j = 0; j < e->nconds; j++) {
		enum lockdown_err err = cond_atoms(&e->conds[j], b, alt[j],
						   &nalt[j]);
		if (err != LOCKDOWN_OK)
			return err;
		if (nalt[j] == 0)
			satisfiable = false;
		if (__builtin_mul_overflow(combos, nalt[j], &combos) ||
		    combos > LOCKDOWN_MAX_EXPANSION)
			return LOCKDOWN_ERR_TABLE;
	}
	/* An unsatisfiable condition makes combos 0 and the line adds no
	 * rule; said outright, so that the loop below visibly never divides
	 * by a zero nalt[j] (the analyzer cannot see through the product). */
	if (!satisfiable)
		return LOCKDOWN_OK;
	for (size_t k = 0; k < combos; k++) {
		struct scmp_arg_cmp cmp[POLICY_MAX_ARGS];
		size_t idx = k;
		for (size_t j = 0; j < e->nconds; j++) {
			cmp[j] = alt[j][idx % nalt[j]];
			idx /= nalt[j];
		}
		if (seccomp_rule_add_exact_array(ctx, SCMP_ACT_ALLOW, nr,
						 (unsigned int)e->nconds, cmp) != 0)
			return LOCKDOWN_ERR_FILTER;
	}
	return LOCKDOWN_OK;
}

enum lockdown_err filter_build(const struct policy_entry *table, size_t len,
			       enum lockdown_profile profile,
			       const struct lockdown_binding *b,
			       scmp_filter_ctx *out)
{
	if (!lockdown_profile_valid(profile))
		return LOCKDOWN_ERR_PROFILE;
	if (!lockdown_binding_valid(b))
		return LOCKDOWN_ERR_BINDING;

	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL)
		return LOCKDOWN_ERR_FILTER;
	/* Other ABIs (i386 via int 0x80, x32) are killed too. no_new_privs is
	 * set by lockdown_apply() itself so that a stacked load needs no prctl;
	 * TSYNC puts every thread under the filter or fails the load. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) != 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) != 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0) {
		seccomp_release(ctx);
		return LOCKDOWN_ERR_FILTER;
	}

	size_t added = 0;
	for (size_t i = 0; i < len; i++) {
		const struct policy_entry *e = &table[i];
		if (e->stage != POLICY_STAGE_SETUP && e->stage != POLICY_STAGE_ALWAYS &&
		    e->stage != POLICY_STAGE_WRITE) {
			seccomp_release(ctx);
			return LOCKDOWN_ERR_TABLE;
		}
		if (!in_profile(profile, e->stage, b))
			continue;
		enum lockdown_err err = add_entry(ctx, e, b);
		if (err != LOCKDOWN_OK) {
			seccomp_release(ctx);
			return err;
		}
		added++;
	}
	if (added == 0) {
		seccomp_release(ctx);
		return LOCKDOWN_ERR_TABLE;
	}
	*out = ctx;
	return LOCKDOWN_OK;
}


struct lockdown_binding lockdown_canonical_binding(enum lockdown_profile profile,
						   unsigned bits)
{
	struct lockdown_binding b = {
		.image_fd = LOCKDOWN_CANONICAL_IMAGE_FD,
		.kvm_path = (const char *)LOCKDOWN_KVM_PATH_ADDR,
		.write_last_sector = profile == LOCKDOWN_PROFILE_SETUP
					      ? LOCKDOWN_SETUP_LAST_SECTOR
					      : ((uint64_t)1 << bits) - 512u,
		.read_only = false,
	};
	return b;
}

struct lockdown_binding lockdown_canonical_reader(void)
{
	struct lockdown_binding b = {
		.image_fd = LOCKDOWN_CANONICAL_IMAGE_FD,
		.kvm_path = (const char *)LOCKDOWN_KVM_PATH_ADDR,
		.write_last_sector = 0,
		.read_only = true,
	};
	return b;
}
