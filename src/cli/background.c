/*
 * background.c — the helper thread (see background.h). State machine on
 * one futex word: IDLE -> (background_run) WORK -> (helper) DONE ->
 * (background_wait) IDLE.
 *
 * Syscalls: before lockdown clone3, mmap/mprotect (the thread's stack),
 * rt_sigprocmask, set_robust_list, rseq (glibc's thread start); after,
 * futex (FUTEX_WAIT_PRIVATE, FUTEX_WAKE_PRIVATE).
 */
#define _GNU_SOURCE
#include "src/cli/background.h"

#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { B_NONE = 0, B_IDLE, B_WORK, B_DONE };

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

static void *helper(void *unused)
{
	(void)unused;
	atomic_store(&state, B_IDLE);
	futex_wake(&state);
	for (;;) {
		uint32_t s = atomic_load(&state);
		if (s != B_WORK) {
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
	(void)pthread_attr_setstacksize(&attr, 64u * 1024u);
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

bool background_ready(void)
{
	if (!started)
		return false;
	while (atomic_load(&state) == B_NONE)
		futex_wait(&state, B_NONE);
	return true;
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
		uint32_t s = atomic_load(&state);
		if (s == B_DONE) {
			atomic_store(&state, B_IDLE);
			return;
		}
		if (s != B_WORK)
			return;
		futex_wait(&state, s);
	}
}
