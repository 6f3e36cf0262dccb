/*
 * filter_build.h - build the libseccomp filter for one lockdown profile
 * from policy entries and a binding (see filter_build.c). Used by the
 * binary and by the build-time generator.
 */
#ifndef INSTAR_SECCOMP_FILTER_BUILD_H
#define INSTAR_SECCOMP_FILTER_BUILD_H

#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>

#include "seccomp/lockdown.h"
#include "seccomp/policy_table.h"

#ifdef __cplusplus
extern "C" {
#endif

bool lockdown_profile_valid(enum lockdown_profile p);
bool lockdown_binding_valid(const struct lockdown_binding *b);

/* The filter of `profile` over table[0, len) with the variables bound as
 * in *b. On success the caller owns *out (seccomp_release()). */
enum lockdown_err filter_build(const struct policy_entry *table, size_t len,
			       enum lockdown_profile profile,
			       const struct lockdown_binding *b,
			       scmp_filter_ctx *out);

#ifdef __cplusplus
}
#endif

#endif
