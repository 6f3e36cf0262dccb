/*
 * guest_blob.h — the guest program the sandboxed commands run: the
 * embedded guest.bin in the shipped binary (guest_blob.c), a misbehaving
 * guest in test-only binaries (tests/validate/replay_guest_blob.c). The
 * guest is never loaded from a path at run time. Trust: the build.
 */
#ifndef INSTAR_CLI_GUEST_BLOB_H
#define INSTAR_CLI_GUEST_BLOB_H

#include "sandbox/sandbox.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sandbox_guest instar_guest_blob(void);

#ifdef __cplusplus
}
#endif

#endif
