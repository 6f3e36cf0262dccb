/*
 * guest_run.c — see guest_run.h.
 *
 * Trust: as guest_run.h.
 */
#include "sandbox/guest_run.h"

#include <string.h>

#include "sandbox/guest_mem.h"
#include "sandbox/kvm_cpu_x86_64.h"
#include "sandbox/run_loop.h"
#include "sandbox/virtio_blk.h"
#include "sandbox/virtio_mmio.h"

#define RAM_ALIGN 0x200000ULL /* one 2 MiB page */

static bool cluster_ok(uint32_t cs)
{
	return cs >= GUEST_MIN_CLUSTER && cs <= GUEST_MAX_CLUSTER &&
	       (cs & (cs - 1u)) == 0;
}

bool sandbox_ram_plan(uint32_t cluster_size, uint64_t work_bytes, bool report,
		      struct sandbox_ram_plan *plan)
{
	uint64_t need;
	uint64_t end;

	memset(plan, 0, sizeof(*plan));
	if (!cluster_ok(cluster_size) ||
	    __builtin_mul_overflow((uint64_t)cluster_size, (uint64_t)2, &need) ||
	    __builtin_add_overflow(need, work_bytes, &need) ||
	    __builtin_add_overflow(need, GUEST_SCRATCH_GPA, &end) ||
	    __builtin_add_overflow(end, RAM_ALIGN - 1u, &end))
		return false;
	plan->scratch_bytes = need;
	end &= ~(RAM_ALIGN - 1u);
	if (report) {
		plan->report_gpa = end;
		plan->report_bytes = GUEST_REPORT_BYTES;
		if (__builtin_add_overflow(end, (uint64_t)GUEST_REPORT_BYTES, &end))
			return false;
	}
	if (end > SANDBOX_MAX_RAM)
		return false;
	plan->ram = end;
	return true;
}

uint64_t sandbox_ram_bytes(uint32_t cluster_size, bool walk_tables)
{
	struct sandbox_ram_plan p;

	if (!sandbox_ram_plan(cluster_size,
			      walk_tables ? (uint64_t)GUEST_WORK_BYTES : 0u,
			      false, &p))
		return 0;
	return p.ram;
}

uint64_t sandbox_max_extra_work(uint32_t cluster_size)
{
	uint64_t fixed;

	/* The low 2 MiB, two clusters rounded up to 2 MiB pages, the table
	 * walk's memory and the report region. */
	if (!cluster_ok(cluster_size))
		return 0;
	fixed = GUEST_SCRATCH_GPA +
		((2u * (uint64_t)cluster_size + RAM_ALIGN - 1u) & ~(RAM_ALIGN - 1u)) +
		GUEST_WORK_BYTES + GUEST_REPORT_BYTES;
	return fixed >= SANDBOX_MAX_RAM ? 0 : SANDBOX_MAX_RAM - fixed;
}

static uint64_t work_bytes(const struct sandbox_config *cfg)
{
	if (!cfg->walk_tables)
		return 0;
	/* extra_work_bytes is bounded by SANDBOX_MAX_RAM in
	 * guest_run_config_ok(): no overflow. */
	return (uint64_t)GUEST_WORK_BYTES + cfg->extra_work_bytes;
}

bool guest_run_plan(const struct sandbox_config *cfg,
		    struct sandbox_ram_plan *plan)
{
	return sandbox_ram_plan(cfg->cluster_size, work_bytes(cfg), cfg->report,
				plan);
}

bool guest_run_config_ok(const struct sandbox_config *cfg,
		      const struct sandbox_outcome *out)
{
	return cfg != NULL && out != NULL &&
	       (out->staged != NULL || cfg->read_only) &&
	       cfg->image_fd >= 0 && cluster_ok(cfg->cluster_size) &&
	       cfg->preprobe != NULL &&
	       (cfg->report ? cfg->disk_bytes != 0 /* a short image reads as zero-padded */
			    : cfg->disk_bytes >= cfg->cluster_size) &&
	       cfg->guest.image != NULL &&
	       cfg->guest.len != 0 && cfg->guest.len <= GUEST_IMAGE_MAX &&
	       cfg->guest.text_len != 0 &&
	       cfg->guest.text_len <= cfg->guest.ro_len &&
	       cfg->guest.ro_len <= GUEST_IMAGE_MAX &&
	       cfg->guest.text_len % 4096u == 0 && cfg->guest.ro_len % 4096u == 0 &&
	       cfg->extra_work_bytes <= SANDBOX_MAX_RAM &&
	       (cfg->walk_tables || cfg->extra_work_bytes == 0) &&
	       (!cfg->report || cfg->report_take != NULL);
}

static bool load_guest(struct guest_mem *m, const struct sandbox_config *cfg,
		       const struct sandbox_ram_plan *plan)
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
	/* Exactly what the plan sized (not its rounding). */
	p.scratch_bytes = plan->scratch_bytes;
	p.report_gpa = plan->report_gpa;
	p.report_bytes = plan->report_bytes;
	if (p.scratch_bytes > plan->ram - GUEST_SCRATCH_GPA)
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

enum sandbox_err guest_run_load(struct guest_mem *m,
				const struct sandbox_config *cfg,
				const struct sandbox_ram_plan *plan)
{
	const struct guest_image_layout layout = {
		.entry = GUEST_IMAGE_GPA,
		.text_end = GUEST_IMAGE_GPA + cfg->guest.text_len,
		.ro_end = GUEST_IMAGE_GPA + cfg->guest.ro_len,
		.stack_top = GUEST_STACK_TOP,
	};

	if (!load_guest(m, cfg, plan))
		return SANDBOX_ERR_VM_SETUP;
	return kvm_cpu_write_tables(m, &layout);
}

