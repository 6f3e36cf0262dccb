/*
 * run_loop.c — the KVM_RUN exit loop with its time and exit budgets (see
 * run_loop.h).
 *
 * Trust: the exit data in kvm_run describes what the guest did; sizes
 * and offsets from it are checked before they are used.
 */
#define _GNU_SOURCE /* pread, MAP_ANONYMOUS, sigaction, setitimer under -std=c11 */
#include "sandbox/run_loop.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <time.h>

#include "abi/guest_abi.h"

/* Re-fire every 10 ms after the first expiry in case one was missed. */
#define TIMER_REPEAT_US 10000

/* The signal handler's only view of the run. */
static struct kvm_run *volatile alarm_run;
static volatile sig_atomic_t alarm_fired;

static void on_alarm(int sig)
{
	(void)sig;
	alarm_fired = 1;
	struct kvm_run *r = alarm_run;
	if (r != NULL)
		r->immediate_exit = 1;
}

uint64_t run_loop_now_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct timer_state {
	struct sigaction old_act;
	struct itimerval old_timer;
	sigset_t old_mask;
	bool act_set, timer_set, mask_set;
};

/*
 * The order matters to a caller that has its own ITIMER_REAL armed (a
 * fuzzer's timeout clock; never the CLI): the timers are swapped before
 * our handler goes in, so an expiry of the caller's timer can only reach
 * the caller's handler, never ours (which would end the run as a
 * timeout); and ours is disarmed before the caller's handler comes back.
 */
static bool arm_timer(struct timer_state *ts, struct kvm_run *run,
		      uint64_t budget_ns)
{
	memset(ts, 0, sizeof(*ts));

	uint64_t us = budget_ns / 1000u;
	if (us == 0)
		us = 1;
	struct itimerval it;
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = (time_t)(us / 1000000u);
	it.it_value.tv_usec = (suseconds_t)(us % 1000000u);
	it.it_interval.tv_usec = TIMER_REPEAT_US;
	alarm_fired = 0;
	alarm_run = run;

	struct sigaction act;
	memset(&act, 0, sizeof(act));
	act.sa_handler = on_alarm;
	sigemptyset(&act.sa_mask);
	act.sa_flags = 0; /* no SA_RESTART: KVM_RUN must return EINTR */
	if (setitimer(ITIMER_REAL, &it, &ts->old_timer) != 0)
		return false;
	ts->timer_set = true;
	if (sigaction(SIGALRM, &act, &ts->old_act) != 0)
		return false;
	ts->act_set = true;

	sigset_t unblock;
	sigemptyset(&unblock);
	sigaddset(&unblock, SIGALRM);
	if (sigprocmask(SIG_UNBLOCK, &unblock, &ts->old_mask) != 0)
		return false;
	ts->mask_set = true;
	return true;
}

static void disarm_timer(struct timer_state *ts)
{
	static const struct itimerval off;

	if (ts->timer_set)
		(void)setitimer(ITIMER_REAL, &off, NULL);
	if (ts->act_set)
		(void)sigaction(SIGALRM, &ts->old_act, NULL);
	if (ts->timer_set)
		(void)setitimer(ITIMER_REAL, &ts->old_timer, NULL);
	alarm_run = NULL;
	/* Only SIGALRM was unblocked; block it again only if it was blocked
	 * before (never in the CLI, whose policy forbids blocking signals). */
	if (ts->mask_set && sigismember(&ts->old_mask, SIGALRM) == 1) {
		sigset_t alrm;
		sigemptyset(&alrm);
		sigaddset(&alrm, SIGALRM);
		(void)sigprocmask(SIG_BLOCK, &alrm, NULL);
	}
}

/* Port I/O: none is part of the protocol (the guest runs at CPL3 with
 * IOPL 0 and no I/O bitmap, so the CPU itself refuses it; were one to
 * reach the host, it ends the run). */
static enum sandbox_err on_io(void)
{
	return SANDBOX_ERR_BAD_PORT_IO;
}

/* The doorbell page: one 32-bit write of GUEST_DOORBELL_DONE at its
 * start ends the run, after serving what the guest left on the queue;
 * GUEST_DOORBELL_FLUSH (only where the caller takes reports) hands the
 * report over and resumes the guest; any other access is a protocol
 * error. */
static enum sandbox_err on_doorbell(const struct kvm_run *r,
				    struct virtio_mmio *mmio,
				    const struct run_hooks *hooks,
				    struct run_stats *st, bool *done)
{
	uint32_t v;

