/*
 * print.h - print the seccomp policy as the binary installs it, for
 * `instar seccomp [--pfc]` and for security review. Trusts the generated
 * policy table and libseccomp's export.
 */
#ifndef INSTAR_SECCOMP_PRINT_H
#define INSTAR_SECCOMP_PRINT_H

#include <stdbool.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The image descriptor shown in the printed filters; at run time it is the
 * descriptor of the opened image (3 when instar starts with only 0, 1, 2). */
#define SECCOMP_PRINT_IMAGE_FD 3
/* $write_last_sector in the printed filters: the first filter's bound (the
 * largest header cluster, 2 MiB) and, for the second, a 64 KiB cluster's. */
#define SECCOMP_PRINT_SETUP_LAST_SECTOR ((1ULL << 62) - 512u)
#define SECCOMP_PRINT_RUN_LAST_SECTOR (0x10000u - 512u)

/*
 * Writes the human table (stage, syscall, constraints, reason, source line)
 * and the rule count to out. With pfc, also writes libseccomp's PFC export
 * of both filters exactly as lockdown_apply()/lockdown_tighten() build them.
 * Returns 0 on success, -1 if the filter cannot be built or out cannot be
 * written (pfc needs out to be backed by a file descriptor).
 */
int seccomp_print_policy(FILE *out, bool pfc);

#ifdef __cplusplus
}
#endif

#endif
