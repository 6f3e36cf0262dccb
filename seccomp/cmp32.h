/*
 * cmp32.h - a comparison of a 32-bit syscall argument, written as a union
 * of masked equalities.
 *
 * The kernel reads only the low 32 bits of an int or unsigned int argument,
 * whatever the caller left in the high half of the register, so a filter
 * that compares the whole 64-bit register with <, >, != can be fooled: with
 * a high half of 1, `fd > 3` holds for fd 3. A masked equality with a mask
 * inside the low 32 bits looks only at what the kernel reads. Every
 * comparison of a 32-bit value x with a constant n is a union of at most 32
 * such equalities (one per bit position where the binary prefixes part),
 * which libseccomp can express as alternative rules.
 *
 * Pure: no I/O, no allocation. Trusts nothing; fuzzed and tested against
 * the plain comparison.
 */
#ifndef INSTAR_SECCOMP_CMP32_H
#define INSTAR_SECCOMP_CMP32_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seccomp/policy_table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* x matches when (x & mask) == value. */
struct cmp32_atom {
	uint32_t mask;
	uint32_t value;
};

#define CMP32_MAX_ATOMS 32u

/*
 * Writes the atoms whose union is {x : x OP n} (op: EQ, NE, LT, LE, GT or
 * GE) and returns how many; 0 means no x matches (e.g. x > 0xffffffff).
 * An always-true comparison is the single atom {0, 0}. Returns 0 and
 * writes nothing for MASKED_EQ or an unknown op.
 */
size_t cmp32_expand(enum policy_op op, uint32_t n,
		    struct cmp32_atom out[CMP32_MAX_ATOMS]);

/* Does x match any of the atoms? (For tests and fuzzers.) */
bool cmp32_match(const struct cmp32_atom *atoms, size_t n, uint32_t x);

#ifdef __cplusplus
}
#endif

#endif
