/*
 * amend_cmd.h — `instar amend`: the whole flow of one amend, in the
 * order DESIGN.md gives it. Returns the process exit status.
 */
#ifndef INSTAR_AMEND_CMD_H
#define INSTAR_AMEND_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "sandbox/sandbox.h"

#ifdef __cplusplus
extern "C" {
#endif

/* argv[0] is the first argument after "amend". */
int amend_main(int argc, char *const argv[]);

void amend_usage(void);

#ifdef __cplusplus
}
#endif

#endif