	if (r->mmio.phys_addr != GUEST_DOORBELL_GPA || !r->mmio.is_write ||
	    r->mmio.len != sizeof(v))
		return SANDBOX_ERR_BAD_DOORBELL;
	memcpy(&v, r->mmio.data, sizeof(v));
	if (v == GUEST_DOORBELL_FLUSH && hooks != NULL && hooks->flush != NULL)
		return hooks->flush(hooks->ctx);
	if (v != GUEST_DOORBELL_DONE)
		return SANDBOX_ERR_BAD_DOORBELL;
	enum vmmio_err e = vmmio_flush(mmio);
	if (e != VMMIO_OK) {
		st->mmio_err = e;
		return SANDBOX_ERR_DEVICE_PROTOCOL;
	}
	*done = true;
	return SANDBOX_OK;
}

static enum sandbox_err on_mmio(struct kvm_vm *vm, struct virtio_mmio *mmio,
				const struct run_hooks *hooks,
				struct run_stats *st, bool *done)
{
	struct kvm_run *r = vm->run;
	uint64_t a = r->mmio.phys_addr;
	uint32_t len = r->mmio.len;
	if (a >= GUEST_DOORBELL_GPA && a - GUEST_DOORBELL_GPA < GUEST_MMIO_SIZE)
		return on_doorbell(r, mmio, hooks, st, done);
	if (a < GUEST_MMIO_GPA || a - GUEST_MMIO_GPA >= GUEST_MMIO_SIZE ||
	    len == 0 || len > sizeof(r->mmio.data))
		return SANDBOX_ERR_BAD_MMIO;
	enum vmmio_err e = vmmio_access(mmio, a - GUEST_MMIO_GPA, r->mmio.data,
					len, r->mmio.is_write != 0);
	if (e != VMMIO_OK) {
		st->mmio_err = e;
		return SANDBOX_ERR_DEVICE_PROTOCOL;
	}
	return SANDBOX_OK;
}

/* One exit: SANDBOX_OK with *done set when the doorbell rang; SANDBOX_OK
 * with *done clear to keep running; an error otherwise. */
static enum sandbox_err handle_exit(struct kvm_vm *vm, struct virtio_mmio *mmio,
				const struct run_hooks *hooks,
				struct run_stats *st, bool *done)
{
	st->last_exit_reason = vm->run->exit_reason;
	switch (vm->run->exit_reason) {
	case KVM_EXIT_MMIO:
		st->mmio_exits++;
		return on_mmio(vm, mmio, hooks, st, done);
	case KVM_EXIT_IO:
		st->io_exits++;
		return on_io();
	case KVM_EXIT_HLT:
		return SANDBOX_ERR_GUEST_HALTED;
	case KVM_EXIT_SHUTDOWN:
		return SANDBOX_ERR_GUEST_SHUTDOWN;
	case KVM_EXIT_FAIL_ENTRY:
		return SANDBOX_ERR_GUEST_ENTRY_FAILED;
	case KVM_EXIT_INTERNAL_ERROR:
		return SANDBOX_ERR_GUEST_INTERNAL;
	case KVM_EXIT_INTR:
		return SANDBOX_OK; /* a signal; the budget checks follow */
	default:
		return SANDBOX_ERR_UNEXPECTED_EXIT;
	}
}

enum sandbox_err run_loop(struct kvm_vm *vm, struct virtio_mmio *mmio,
			  const struct run_limits *lim,
			  const struct run_hooks *hooks, struct run_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (lim->budget_ns == 0 || lim->max_exits == 0)
		return SANDBOX_ERR_CONFIG;
	uint64_t t0 = run_loop_now_ns();
	struct timer_state ts;
	enum sandbox_err err = SANDBOX_ERR_VM_SETUP;
	if (!arm_timer(&ts, vm->run, lim->budget_ns))
		goto out;

	for (;;) {
		if (alarm_fired ||
		    run_loop_now_ns() - t0 >= lim->budget_ns) {
			err = SANDBOX_ERR_GUEST_TIMEOUT;
			break;
		}
		if (st->exits >= lim->max_exits) {
			err = SANDBOX_ERR_GUEST_EXIT_BUDGET;
			break;
		}
		int rc = ioctl(vm->vcpu_fd, KVM_RUN, 0);
		st->exits++;
		if (rc < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue; /* the budget checks decide */
			err = SANDBOX_ERR_UNEXPECTED_EXIT;
			break;
		}
		bool done = false;
		err = handle_exit(vm, mmio, hooks, st, &done);
		if (err != SANDBOX_OK || done)
			break;
		if (hooks != NULL && hooks->exited != NULL)
			hooks->exited(hooks->ctx);
	}
out:
	disarm_timer(&ts);
	/* Where a failed run stopped, for diagnostics (a vCPU ioctl costs
	 * tens of microseconds here: not on the success path). */
	struct kvm_regs regs;
	if (err != SANDBOX_OK && ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs) == 0)
		st->guest_rip = regs.rip;
	st->elapsed_ns = run_loop_now_ns() - t0;
	return err;
}
