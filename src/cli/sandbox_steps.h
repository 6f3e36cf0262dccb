/*
 * sandbox_steps.h — the steps every sandboxed command (amend, info,
 * check) takes around its guest, in the order DESIGN.md gives: close
 * every descriptor but the image's, drop capabilities and set
 * no_new_privs, start the helper thread, pin "/dev/kvm", load the first
 * seccomp filter; build the VM on the helper thread while the caller
 * pre-probes; stack the second filter once the VM exists; run the guest;
 * tear the VM down on the helper thread. What the guest returns is not
 * looked at here.
 *
 * Trust: none of the image; the steps only sequence the sandbox and the
 * lockdown and print their failures (one message each, from the table).
 */
#ifndef INSTAR_CLI_SANDBOX_STEPS_H
#define INSTAR_CLI_SANDBOX_STEPS_H

#include <stdbool.h>

#include "sandbox/sandbox.h"
#include "seccomp/lockdown.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Lock down (first filter) with `bind`; its kvm_path is filled in here.
 * EXIT_OK, or the exit status after printing why not. */
int steps_lockdown(struct lockdown_binding *bind);

/* Start building the VM on the helper thread (after steps_lockdown()). */
void steps_prebuild(struct sandbox_prebuilt *pre);

/* Release a prebuilt VM no run took over (the command stopped before
 * its guest ran). */
void steps_prebuilt_unused(struct sandbox_prebuilt *pre);

/* Run the guest `cfg` describes on the prebuilt VM, under the second
 * filter (stacked once the VM exists, before the guest's first
 * instruction), and hand the VM's teardown to the helper thread. With
 * `stats`, print the sandbox's counters on stderr as "instar CMD:
 * stats: ...". EXIT_OK when the guest rang its doorbell (*out then holds
 * what it did, unvalidated), else the exit status after printing why. */
int steps_run_guest(struct sandbox_config *cfg,
		    const struct lockdown_binding *bind,
		    struct sandbox_prebuilt *pre, bool stats,
		    struct sandbox_outcome *out);

/* Wait for the helper thread's last job (the teardown). */
void steps_finish(void);

#ifdef __cplusplus
}
#endif

#endif
