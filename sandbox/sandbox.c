/*
 * sandbox.c — sandbox_run(): build the VM, load the guest and its
 * parameter page, wire the virtio-blk device to the image and the
 * staging store, run, and copy out what happened (see sandbox.h).
 *
 * Trust: the config comes from the host (checked anyway); the result
 * record and staged bytes come from the guest and are returned as-is,
 * unvalidated, for validate*.c.
 */
#include "sandbox/sandbox.h"

#include <string.h>

#include "sandbox/guest_mem.h"
#include "sandbox/kvm_cpu_x86_64.h"
#include "sandbox/kvm_vm.h"
#include "sandbox/run_loop.h"
#include "sandbox/virtio_blk.h"
#include "sandbox/virtio_mmio.h"

#define RAM_ALIGN 0x200000ULL /* one 2 MiB page */

static bool cluster_ok(uint32_t cs)
{
	return cs >= GUEST_MIN_CLUSTER && cs <= GUEST_MAX_CLUSTER &&
	       (cs & (cs - 1u)) == 0;
}

uint64_t sandbox_ram_bytes(uint32_t cluster_size, bool walk_tables)
{
	uint64_t need;
	uint64_t ram;
	if (!cluster_ok(cluster_size))
		return 0;
	if (__builtin_mul_overflow((uint64_t)cluster_size, (uint64_t)2, &need) ||
	    __builtin_add_overflow(need, GUEST_SCRATCH_GPA, &need) ||
	    __builtin_add_overflow(need, walk_tables ? (uint64_t)GUEST_WORK_BYTES : 0u,
				   &need) ||
	    __builtin_add_overflow(need, RAM_ALIGN - 1u, &ram))
		return 0;
	return ram & ~(RAM_ALIGN - 1u);
}

static bool config_ok(const struct sandbox_config *cfg,
		      const struct sandbox_outcome *out)
{
	return cfg != NULL && out != NULL && out->staged != NULL &&
	       cfg->image_fd >= 0 && cluster_ok(cfg->cluster_size) &&
	       cfg->preprobe != NULL && cfg->disk_bytes >= cfg->cluster_size &&
	       cfg->guest.image != NULL &&
	       cfg->guest.len != 0 && cfg->guest.len <= GUEST_IMAGE_MAX &&
	       cfg->guest.text_len != 0 &&
	       cfg->guest.text_len <= cfg->guest.ro_len &&
	       cfg->guest.ro_len <= GUEST_IMAGE_MAX &&
	       cfg->guest.text_len % 4096u == 0 && cfg->guest.ro_len % 4096u == 0;
}

