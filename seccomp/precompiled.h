/*
 * precompiled.h - the seccomp programs compiled at build time.
 *
 * The filters depend on the binding of the policy's variables. The CLI
 * always binds the same values but one: the image is descriptor 3 (it
 * closes everything above 2 first), "/dev/kvm" is pinned at
 * LOCKDOWN_KVM_PATH_ADDR, and $write_last_sector is 2^62 - 512 in the
 * first filter (no image is larger) and 2^bits - 512 in the second: the
 * header cluster's last sector (bits = cluster bits, 9 .. 21), or, for
 * a downgrade that may expand zero clusters, the last sector of the
 * smallest power of two that holds the largest file the expansion can
 * leave (bits up to 62). policygen builds exactly
 * those programs with libseccomp (filter_build.c, the code the binary
 * would run) and exports them as BPF into policy_table_gen.c; the binary
 * then loads them with the seccomp syscall and spends no time in
 * libseccomp. Any other binding (tests) is built at run time.
 * tests/seccomp/precompiled_test.cc checks that a run-time build of each
 * canonical binding is byte-identical to its precompiled program.
 *
 * Trust: the build (like the policy table itself).
 */
#ifndef INSTAR_SECCOMP_PRECOMPILED_H
#define INSTAR_SECCOMP_PRECOMPILED_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seccomp/lockdown.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LOCKDOWN_CANONICAL_IMAGE_FD 3
#define LOCKDOWN_SETUP_LAST_SECTOR ((1ULL << 62) - 512u)
#define LOCKDOWN_MIN_CLUSTER_BITS 9u
#define LOCKDOWN_MAX_CLUSTER_BITS 21u
#define LOCKDOWN_MAX_WRITE_BITS 62u
#define LOCKDOWN_RUN_PROGRAMS \
	(LOCKDOWN_MAX_WRITE_BITS - LOCKDOWN_MIN_CLUSTER_BITS + 1u)

struct precompiled_filter {
	enum lockdown_profile profile;
	bool read_only;
	uint64_t write_last_sector;
	size_t len;                      /* instructions */
	const struct sock_filter *prog;
};

/* policy_table_gen.c: the writer's setup program, one writer's run
 * program per write bound 2^bits - 512 (index 1 + bits -
 * LOCKDOWN_MIN_CLUSTER_BITS, bits up to LOCKDOWN_MAX_WRITE_BITS),
 * then the reader's setup and run programs (which depend on no cluster
 * size: they have no pwrite64). */
#define LOCKDOWN_PRECOMPILED (1u + LOCKDOWN_RUN_PROGRAMS + 2u)
extern const struct precompiled_filter policy_precompiled[LOCKDOWN_PRECOMPILED];

/* The precompiled program for this profile and binding, or NULL. */
const struct precompiled_filter *
lockdown_precompiled(enum lockdown_profile profile,
		     const struct lockdown_binding *b);

/* The canonical binding of a profile (for the generator and the tests):
 * run programs that write below 2^bits bytes. */
struct lockdown_binding lockdown_canonical_binding(enum lockdown_profile profile,
						   unsigned bits);

/* The canonical binding of a read-only command (both profiles). */
struct lockdown_binding lockdown_canonical_reader(void);

#ifdef __cplusplus
}
#endif

#endif
