/*
 * session.c — see session.h.
 *
 * Syscalls: those of kvm_vm.c and run_loop.c, and madvise(MADV_DONTNEED)
 * on guest RAM between runs.
 */
#define _DEFAULT_SOURCE /* madvise */
#include "sandbox/session.h"

#include <string.h>
#include <sys/mman.h>

#include "sandbox/guest_run.h"
#include "sandbox/kvm_cpu_x86_64.h"
#include "sandbox/run_loop.h"

enum sandbox_err sandbox_session_open(struct sandbox_session *s)
{
	enum sandbox_err err;

	kvm_vm_clear(&s->vm);
	s->ram = sandbox_ram_bytes(GUEST_MAX_CLUSTER, true);
	s->used = false;
	s->broken = false;
	err = kvm_vm_create_cpu(&s->vm);
	if (err == SANDBOX_OK)
		err = kvm_vm_map_ram(&s->vm, s->ram);
	if (err == SANDBOX_OK)
		err = kvm_vm_attach_ram(&s->vm);
	if (err != SANDBOX_OK) {
		kvm_vm_destroy(&s->vm);
		s->broken = true;
	}
	return err;
}

void sandbox_session_close(struct sandbox_session *s)
{
	kvm_vm_destroy(&s->vm);
	s->broken = true;
}

/* Every page of guest RAM back to zero, as after the first mmap. */
static enum sandbox_err reset_ram(struct sandbox_session *s)
{
	if (!s->used)
		return SANDBOX_OK;
	if (madvise(s->vm.mem.base, s->vm.mem.size, MADV_DONTNEED) != 0)
		return SANDBOX_ERR_VM_SETUP;
	s->used = false;
	return SANDBOX_OK;
}

enum sandbox_err sandbox_session_run(struct sandbox_session *s,
				     const struct sandbox_config *cfg,
				     struct sandbox_outcome *out)
{
	const struct guest_image_layout regs = {
		.entry = GUEST_IMAGE_GPA,
		.stack_top = GUEST_STACK_TOP,
	};
	struct staging stage;
	enum sandbox_err err;

	if (s == NULL || out == NULL)
		return SANDBOX_ERR_CONFIG;
	uint8_t *staged = out->staged;
	memset(out, 0, sizeof(*out));
	out->staged = staged;
	if (!guest_run_config_ok(cfg, out) || cfg->prebuilt != NULL ||
	    cfg->defer_teardown ||
	    !staging_init(&stage, staged, cfg->preprobe, cfg->cluster_size))
		return SANDBOX_ERR_CONFIG;
	s->runs++;

	uint64_t t0 = run_loop_now_ns();
	if (s->broken) {
		sandbox_session_close(s);
		err = sandbox_session_open(s);
		if (err != SANDBOX_OK)
			return err;
		s->rebuilds++;
	}
	struct sandbox_ram_plan plan;
	if (!guest_run_plan(cfg, &plan) || plan.ram > s->ram)
		return SANDBOX_ERR_CONFIG;   /* the session's RAM is fixed */
	err = reset_ram(s);
	s->used = true;
	if (err == SANDBOX_OK)
		err = guest_run_load(&s->vm.mem, cfg, &plan);
	if (err == SANDBOX_OK)
		err = kvm_cpu_load_registers(&s->vm, &regs);
	if (err == SANDBOX_OK)
		err = guest_run_execute(&s->vm, cfg, &stage, out);
	if (err != SANDBOX_OK)
		s->broken = true;
	out->elapsed_ns = run_loop_now_ns() - t0;
	return err;
}