static bool load_guest(struct guest_mem *m, const struct sandbox_config *cfg,
		       uint64_t ram)
{
	uint8_t *img = guest_mem_range(m, GUEST_IMAGE_GPA, cfg->guest.len);
	if (img == NULL)
		return false;
	memcpy(img, cfg->guest.image, cfg->guest.len);

	struct guest_params p;
	memset(&p, 0, sizeof(p));
	p.magic = GUEST_ABI_MAGIC;
	p.abi_version = GUEST_ABI_VERSION;
	p.cluster_size = cfg->cluster_size;
	p.disk_bytes = cfg->disk_bytes;
	p.scratch_gpa = GUEST_SCRATCH_GPA;
	/* Exactly what sandbox_ram_bytes() sized (not its rounding). */
	p.scratch_bytes = 2u * (uint64_t)cfg->cluster_size +
			  (cfg->walk_tables ? (uint64_t)GUEST_WORK_BYTES : 0u);
	if (p.scratch_bytes > ram - GUEST_SCRATCH_GPA)
		return false;
	p.request = cfg->request;
	/* The guest would read the header cluster first, and the device
	 * would serve it from the pre-probe: hand it over in place and save
	 * the guest that exit. */
	uint8_t *hdr = guest_mem_range(m, GUEST_SCRATCH_GPA, cfg->cluster_size);
	if (hdr == NULL)
		return false;
	memcpy(hdr, cfg->preprobe, cfg->cluster_size);
	p.header_loaded = 1;
	uint8_t *pp = guest_mem_range(m, GUEST_PARAMS_GPA, sizeof(p));
	if (pp == NULL)
		return false;
	memcpy(pp, &p, sizeof(p));
	return true;
}

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
				 uint64_t ram, struct kvm_vm *vm)
{
	const struct guest_image_layout layout = {
		.entry = GUEST_IMAGE_GPA,
		.text_end = GUEST_IMAGE_GPA + cfg->guest.text_len,
		.ro_end = GUEST_IMAGE_GPA + cfg->guest.ro_len,
		.stack_top = GUEST_STACK_TOP,
	};
	enum sandbox_err err;

	kvm_vm_clear(vm);
	err = kvm_vm_map_ram(vm, ram);
	if (err == SANDBOX_OK && !load_guest(&vm->mem, cfg, ram))
		err = SANDBOX_ERR_VM_SETUP;
	if (err == SANDBOX_OK)
		err = kvm_cpu_write_tables(&vm->mem, &layout);
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
	if (!config_ok(cfg, out))
		return refuse_config(cfg);

	uint64_t t0 = run_loop_now_ns();
	struct staging stage;
	if (!staging_init(&stage, staged, cfg->preprobe, cfg->cluster_size))
		return refuse_config(cfg);
	uint64_t ram = sandbox_ram_bytes(cfg->cluster_size, cfg->walk_tables);
	if (ram == 0 || ram <= GUEST_SCRATCH_GPA)
		return refuse_config(cfg);

	struct kvm_vm vm;
	enum sandbox_err err = build_vm(cfg, ram, &vm);
	if (err != SANDBOX_OK)
		goto done;

	struct vblk_device blk;
	vblk_device_init(&blk, &vm.mem, cfg->image_fd, cfg->disk_bytes,
			 cfg->preprobe, cfg->cluster_size, &stage);
	struct virtio_mmio mmio;
	vmmio_init(&mmio, &vblk_device_ops, &blk, &vm.mem);
	/* The device is handed over initialised: set-up by the guest would
	 * cost about 27 exits (docs/sandbox.md, "Exits"). */
	if (vmmio_preconfigure(&mmio, GUEST_VQ_SIZE, GUEST_VQ_DESC_GPA,
			       GUEST_VQ_AVAIL_GPA, GUEST_VQ_USED_GPA) != VMMIO_OK) {
		err = SANDBOX_ERR_VM_SETUP;
		goto done;
	}

	/* VM, memory and vCPU exist; the guest has not run yet. */
	if (cfg->after_setup != NULL) {
		err = cfg->after_setup(cfg->after_setup_ctx);
		if (err != SANDBOX_OK)
			goto done;
	}

	struct run_limits lim = {
		.budget_ns = cfg->budget_ns != 0 ? cfg->budget_ns :
			     SANDBOX_DEFAULT_BUDGET_NS,
		.max_exits = cfg->max_exits != 0 ? cfg->max_exits :
			     SANDBOX_DEFAULT_MAX_EXITS,
	};
	struct run_stats st;
	err = run_loop(&vm, &mmio, &lim, &st);
	out->exits = st.exits;
	out->run_ns = st.elapsed_ns;
	out->guest_rip = st.guest_rip;
	if (err == SANDBOX_OK) {
		const uint8_t *r = guest_mem_range(&vm.mem, GUEST_RESULT_GPA,
						   sizeof(out->result));
		if (r == NULL) {
			err = SANDBOX_ERR_VM_SETUP;
		} else {
			memcpy(&out->result, r, sizeof(out->result));
			out->result_present = true;
		}
	}
	out->header_changed = blk.header_changed || blk.file_shrank;
	out->bad_write = blk.bad_write;
	out->reads = blk.reads;
	out->read_bytes = blk.read_bytes;
	memcpy(out->written, stage.written, sizeof(out->written));
	out->sectors_written = staging_sectors_written(&stage);
	out->write_requests = stage.write_requests;
	out->notifies = mmio.notifies;
	out->requests = blk.requests;
	out->mmio_exits = st.mmio_exits;
	if (!kvm_cpu_system_area_intact(&vm))
		err = SANDBOX_ERR_SYSTEM_AREA;
	else if (blk.bad_write)
		err = SANDBOX_ERR_BAD_WRITE;
	else if (blk.header_changed || blk.file_shrank)
		err = SANDBOX_ERR_HEADER_CHANGED;

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
