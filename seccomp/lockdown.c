/*
 * lockdown.c - capability drop (libcap-ng), no_new_privs, and the seccomp
 * filter (libseccomp) built from the generated policy table.
 *
 * Trusts: the kernel, libcap-ng, libseccomp, and the compiled-in policy table
 * (generated at build time from seccomp/policy.txt) — though the table is
 * still checked against its own capacities and against libseccomp's syscall
 * numbering before use. Never prints, never exits; returns enum lockdown_err.
 */
#define _GNU_SOURCE
#include "seccomp/lockdown.h"

#include <cap-ng.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>

#include "seccomp/cmp32.h"
#include "seccomp/policy_table.h"

#ifdef INSTAR_SANITIZER_BUILD
#include <sanitizer/lsan_interface.h>
#endif

/* Most libseccomp rules one policy line may expand to (the product of its
 * set sizes); far above anything a sane policy needs. */
#define LOCKDOWN_MAX_EXPANSION 256u

static const char *const messages[LOCKDOWN_ERR_COUNT_] = {
	[LOCKDOWN_OK] = "no error",
	[LOCKDOWN_ERR_PROFILE] = "unknown lockdown profile",
	[LOCKDOWN_ERR_BINDING] = "lockdown needs the open image's file descriptor, the /dev/kvm path and the header's last sector",
	[LOCKDOWN_ERR_CAPS_READ] = "cannot read the process capabilities",
	[LOCKDOWN_ERR_CAPS_DROP] = "cannot drop capabilities",
	[LOCKDOWN_ERR_CAPS_LEFT] = "capabilities remain after dropping them",
	[LOCKDOWN_ERR_NO_NEW_PRIVS] = "cannot set no_new_privs",
	[LOCKDOWN_ERR_TABLE] = "the built-in seccomp policy table is inconsistent",
	[LOCKDOWN_ERR_FILTER] = "cannot build the seccomp filter",
	[LOCKDOWN_ERR_LOAD] = "the kernel refused the seccomp filter",
	[LOCKDOWN_ERR_TIGHTEN] = "cannot stack the narrower seccomp filter",
};

const char *lockdown_strerror(enum lockdown_err err)
{
	if ((unsigned)err >= (unsigned)LOCKDOWN_ERR_COUNT_ || messages[err] == NULL)
		return "unknown lockdown error";
	return messages[err];
}

static bool profile_valid(enum lockdown_profile p)
{
	return p == LOCKDOWN_PROFILE_SETUP || p == LOCKDOWN_PROFILE_RUN;
}

static bool in_profile(enum lockdown_profile p, enum policy_stage s)
{
	if (s == POLICY_STAGE_ALWAYS)
		return true;
	return s == POLICY_STAGE_SETUP && p == LOCKDOWN_PROFILE_SETUP;
}

static bool binding_valid(const struct lockdown_binding *b)
{
	return b != NULL && b->image_fd >= 0 && b->kvm_path != NULL &&
	       strcmp(b->kvm_path, "/dev/kvm") == 0 &&
	       b->header_last_sector % 512u == 0;
}

