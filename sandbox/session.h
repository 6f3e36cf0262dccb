/*
 * session.h — one VM kept for many guest runs, for the cross-boundary
 * fuzzer (fuzz/amend_guest_fuzzer.c): building a VM costs about a
 * millisecond, resetting one a fraction of that. Between runs guest RAM
 * is dropped (madvise MADV_DONTNEED: every page reads as zero again) and
 * reloaded, and the vCPU's registers are loaded afresh; a run that did
 * not end with the doorbell (a fault, a timeout, a protocol error)
 * marks the VM broken and the next run rebuilds it from nothing.
 *
 * The CLI does not use it: it runs one guest per process (sandbox_run()),
 * and its seccomp policy has no madvise.
 *
 * Trust: as sandbox.h — nothing the guest returns is trusted here.
 */
#ifndef INSTAR_SANDBOX_SESSION_H
#define INSTAR_SANDBOX_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "sandbox/kvm_vm.h"
#include "sandbox/sandbox.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sandbox_session {
	struct kvm_vm vm;
	uint64_t ram;        /* room for any cluster size and the walk area */
	bool used;           /* RAM has been written since it was mapped */
	bool broken;         /* the last run failed: rebuild first */
	uint32_t runs;       /* sandbox_session_run() calls */
	uint32_t rebuilds;   /* VMs built after the first */
};

/* Build the VM. On error nothing is left open. */
enum sandbox_err sandbox_session_open(struct sandbox_session *s);

/* One guest run, as sandbox_run(cfg, out) would do it (same checks, same
 * outcome), on the session's VM. cfg->prebuilt and cfg->defer_teardown
 * must be unset (SANDBOX_ERR_CONFIG). */
enum sandbox_err sandbox_session_run(struct sandbox_session *s,
				     const struct sandbox_config *cfg,
				     struct sandbox_outcome *out);

/* Tear the VM down; safe on a session that failed to open. */
void sandbox_session_close(struct sandbox_session *s);

#ifdef __cplusplus
}
#endif

#endif
