/*
 * guest_run.h — the steps of one guest run that do not depend on how the
 * VM was made (sandbox_run() builds one per run, a sandbox_session
 * reuses one): check the config, load guest RAM, and execute (device,
 * after_setup hook, run loop, copy-out). Internal to the sandbox.
 *
 * Trust: the config comes from the host (checked anyway); the result
 * record and staged bytes come from the guest and are returned as-is,
 * unvalidated, for src/image/validate.c.
 */
#ifndef INSTAR_SANDBOX_GUEST_RUN_H
#define INSTAR_SANDBOX_GUEST_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "sandbox/kvm_vm.h"
#include "sandbox/sandbox.h"
#include "sandbox/staging.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Everything sandbox_run() checks about cfg and out before any VM. */
bool guest_run_config_ok(const struct sandbox_config *cfg,
			 const struct sandbox_outcome *out);

/* The RAM layout of cfg's run (sandbox_ram_plan()); false if invalid. */
bool guest_run_plan(const struct sandbox_config *cfg,
		    struct sandbox_ram_plan *plan);

/* Copy the guest image, its parameter page and the pre-probed header
 * cluster into RAM laid out as `plan`, and write the GDT and page
 * tables. */
enum sandbox_err guest_run_load(struct guest_mem *m,
				const struct sandbox_config *cfg,
				const struct sandbox_ram_plan *plan);

/* The vCPU is loaded and RAM attached: hand the device over, call
 * cfg->after_setup, run, and fill *out (its staged buffer through
 * *stage). */
enum sandbox_err guest_run_execute(struct kvm_vm *vm,
				   const struct sandbox_config *cfg,
				   struct staging *stage,
				   struct sandbox_outcome *out);

#ifdef __cplusplus
}
#endif

#endif
