/*
 * background.c — the helper thread (see background.h). State machine on
 * one futex word: IDLE -> (background_run) WORK -> (helper claims it)
 * BUSY -> DONE -> (background_wait) IDLE; background_wait may claim a
 * job still in WORK itself (WORK -> IDLE after running it here).
 *
 * Syscalls: before lockdown clone3, mmap/mprotect (the thread's stack),
 * rt_sigprocmask, set_robust_list, rseq (glibc's thread start),
 * sched_setscheduler (the helper's SCHED_IDLE); after, futex
 * (FUTEX_WAIT_PRIVATE, FUTEX_WAKE_PRIVATE).
 */
#define _GNU_SOURCE
#include "src/cli/background.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { B_NONE = 0, B_IDLE, B_WORK, B_BUSY, B_DONE };

static _Atomic uint32_t state = B_NONE;
static bool started;
static void (*job_fn)(void *);
static void *job_arg;

static void futex_wait(_Atomic uint32_t *w, uint32_t val)
{
	(void)syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT_PRIVATE, val,
		      NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *w)
{
	(void)syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL,
		      NULL, 0);
}

/*
 * SCHED_IDLE: the helper never preempts the main thread. Without it the
 * wake-up in background_run() now and then put the helper on the main
 * thread's CPU ahead of it, and the commit waited a whole time slice for
 * the teardown (a wake that returned after 2.4-5 ms in 2 of 8 tries of a
 * two-thread experiment on this machine; never with SCHED_IDLE). If it
 * cannot be set, the helper runs at normal priority: slower, not wrong.
 */
static void *helper(void *unused)
{
	struct sched_param sp = { .sched_priority = 0 };

	(void)unused;
	(void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
	atomic_store(&state, B_IDLE);
	futex_wake(&state);
	for (;;) {
		uint32_t s = B_WORK;
		if (!atomic_compare_exchange_strong(&state, &s, B_BUSY)) {
			futex_wait(&state, s);
			continue;
		}
		job_fn(job_arg);
		atomic_store(&state, B_DONE);
		futex_wake(&state);
	}
	return NULL;
}

bool background_start(void)
{
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, old;
	bool ok;

	if (started)
		return true;
	if (pthread_attr_init(&attr) != 0)
		return false;
	(void)pthread_attr_setstacksize(&attr, (size_t)64u * 1024u);
	(void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* The thread starts with the mask it inherits: all blocked. */
	sigfillset(&all);
	if (pthread_sigmask(SIG_SETMASK, &all, &old) != 0) {
		pthread_attr_destroy(&attr);
		return false;
	}
	ok = pthread_create(&t, &attr, helper, NULL) == 0;
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (ok)
		started = true;
	return ok;
}

void background_ready(void)
{
	if (!started)
		return;
	while (atomic_load(&state) == B_NONE)
		futex_wait(&state, B_NONE);
}

void background_run(void (*fn)(void *), void *arg)
{
	if (atomic_load(&state) != B_IDLE) {
		fn(arg);
		return;
	}
	job_fn = fn;
	job_arg = arg;
	atomic_store(&state, B_WORK);
	futex_wake(&state);
}

void background_wait(void)
{
	for (;;) {
		uint32_t s = B_WORK;
		/* Not started yet (a busy machine gives a SCHED_IDLE thread
		 * little time): run it here rather than wait for it. */
		if (atomic_compare_exchange_strong(&state, &s, B_IDLE)) {
			job_fn(job_arg);
			return;
		}
		if (s == B_DONE) {
			atomic_store(&state, B_IDLE);
			return;
		}
		if (s != B_BUSY)
			return;
		futex_wait(&state, s);
	}
}
