/*
 * cmp32.c - 32-bit comparisons as unions of masked equalities (cmp32.h).
 *
 * x > n: walk the bits of n from the top. Where n has a 0 at bit k, every
 * x that agrees with n above k and has a 1 at k is greater, and every
 * greater x is of that form for exactly one k (its highest bit differing
 * from n). x < n is the same with the 1 bits of n. So each comparison is
 * at most 32 disjoint atoms. Trusts nothing.
 */
#include "seccomp/cmp32.h"

/* Bits 31..k set. */
static uint32_t top_bits(unsigned k)
{
	return (uint32_t)(UINT64_C(0xffffffff) << k);
}

static size_t greater(uint32_t n, struct cmp32_atom *out)
{
	size_t c = 0;
	for (unsigned k = 32; k-- > 0;) {
		uint32_t bit = (uint32_t)1u << k;
		if ((n & bit) != 0)
			continue;
		out[c].mask = top_bits(k);
		out[c].value = (n & top_bits(k)) | bit;
		c++;
	}
	return c;
}

static size_t less(uint32_t n, struct cmp32_atom *out)
{
	size_t c = 0;
	for (unsigned k = 32; k-- > 0;) {
		uint32_t bit = (uint32_t)1u << k;
		if ((n & bit) == 0)
			continue;
		out[c].mask = top_bits(k);
		out[c].value = (n & top_bits(k)) & ~bit;
		c++;
	}
	return c;
}

static size_t always(struct cmp32_atom *out)
{
	out[0].mask = 0;
	out[0].value = 0;
	return 1;
}

size_t cmp32_expand(enum policy_op op, uint32_t n,
		    struct cmp32_atom out[CMP32_MAX_ATOMS])
{
	switch (op) {
	case POLICY_OP_EQ:
		out[0].mask = UINT32_MAX;
		out[0].value = n;
		return 1;
	case POLICY_OP_NE: {
		/* x < n and x > n: popcount(n) + (32 - popcount(n)) atoms. */
		size_t c = less(n, out);
		return c + greater(n, out + c);
	}
	case POLICY_OP_LT:
		return less(n, out);
	case POLICY_OP_LE:
		return n == UINT32_MAX ? always(out) : less(n + 1u, out);
	case POLICY_OP_GT:
		return greater(n, out);
	case POLICY_OP_GE:
		return n == 0 ? always(out) : greater(n - 1u, out);
	case POLICY_OP_MASKED_EQ:
	default:
		return 0;
	}
}

bool cmp32_match(const struct cmp32_atom *atoms, size_t n, uint32_t x)
{
	for (size_t i = 0; i < n; i++) {
		if ((x & atoms[i].mask) == atoms[i].value)
			return true;
	}
	return false;
}
