/*
 * sandbox_steps.c — see sandbox_steps.h.
 */
#include "src/cli/sandbox_steps.h"

#include <stdio.h>
#include <string.h>

#include "src/cli/background.h"
#include "src/cli/messages.h"
#include "src/cli/output.h"
#include "src/cli/process_setup.h"

_Static_assert(SANDBOX_KVM_PATH_ADDR == LOCKDOWN_KVM_PATH_ADDR,
	       "the pinned /dev/kvm is where the precompiled filters expect it");

static int lockdown_error(enum lockdown_err le)
{
	msg_print(stderr, msg_lockdown(le), NULL, 0, NULL);
	return EXIT_REFUSED;
}

/* Capabilities and no_new_privs are per thread and inherited, so the
 * helper is created after they are gone (and before the filter, which
 * has no clone). Every descriptor but the image's is closed first. */
int steps_lockdown(struct lockdown_binding *bind)
{
	enum lockdown_err le;

	if (!process_close_above(bind->image_fd))
		return lockdown_error(LOCKDOWN_ERR_BINDING);
	le = lockdown_drop_privileges();
	if (le != LOCKDOWN_OK)
		return lockdown_error(le);
	(void)background_start();
	if (!sandbox_kvm_path_pin())
		return lockdown_error(LOCKDOWN_ERR_BINDING);
	bind->kvm_path = sandbox_kvm_path();
	background_ready();
	le = lockdown_load(LOCKDOWN_PROFILE_SETUP, bind);
	return le == LOCKDOWN_OK ? EXIT_OK : lockdown_error(le);
}

void steps_prebuild(struct sandbox_prebuilt *pre)
{
	kvm_vm_clear(&pre->vm);
	pre->err = SANDBOX_ERR_VM_SETUP;
	background_run(sandbox_prebuild, pre);
}

void steps_prebuilt_unused(struct sandbox_prebuilt *pre)
{
	background_wait();
	sandbox_prebuilt_release(pre);
}

/* sandbox_run()'s after_setup hook: once the VM, its memory and the vCPU
 * exist, and before the guest's first instruction, stack the narrower
 * seccomp filter (no more openat, VM-building ioctls, shared mappings or
 * seccomp). */
struct tighten_ctx {
	const struct lockdown_binding *bind;
	bool called;
	enum lockdown_err err;
};

static enum sandbox_err tighten_after_setup(void *p)
{
	struct tighten_ctx *t = p;

	t->called = true;
	t->err = lockdown_tighten(t->bind);
	return t->err == LOCKDOWN_OK ? SANDBOX_OK : SANDBOX_ERR_VM_SETUP;
}

/* --stats: one line of counters (for bench/bench.sh); like the error
 * lines, unchecked: if stderr fails there is nowhere else to say so. */
static void print_stats(const struct sandbox_outcome *out)
{
	char line[320];

	(void)snprintf(line, sizeof(line),
		       "stats: exits=%u mmio_exits=%u notifies=%u requests=%u "
		       "read_bytes=%llu report_flushes=%u guest_run_us=%llu "
		       "sandbox_us=%llu",
		       out->exits, out->mmio_exits, out->notifies, out->requests,
		       (unsigned long long)out->read_bytes, out->report_flushes,
		       (unsigned long long)(out->run_ns / 1000u),
		       (unsigned long long)(out->elapsed_ns / 1000u));
	msg_print(stderr, line, NULL, 0, NULL);
}

static void release_vm(void *out)
{
	sandbox_release(out);
}

int steps_run_guest(struct sandbox_config *cfg,
		    const struct lockdown_binding *bind,
		    struct sandbox_prebuilt *pre, bool stats,
		    struct sandbox_outcome *out)
{
	struct tighten_ctx tighten = { bind, false, LOCKDOWN_OK };
	enum sandbox_err se;

	cfg->after_setup = tighten_after_setup;
	cfg->after_setup_ctx = &tighten;
	/* The VM's teardown (half a millisecond in the kernel) runs on the
	 * helper thread while the answer is judged. */
	cfg->defer_teardown = true;
	/* The VM was being built on the helper thread during the pre-probe;
	 * sandbox_run() loads guest RAM, then joins it. */
	cfg->prebuilt = pre;
	cfg->prebuilt_wait = background_wait;
	se = sandbox_run(cfg, out);
	if (stats)
		print_stats(out);
	background_run(release_vm, out);
	if (tighten.err != LOCKDOWN_OK)
		return lockdown_error(tighten.err);
	if (se == SANDBOX_OK && !tighten.called)
		/* The guest ran without the second filter: a sandbox bug. */
		return lockdown_error(LOCKDOWN_ERR_TIGHTEN);
	if (se != SANDBOX_OK) {
		msg_print(stderr, msg_sandbox(se), NULL, 0, NULL);
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

void steps_finish(void)
{
	background_wait();
}