static enum lockdown_err value_of(const struct policy_value *v,
				  const struct lockdown_binding *b, uint64_t *out)
{
	switch (v->kind) {
	case POLICY_VAL_CONST:
		*out = v->v;
		return LOCKDOWN_OK;
	case POLICY_VAL_IMAGE_FD:
		/* binding_valid() was checked by the caller. */
		*out = (uint64_t)b->image_fd;
		return LOCKDOWN_OK;
	case POLICY_VAL_KVM_PATH:
		*out = (uint64_t)(uintptr_t)b->kvm_path;
		return LOCKDOWN_OK;
	case POLICY_VAL_HEADER_LAST_SECTOR:
		*out = b->header_last_sector;
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
	for (size_t j = 0; j < e->nconds; j++) {
		enum lockdown_err err = cond_atoms(&e->conds[j], b, alt[j],
						   &nalt[j]);
		if (err != LOCKDOWN_OK)
			return err;
		if (__builtin_mul_overflow(combos, nalt[j], &combos) ||
		    combos > LOCKDOWN_MAX_EXPANSION)
			return LOCKDOWN_ERR_TABLE;
	}
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

enum lockdown_err lockdown_build_filter(enum lockdown_profile profile,
					const struct lockdown_binding *b,
					scmp_filter_ctx *out)
{
	if (!profile_valid(profile))
		return LOCKDOWN_ERR_PROFILE;
	if (!binding_valid(b))
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
	for (size_t i = 0; i < policy_table_len; i++) {
		const struct policy_entry *e = &policy_table[i];
		if (e->stage != POLICY_STAGE_SETUP && e->stage != POLICY_STAGE_ALWAYS) {
			seccomp_release(ctx);
			return LOCKDOWN_ERR_TABLE;
		}
		if (!in_profile(profile, e->stage))
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

static enum lockdown_err load(enum lockdown_profile profile,
			      const struct lockdown_binding *b)
{
	scmp_filter_ctx ctx = NULL;
	enum lockdown_err err = lockdown_build_filter(profile, b, &ctx);
	if (err != LOCKDOWN_OK)
		return err;
	int rc = seccomp_load(ctx);
	seccomp_release(ctx);
	return rc == 0 ? LOCKDOWN_OK : LOCKDOWN_ERR_LOAD;
}

/*
 * Empties every capability set. The bounding set can only be reduced with
 * CAP_SETPCAP; a process without it (an ordinary user in the kvm group)
 * keeps its bounding set, which only limits what execve() could grant —
 * and execve is outside the policy, and no_new_privs forbids gaining
 * privileges through it anyway.
 */
static enum lockdown_err drop_caps(void)
{
	if (capng_get_caps_process() != 0)
		return LOCKDOWN_ERR_CAPS_READ;
	bool can_bound = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP) != 0;

	capng_clear(CAPNG_SELECT_ALL);
	capng_select_t sel = can_bound ? CAPNG_SELECT_ALL
				       : (capng_select_t)(CAPNG_SELECT_CAPS |
							  CAPNG_SELECT_AMBIENT);
	if (capng_apply(sel) != 0)
		return LOCKDOWN_ERR_CAPS_DROP;

	/* Read back from the kernel rather than trusting the apply. */
	if (capng_get_caps_process() != 0)
		return LOCKDOWN_ERR_CAPS_READ;
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE)
		return LOCKDOWN_ERR_CAPS_LEFT;
	if (can_bound && capng_have_capabilities(CAPNG_SELECT_BOUNDS) != CAPNG_NONE)
		return LOCKDOWN_ERR_CAPS_LEFT;
	for (unsigned long cap = 0;; cap++) {
		int r = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0UL, 0UL);
		if (r < 0 && errno == EINVAL)
			break; /* past the kernel's last capability */
		if (r != 0)
			return LOCKDOWN_ERR_CAPS_LEFT;
		if (cap > 255u)
			return LOCKDOWN_ERR_CAPS_READ;
	}
	return LOCKDOWN_OK;
}

enum lockdown_err lockdown_apply(enum lockdown_profile profile,
				 const struct lockdown_binding *b)
{
	/* Check everything that can be checked before changing anything. */
	if (!profile_valid(profile))
		return LOCKDOWN_ERR_PROFILE;
	if (!binding_valid(b))
		return LOCKDOWN_ERR_BINDING;

#ifdef INSTAR_SANITIZER_BUILD
	/* Sanitizer builds only: LeakSanitizer's exit-time check stops the
	 * world with clone/ptrace and reads /proc, which no filter of ours
	 * allows. Run the check now, before lockdown; this also turns the
	 * exit-time check off, so allocations made after lockdown are not
	 * leak-checked (ASan still checks every access). */
	__lsan_do_leak_check();
#endif
	enum lockdown_err err = drop_caps();
	if (err != LOCKDOWN_OK)
		return err;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) != 0)
		return LOCKDOWN_ERR_NO_NEW_PRIVS;
	return load(profile, b);
}

enum lockdown_err lockdown_tighten(const struct lockdown_binding *b)
{
	if (!binding_valid(b))
		return LOCKDOWN_ERR_BINDING;
	return load(LOCKDOWN_PROFILE_RUN, b) == LOCKDOWN_OK ? LOCKDOWN_OK
							     : LOCKDOWN_ERR_TIGHTEN;
}
