/*
 * run_loop.h — the vCPU exit loop: KVM_RUN until the guest rings the
 * doorbell, fails, or runs out of wall time or exits. MMIO exits in the
 * virtio-mmio window go to the transport; the doorbell (one MMIO write
 * to GUEST_DOORBELL_GPA) ends the run successfully (GUEST_DOORBELL_DONE)
 * or hands the report region over and resumes (GUEST_DOORBELL_FLUSH);
 * everything else, port I/O included, ends it with its own error.
 *
 * Not reentrant: the wall-time budget uses ITIMER_REAL/SIGALRM (the
 * previous handler and timer are restored before returning, and SIGALRM
 * is blocked again if it was blocked before) and one static pointer for
 * the signal handler. The caller is expected to be single-threaded while
 * a guest runs. Under the seccomp policy a caller must not have SIGALRM
 * blocked: re-blocking it would be SIG_BLOCK, which the policy forbids.
 *
 * Syscalls: ioctl (KVM_RUN, KVM_GET_REGS), rt_sigaction, rt_sigprocmask
 * (SIG_UNBLOCK), setitimer,
 * clock_gettime (normally served by the vDSO).
 */
#ifndef INSTAR_SANDBOX_RUN_LOOP_H
#define INSTAR_SANDBOX_RUN_LOOP_H

#include <stdint.h>

#include "sandbox/kvm_vm.h"
#include "sandbox/sandbox_err.h"
#include "sandbox/virtio_mmio.h"

#ifdef __cplusplus
extern "C" {
#endif

struct run_limits {
	uint64_t budget_ns;   /* wall time, > 0 */
	uint32_t max_exits;   /* KVM_RUN returns, > 0 */
};

struct run_stats {
	uint32_t exits;
	uint32_t mmio_exits;
	uint32_t io_exits;
	uint64_t elapsed_ns;
	enum vmmio_err mmio_err;   /* why SANDBOX_ERR_DEVICE_PROTOCOL */
	uint32_t last_exit_reason; /* KVM_EXIT_* of the last exit */
	uint64_t guest_rip;        /* where the vCPU was when a failed run
				    * ended (0 after a good run, or if it
				    * could not be read) */
};

/* What the loop calls back into while the guest runs (NULL: nothing).
 * flush: the guest rang GUEST_DOORBELL_FLUSH (its report region is full);
 * SANDBOX_OK resumes it, anything else ends the run with that error. A
 * flush without hooks is a doorbell protocol error. exited: after every
 * exit the loop handled and the guest goes on from (a progress display;
 * it cannot end the run). */
struct run_hooks {
	enum sandbox_err (*flush)(void *ctx);
	void (*exited)(void *ctx);
	void *ctx;
};

enum sandbox_err run_loop(struct kvm_vm *vm, struct virtio_mmio *mmio,
			  const struct run_limits *lim,
			  const struct run_hooks *hooks, struct run_stats *st);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t run_loop_now_ns(void);

#ifdef __cplusplus
}
#endif

#endif
