/*
 * sandbox.h — the one entry point of the KVM sandbox: run a guest image
 * (normally the embedded guest.bin) against an image file and return
 * what it did. Everything the guest produced is reported, nothing is
 * trusted or committed here: src/image/validate.c and src/image/commit.c
 * decide what happens to the file.
 *
 * The caller has opened the image, pre-probed its header cluster and
 * (in the CLI) dropped capabilities and installed seccomp. sandbox_run()
 * opens /dev/kvm itself and releases every fd and mapping it created
 * before returning. It never writes to the image fd; it only preads.
 * Not reentrant (see run_loop.h).
 */
#ifndef INSTAR_SANDBOX_SANDBOX_H
#define INSTAR_SANDBOX_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/guest_abi.h"
#include "sandbox/kvm_path.h"
#include "sandbox/kvm_vm.h"
#include "sandbox/sandbox_err.h"
#include "sandbox/staging.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A header-only guest needs one exit (the doorbell, which also serves
 * its queued writes) and well under a millisecond; timer interrupts add
 * about one exit per millisecond it runs (docs/sandbox.md). */
#define SANDBOX_DEFAULT_BUDGET_NS 1000000000ULL /* 1 s wall time */
#define SANDBOX_DEFAULT_MAX_EXITS 1000u

/* A flat guest image (built by guest/guest.bzl) and where its page
 * permissions change, in bytes from its start (multiples of 4 KiB,
 * 0 < text_len <= ro_len <= GUEST_IMAGE_MAX): code [0, text_len) is
 * mapped read + execute, [text_len, ro_len) read-only, the rest (data,
 * .bss) read + write, never executable. */
struct sandbox_guest {
	const uint8_t *image;
	size_t len;                  /* 1 .. GUEST_IMAGE_MAX */
	size_t text_len;
	size_t ro_len;
};

