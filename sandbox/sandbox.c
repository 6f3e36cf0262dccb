/*
 * sandbox.c — sandbox_run(): build the VM (or join the prebuilt one),
 * load the guest, run it once (guest_run.c) and tear the VM down or hand
 * it back for a deferred teardown (see sandbox.h).
 *
 * Trust: the config comes from the host (checked anyway); the result
 * record and staged bytes come from the guest and are returned as-is,
 * unvalidated, for src/image/validate.c.
 */
#include "sandbox/sandbox.h"

#include <string.h>

#include "sandbox/guest_run.h"
#include "sandbox/kvm_cpu_x86_64.h"
#include "sandbox/kvm_vm.h"
#include "sandbox/run_loop.h"

/* The registers depend on nothing but the fixed layout (entry point,
 * stack, GDT and page-table addresses): loaded with the vCPU. */
static enum sandbox_err create_cpu(struct kvm_vm *vm)
{
	const struct guest_image_layout regs = {
		.entry = GUEST_IMAGE_GPA,
		.stack_top = GUEST_STACK_TOP,
	};
	enum sandbox_err err = kvm_vm_create_cpu(vm);

	return err == SANDBOX_OK ? kvm_cpu_load_registers(vm, &regs) : err;
}

void sandbox_prebuild(void *p)
{
	struct sandbox_prebuilt *pre = p;

	kvm_vm_clear(&pre->vm);
	pre->err = create_cpu(&pre->vm);
}

void sandbox_prebuilt_release(struct sandbox_prebuilt *p)
{
	if (p == NULL)
		return;
	kvm_vm_destroy(&p->vm);
	p->err = SANDBOX_ERR_VM_SETUP;
}

/* Wait for the prebuilt VM and move its vCPU half into *vm (whose RAM
 * half is this thread's); returns the build's result. */
static enum sandbox_err take_prebuilt(const struct sandbox_config *cfg,
				      struct kvm_vm *vm)
{
	struct sandbox_prebuilt *pre = cfg->prebuilt;

	if (cfg->prebuilt_wait != NULL)
		cfg->prebuilt_wait();
	vm->kvm_fd = pre->vm.kvm_fd;
	vm->vm_fd = pre->vm.vm_fd;
	vm->vcpu_fd = pre->vm.vcpu_fd;
	vm->run = pre->vm.run;
	vm->run_size = pre->vm.run_size;
	enum sandbox_err err = pre->err;
	kvm_vm_clear(&pre->vm);
	pre->err = SANDBOX_ERR_VM_SETUP;
	return err;
}

/* Refused before any VM of its own: still honour the prebuilt's
 * ownership rule. */
static enum sandbox_err refuse_config(const struct sandbox_config *cfg)
{
	struct kvm_vm vm;

	if (cfg != NULL && cfg->prebuilt != NULL) {
		kvm_vm_clear(&vm);
		(void)take_prebuilt(cfg, &vm);
		kvm_vm_destroy(&vm);
	}
	return SANDBOX_ERR_CONFIG;
}

/* The VM: RAM mapped and loaded here (guest image, parameters, page
 * tables) while a prebuilt vCPU may still be being created, then joined. */
static enum sandbox_err build_vm(const struct sandbox_config *cfg,
				 const struct sandbox_ram_plan *plan,
				 struct kvm_vm *vm)
{
	enum sandbox_err err;

	kvm_vm_clear(vm);
	err = kvm_vm_map_ram(vm, plan->ram);
	if (err == SANDBOX_OK)
		err = guest_run_load(&vm->mem, cfg, plan);
	if (cfg->prebuilt != NULL) {
		enum sandbox_err perr = take_prebuilt(cfg, vm);
		if (err == SANDBOX_OK)
			err = perr;
	} else if (err == SANDBOX_OK) {
		err = create_cpu(vm);
	}
	if (err == SANDBOX_OK)
		err = kvm_vm_attach_ram(vm);
	return err;
}

enum sandbox_err sandbox_run(const struct sandbox_config *cfg,
			     struct sandbox_outcome *out)
{
	if (out == NULL)
		return refuse_config(cfg);
	uint8_t *staged = out->staged;
	memset(out, 0, sizeof(*out));
	out->staged = staged;
	if (!guest_run_config_ok(cfg, out))
		return refuse_config(cfg);

	uint64_t t0 = run_loop_now_ns();
	/* A read-only run's device refuses every write before it reaches
	 * the store; the store then holds nothing and refuses them too. */
	struct staging stage;
	if (cfg->read_only ? !staging_init_none(&stage, cfg->cluster_size)
			   : !staging_init(&stage, staged, cfg->preprobe,
					   cfg->cluster_size))
		return refuse_config(cfg);
	struct sandbox_ram_plan plan;
	if (!guest_run_plan(cfg, &plan) || plan.ram <= GUEST_SCRATCH_GPA)
		return refuse_config(cfg);

	struct kvm_vm vm;
	enum sandbox_err err = build_vm(cfg, &plan, &vm);
	if (err != SANDBOX_OK)
		goto done;

	err = guest_run_execute(&vm, cfg, &stage, out);

done:
	out->elapsed_ns = run_loop_now_ns() - t0;
	if (cfg->defer_teardown) {
		out->vm = vm;
		out->vm_alive = true;
		return err;
	}
	kvm_vm_destroy(&vm);
	out->elapsed_ns = run_loop_now_ns() - t0;
	return err;
}

void sandbox_release(struct sandbox_outcome *out)
{
	if (out == NULL || !out->vm_alive)
		return;
	kvm_vm_destroy(&out->vm);
	out->vm_alive = false;
}