/* Hand the first report_len bytes of the report region to the host's
 * report_take: at a flush (the guest then goes on) and at the end. The
 * length comes from the guest's result page: read once, then checked
 * against the region. */
struct report_pump {
	const struct sandbox_config *cfg;
	const struct guest_mem *mem;
	uint64_t gpa;
	uint64_t bytes;
	struct sandbox_outcome *out;
};

static enum sandbox_err take_report(struct report_pump *rp)
{
	const volatile struct guest_result *r;
	uint32_t len;
	const uint8_t *p;

	if (rp->bytes == 0)
		return SANDBOX_ERR_BAD_REPORT;
	r = guest_mem_range(rp->mem, GUEST_RESULT_GPA, sizeof(*r));
	if (r == NULL)
		return SANDBOX_ERR_BAD_REPORT;
	len = r->report_len;
	if (len > rp->bytes)
		return SANDBOX_ERR_BAD_REPORT;
	if (len == 0)
		return SANDBOX_OK;
	p = guest_mem_range(rp->mem, rp->gpa, len);
	if (p == NULL)
		return SANDBOX_ERR_BAD_REPORT;
	if (!rp->cfg->report_take(rp->cfg->report_ctx, p, len))
		return SANDBOX_ERR_REPORT_REFUSED;
	rp->out->report_bytes += len;
	return SANDBOX_OK;
}

static enum sandbox_err on_flush(void *ctx)
{
	struct report_pump *rp = ctx;
	enum sandbox_err err = take_report(rp);

	if (err == SANDBOX_OK)
		rp->out->report_flushes++;
	return err;
}

/* After an exit: the guest's own figure of its progress, read once and
 * clamped, for the caller's display. */
static void on_exited(void *ctx)
{
	struct report_pump *rp = ctx;
	const volatile struct guest_result *r;
	uint32_t v;

	if (rp->cfg->progress == NULL)
		return;
	r = guest_mem_range(rp->mem, GUEST_RESULT_GPA, sizeof(*r));
	if (r == NULL)
		return;
	v = r->progress;
	rp->cfg->progress(rp->cfg->progress_ctx, v > 65536u ? 65536u : v);
}

enum sandbox_err guest_run_execute(struct kvm_vm *vm,
				   const struct sandbox_config *cfg,
				   struct staging *stage,
				   struct sandbox_outcome *out)
{
	struct vblk_device blk;
	vblk_device_init(&blk, &vm->mem, cfg->image_fd, cfg->disk_bytes,
			 cfg->preprobe, cfg->cluster_size, stage);
	blk.read_only = cfg->read_only;
	struct sandbox_ram_plan plan;
	if (!guest_run_plan(cfg, &plan))
		return SANDBOX_ERR_CONFIG;
	struct report_pump pump = { cfg, &vm->mem, plan.report_gpa,
				    plan.report_bytes, out };
	/* No flush hook without a report region: a flush is then a doorbell
	 * protocol error. */
	const struct run_hooks hooks = { cfg->report ? on_flush : NULL,
					 on_exited, &pump };
	struct virtio_mmio mmio;
	vmmio_init(&mmio, &vblk_device_ops, &blk, &vm->mem);
	/* The device is handed over initialised: set-up by the guest would
	 * cost about 27 exits (docs/sandbox.md, "Exits"). */
	if (vmmio_preconfigure(&mmio, GUEST_VQ_SIZE, GUEST_VQ_DESC_GPA,
			       GUEST_VQ_AVAIL_GPA, GUEST_VQ_USED_GPA) != VMMIO_OK)
		return SANDBOX_ERR_VM_SETUP;

	/* VM, memory and vCPU exist; the guest has not run yet. */
	if (cfg->after_setup != NULL) {
		enum sandbox_err err = cfg->after_setup(cfg->after_setup_ctx);
		if (err != SANDBOX_OK)
			return err;
	}

	struct run_limits lim = {
		.budget_ns = cfg->budget_ns != 0 ? cfg->budget_ns :
			     SANDBOX_DEFAULT_BUDGET_NS,
		.max_exits = cfg->max_exits != 0 ? cfg->max_exits :
			     SANDBOX_DEFAULT_MAX_EXITS,
	};
	struct run_stats st;
	enum sandbox_err err = run_loop(vm, &mmio, &lim,
					&hooks, &st);
	out->exits = st.exits;
	out->run_ns = st.elapsed_ns;
	out->guest_rip = st.guest_rip;
	if (err == SANDBOX_OK) {
		const uint8_t *r = guest_mem_range(&vm->mem, GUEST_RESULT_GPA,
						   sizeof(out->result));
		if (r == NULL) {
			err = SANDBOX_ERR_VM_SETUP;
		} else {
			memcpy(&out->result, r, sizeof(out->result));
			out->result_present = true;
			if (cfg->report)
				err = take_report(&pump);
		}
	}
	out->header_changed = blk.header_changed || blk.file_shrank;
	out->bad_write = blk.bad_write;
	out->reads = blk.reads;
	out->read_bytes = blk.read_bytes;
	memcpy(out->written, stage->written, sizeof(out->written));
	out->sectors_written = staging_sectors_written(stage);
	out->write_requests = stage->write_requests;
	out->notifies = mmio.notifies;
	out->requests = blk.requests;
	out->mmio_exits = st.mmio_exits;
	if (!kvm_cpu_system_area_intact(vm))
		err = SANDBOX_ERR_SYSTEM_AREA;
	else if (blk.bad_write)
		err = cfg->read_only ? SANDBOX_ERR_READ_ONLY_WRITE
				     : SANDBOX_ERR_BAD_WRITE;
	else if (blk.header_changed || blk.file_shrank)
		err = SANDBOX_ERR_HEADER_CHANGED;

	return err;
}
