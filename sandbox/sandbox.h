/*
 * sandbox.h — the one entry point of the KVM sandbox: run a guest image
 * (normally the embedded amend.bin) against an image file and return
 * what it did. Everything the guest produced is reported, nothing is
 * trusted or committed here: sandbox/validate*.c and sandbox/commit*.c
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

#include "sandbox/guest_abi.h"
#include "sandbox/sandbox_err.h"
#include "sandbox/staging.h"
#include "src/amend/amend_request.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SANDBOX_DEFAULT_BUDGET_NS 2000000000ULL /* 2 s wall time */
#define SANDBOX_DEFAULT_MAX_EXITS 10000u

struct sandbox_config {
	int image_fd;                /* readable; only pread is used */
	uint64_t disk_bytes;         /* device size (sectors = /512) */
	uint32_t cluster_size;       /* power of two, 512 .. 2 MiB */
	const uint8_t *preprobe;     /* the header cluster as the host read it */
	struct amend_request request;
	const uint8_t *guest;        /* flat guest image */
	size_t guest_len;            /* 1 .. GUEST_IMAGE_MAX */
	uint64_t budget_ns;          /* 0: SANDBOX_DEFAULT_BUDGET_NS */
	uint32_t max_exits;          /* 0: SANDBOX_DEFAULT_MAX_EXITS */
	/* Optional (NULL: skipped). Called exactly once, after the VM, its
	 * memory and the vCPU exist and the guest is loaded, and before the
	 * first KVM_RUN; the CLI uses it for lockdown_tighten(). Anything
	 * but SANDBOX_OK ends the run before the guest starts and
	 * sandbox_run() returns that code. */
	enum sandbox_err (*after_setup)(void *ctx);
	void *after_setup_ctx;
};

struct sandbox_outcome {
	/* In: caller-provided buffer of cluster_size bytes. Out: the header
	 * cluster with the guest's staged writes applied (equal to the
	 * pre-probe where nothing was written). */
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
	uint32_t exits;              /* VM exits */
	uint64_t elapsed_ns;         /* VM create -> result (or failure) */
	uint64_t run_ns;             /* first KVM_RUN -> last exit */
	uint64_t guest_rip;          /* vCPU rip when the run ended (diagnostics) */
};

/* "/dev/kvm", the one pathname sandbox_run() opens. It lives in read-only
 * data; the seccomp policy binds openat() to this address ($kvm_path). */
extern const char sandbox_kvm_path[];

/* The guest RAM size used for a cluster size (0 if invalid). */
uint64_t sandbox_ram_bytes(uint32_t cluster_size);

/* Run the guest. SANDBOX_OK only if the guest rang the doorbell with no
 * bad write and no header change; the outcome is filled as far as the
 * run got in every case (staged is always initialised once the config
 * is valid). Precedence when several things went wrong: CONFIG/KVM/
 * VM_SETUP, then BAD_WRITE, then HEADER_CHANGED, then the run error. */
enum sandbox_err sandbox_run(const struct sandbox_config *cfg,
			     struct sandbox_outcome *out);

#ifdef __cplusplus
}
#endif

#endif
