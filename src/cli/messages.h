/*
 * messages.h — the one table of everything `instar amend` can say when
 * it refuses or fails, per layer: usage errors, planner refusals, file
 * errors, sandbox errors, validation errors, lockdown errors. The spec's
 * messages appear here verbatim and nowhere else. Only the CLI prints.
 */
#ifndef INSTAR_MESSAGES_H
#define INSTAR_MESSAGES_H

#include "sandbox/sandbox_err.h"
#include "seccomp/lockdown.h"
#include "src/amend/amend_status.h"
#include "src/cli/amend_args.h"
#include "src/cli/inspect_args.h"
#include "src/cli/inspect_err.h"
#include "src/image/expand.h"
#include "src/image/image_file.h"
#include "src/image/validate.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Each returns a message; where it contains "%s" the caller substitutes
 * the arguments named in the comment (msg_print() in output.h does it
 * without printf, so no message is ever a format string). */
const char *msg_args(enum args_err e);        /* "%s": the word in error */
const char *msg_amend(enum amend_status s);   /* no argument */
const char *msg_image(enum image_err e);      /* "%s": path, then strerror */
const char *msg_sandbox(enum sandbox_err e);  /* no argument */
const char *msg_validate(enum validate_err e);/* no argument */
const char *msg_lockdown(enum lockdown_err e);/* no argument */
const char *msg_expand(enum expand_err e);    /* no argument */
const char *msg_stdout(void);                 /* "%s": strerror */
const char *msg_inspect(enum inspect_err e);  /* see inspect_err.h */
const char *msg_iargs(enum inspect_cmd cmd, enum iargs_err e); /* "%s": the word */

/* Exit statuses. */
#define EXIT_OK      0
#define EXIT_REFUSED 1   /* refusals and runtime errors */
#define EXIT_USAGE   2   /* bad command line */

#ifdef __cplusplus
}
#endif

#endif