/* The sandbox_guest of an image embedded by guest_image(symbol = sym). */
#define SANDBOX_EMBEDDED_GUEST(sym)                                       \
	{ sym##_start, (size_t)(sym##_end - sym##_start), sym##_text_len, \
	  sym##_ro_len }

/* The part of the VM that does not depend on the image (/dev/kvm, the VM
 * with its vCPU and kvm_run area), built ahead of sandbox_run(), which
 * may happen on another thread while the caller pre-probes the image:
 * KVM_CREATE_VM and KVM_CREATE_VCPU are about 0.45 ms of kernel time
 * here. */
struct sandbox_prebuilt {
	struct kvm_vm vm;
	enum sandbox_err err;        /* of the build; SANDBOX_OK: vm is whole */
};

/* Build *(struct sandbox_prebuilt *)p (the signature of a thread job).
 * Makes only setup-profile syscalls (openat of the pinned /dev/kvm path,
 * the creation ioctls, one MAP_SHARED mmap of the vCPU fd). */
void sandbox_prebuild(void *p);

/* Release a prebuilt VM that no sandbox_run() took over. */
void sandbox_prebuilt_release(struct sandbox_prebuilt *p);

struct sandbox_config {
	int image_fd;                /* readable; only pread is used */
	uint64_t disk_bytes;         /* device size (sectors = /512) */
	uint32_t cluster_size;       /* power of two, 512 .. 2 MiB */
	const uint8_t *preprobe;     /* the header cluster as the host read it */
	struct guest_request request; /* copied to the parameter page as is */
	struct sandbox_guest guest;  /* the program to run */
	bool walk_tables;            /* the guest may walk the image's tables:
				      * give it GUEST_WORK_BYTES for them
				      * (without, its scratch is the two
				      * header clusters) */
	uint64_t extra_work_bytes;   /* with walk_tables: this much more work
				      * memory (check's reference counters);
				      * the guest RAM must still fit
				      * SANDBOX_MAX_RAM */
	bool read_only;              /* every write request fails the run
				      * (SANDBOX_ERR_READ_ONLY_WRITE) */
	/* A report region (GUEST_REPORT_BYTES) for the inspection programs.
	 * report_take (required with it) receives the records of each flush
	 * and of the end of the run, in order, as raw unvalidated bytes;
	 * returning false ends the run (SANDBOX_ERR_REPORT_REFUSED). */
	bool report;
	bool (*report_take)(void *ctx, const uint8_t *records, uint32_t len);
	void *report_ctx;
	/* Optional (NULL: none): called after each exit the guest goes on
	 * from, with the work the guest says it has done, in units of
	 * 1/65536 (guest_result.progress, clamped to 65536). A display only:
	 * the figure is the guest's, trusted for nothing. */
	void (*progress)(void *ctx, uint32_t done_65536);
	void *progress_ctx;
	uint64_t budget_ns;          /* 0: SANDBOX_DEFAULT_BUDGET_NS */
	uint32_t max_exits;          /* 0: SANDBOX_DEFAULT_MAX_EXITS */
	/* Optional (NULL: skipped). Called exactly once, after the VM, its
	 * memory and the vCPU exist and the guest is loaded, and before the
	 * first KVM_RUN; the CLI uses it for lockdown_tighten(). Anything
	 * but SANDBOX_OK ends the run before the guest starts and
	 * sandbox_run() returns that code. */
	enum sandbox_err (*after_setup)(void *ctx);
	void *after_setup_ctx;
	/* false (default): sandbox_run() tears the VM down before it
	 * returns. true: the VM is left in out->vm, if it got that far, for
	 * sandbox_release(), which may run on another thread while the
	 * caller goes on (destroying a VM costs about half a millisecond of
	 * kernel time: the CLI overlaps it with the commit). */
	bool defer_teardown;
	/* Optional (NULL: sandbox_run() creates the VM itself). A VM from
	 * sandbox_prebuild(), perhaps still being built: sandbox_run() first
	 * maps and loads guest RAM, then calls prebuilt_wait() (if set) to
	 * wait for the build, and takes the VM over whatever happens (it
	 * goes with the run's VM, *prebuilt is left empty). */
	struct sandbox_prebuilt *prebuilt;
	void (*prebuilt_wait)(void);
};

struct sandbox_outcome {
	/* In: caller-provided buffer of cluster_size bytes (NULL in a
	 * read_only run, which stages nothing and leaves it alone). Out: the
	 * header cluster with the guest's staged writes applied (equal to
	 * the pre-probe where nothing was written). */
	uint8_t *staged;

	bool result_present;         /* doorbell rang; `result` is a copy */
	struct guest_result result;  /* raw, unvalidated */
	uint8_t written[STAGING_BITMAP_BYTES]; /* sector bitmap of writes */
	uint32_t sectors_written;    /* distinct sectors staged */
	uint32_t write_requests;     /* accepted write requests */
	bool header_changed;         /* a guest read differed from preprobe,
				      * or the file shrank under the run */
	bool bad_write;              /* a write outside the header cluster */
	uint32_t reads;              /* pread calls made for the guest */
	uint64_t read_bytes;
	uint32_t exits;              /* VM exits (KVM_RUN returns) */
	uint32_t mmio_exits;         /* of which MMIO (notifications, doorbell) */
	uint32_t notifies;           /* queue notifications */
	uint32_t requests;           /* virtio-blk requests served */
	uint64_t elapsed_ns;         /* VM create -> result (or failure) */
	uint64_t run_ns;             /* first KVM_RUN -> last exit */
	uint32_t report_flushes;     /* GUEST_DOORBELL_FLUSH exits served */
	uint64_t report_bytes;       /* bytes handed to report_take */
	uint64_t guest_rip;          /* vCPU rip when a run failed (diagnostics; 0 after a good run) */
	struct kvm_vm vm;            /* defer_teardown: the VM to release... */
	bool vm_alive;               /* ...while this is true */
};

/* The guest RAM of a run, as sandbox_ram_plan() lays it out: the low
 * 2 MiB, then the scratch (two header clusters and the work memory),
 * rounded up to 2 MiB, then the report region if any. Mapped with
 * MAP_NORESERVE: only what the guest touches is ever allocated; but
 * registering a larger slot costs KVM more (metadata per page), so a run
 * that walks no tables gets no work memory. At most SANDBOX_MAX_RAM (one
 * page directory of 2 MiB pages). */
#define SANDBOX_MAX_RAM (1ULL << 30)

struct sandbox_ram_plan {
	uint64_t scratch_bytes;      /* at GUEST_SCRATCH_GPA */
	uint64_t report_gpa;         /* 0: no report region */
	uint64_t report_bytes;
	uint64_t ram;                /* all of it, a multiple of 2 MiB */
};

/* Lay out the RAM for a cluster size, `work_bytes` of work memory and an
 * optional report region; false if the cluster size is invalid, a sum
 * overflows, or it would not fit SANDBOX_MAX_RAM. */
bool sandbox_ram_plan(uint32_t cluster_size, uint64_t work_bytes, bool report,
		      struct sandbox_ram_plan *plan);

/* The guest RAM size of an amend run (0 if invalid): sandbox_ram_plan()
 * with GUEST_WORK_BYTES of work memory if walk_tables, no report. */
uint64_t sandbox_ram_bytes(uint32_t cluster_size, bool walk_tables);

/* The most work memory a check run can give its reference counters
 * (sandbox_ram_plan() with GUEST_WORK_BYTES + this, the largest cluster
 * size and a report region fits SANDBOX_MAX_RAM). */
uint64_t sandbox_max_extra_work(uint32_t cluster_size);

/* Run the guest. SANDBOX_OK only if the guest rang the doorbell with no
 * bad write and no header change; the outcome is filled as far as the
 * run got in every case (staged is always initialised once the config
 * is valid, unless the run is read_only). Precedence when several
 * things went wrong: CONFIG/KVM/VM_SETUP, then SYSTEM_AREA, then
 * BAD_WRITE, then HEADER_CHANGED, then the run error. */
enum sandbox_err sandbox_run(const struct sandbox_config *cfg,
			     struct sandbox_outcome *out);

/* Tear down the VM sandbox_run() left alive in `out` (defer_teardown);
 * does nothing if there is none. Closes the vCPU, VM and /dev/kvm
 * descriptors and unmaps guest memory and the run area; allocates and
 * frees nothing, so it may run on a thread that has never used malloc. */
void sandbox_release(struct sandbox_outcome *out);

#ifdef __cplusplus
}
#endif

#endif
