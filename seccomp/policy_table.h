/*
 * policy_table.h - the in-memory form of the seccomp allow-list.
 *
 * The parser (policy_parse.c) produces these records from seccomp/policy.txt;
 * the build-time generator (policygen.c) writes them out as a constant C
 * table (policy_table_gen.c) that lockdown.c turns into a libseccomp filter
 * and print.c prints. Nothing here is trusted beyond its own bounds: every
 * count is checked against the fixed capacities below by whoever reads it.
 */
#ifndef INSTAR_SECCOMP_POLICY_TABLE_H
#define INSTAR_SECCOMP_POLICY_TABLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Syscall arguments are numbered arg0..arg5, as in the kernel ABI. */
#define POLICY_MAX_ARGS 6u
/* Most values in one `argN in {...}` set. */
#define POLICY_MAX_SET 16u
/* Longest syscall name, reason and constraint text (including the NUL). */
#define POLICY_NAME_MAX 32u
#define POLICY_REASON_MAX 160u
#define POLICY_TEXT_MAX 200u

/*
 * When a rule is in force. The first filter (lockdown_apply) holds SETUP and
 * ALWAYS rules; the second, stacked filter (lockdown_tighten) holds ALWAYS
 * rules only, so SETUP rules stop working once the VM and vCPU exist. WRITE
 * rules are in both filters of a command that writes its image (amend) and
 * in neither filter of a read-only one (info, check: a binding with
 * read_only set).
 */
enum policy_stage {
	POLICY_STAGE_SETUP = 1,
	POLICY_STAGE_ALWAYS = 2,
	POLICY_STAGE_WRITE = 3,
};

/* Which file a rule came from. SANITIZER rules exist only in --config=asan. */
enum policy_origin {
	POLICY_ORIGIN_SHIPPED = 1,
	POLICY_ORIGIN_SANITIZER = 2,
};

/* Comparison of one argument; MASKED_EQ is `(arg & mask) == value`. */
enum policy_op {
	POLICY_OP_EQ = 1,
	POLICY_OP_NE,
	POLICY_OP_LT,
	POLICY_OP_LE,
	POLICY_OP_GT,
	POLICY_OP_GE,
	POLICY_OP_MASKED_EQ,
};

/* A value is a constant fixed at build time or a variable bound at run time
 * (struct lockdown_binding). */
enum policy_val_kind {
	POLICY_VAL_CONST = 1,
	POLICY_VAL_IMAGE_FD,     /* $image_fd: the descriptor of the open image
				    (32-bit arguments only) */
	POLICY_VAL_KVM_PATH,     /* $kvm_path: the address of the read-only
				    string "/dev/kvm" the sandbox opens
				    (64-bit arguments only) */
	POLICY_VAL_WRITE_LAST_SECTOR, /* $write_last_sector: the highest
				    offset a write may start at (the header
				    cluster's last sector, or the expansion's
				    bound; 64-bit arguments only) */
};

struct policy_value {
	enum policy_val_kind kind;
	uint64_t v; /* the constant (64-bit, negative ints sign-extended) */
};

/*
 * One argument constraint. nvalues > 1 only for `in {...}`: the constraint
 * holds when the argument equals any one of the values. With width 32 the
 * mask and the constant values fit in 32 bits, and every operator is
 * compared on the low half only (lockdown.c turns !=, <, <=, >, >= into
 * masked equalities: seccomp/cmp32.h).
 */
struct policy_cond {
	uint8_t arg;   /* 0..5 */
	uint8_t width; /* 64: the whole register; 32: its low half, which is all
			  the kernel reads of an int or unsigned int argument */
	enum policy_op op;
	uint64_t mask; /* MASKED_EQ only */
	size_t nvalues;
	struct policy_value values[POLICY_MAX_SET];
};

/*
 * One line of the policy: a syscall allowed when all its conditions hold
 * (several lines naming the same syscall are alternatives).
 */
struct policy_entry {
	const char *syscall;
	int nr; /* the x86-64 number libseccomp resolved at build time */
	enum policy_stage stage;
	enum policy_origin origin;
	const char *file; /* the policy file and line, for the printed table */
	unsigned line;
	const char *text;   /* the constraints as written, "" when none */
	const char *reason; /* the text after '#' */
	size_t nconds;
	struct policy_cond conds[POLICY_MAX_ARGS];
};

/* Generated from policy.txt (+ policy_sanitizer.txt under --config=asan). */
extern const struct policy_entry policy_table[];
extern const size_t policy_table_len;
/* 1 when this build's table includes the sanitizer-only rules. */
extern const int policy_table_has_sanitizer_rules;

#ifdef __cplusplus
}
#endif

#endif
