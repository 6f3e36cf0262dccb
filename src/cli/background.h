/*
 * background.h — one helper thread for one job: started before lockdown
 * (thread creation is not in the seccomp policy), it sleeps on a futex
 * until background_run() hands it a job, runs it, and goes back to
 * sleep. The CLI gives it the VM's teardown (about half a millisecond of
 * kernel time) so that it overlaps with the commit's fdatasync.
 *
 * The helper blocks every signal, so SIGALRM (the guest's time budget)
 * always reaches the thread that runs the guest. It never exits; the
 * process's exit ends it. Syscalls after lockdown: futex (private wait
 * and wake only) and whatever the job does.
 *
 * Trust: none needed; process-internal synchronisation.
 */
#ifndef INSTAR_CLI_BACKGROUND_H
#define INSTAR_CLI_BACKGROUND_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Start the helper (it then runs its own start-up syscalls while the
 * caller goes on). false if it could not be started. */
bool background_start(void);

/* Wait until the helper sleeps, its start-up syscalls behind it: call it
 * before lockdown. false if it was never started. */
bool background_ready(void);

/* Hand it fn(arg). If the helper was not started, or is busy, run the
 * job here and now instead. */
void background_run(void (*fn)(void *), void *arg);

/* Wait until the job handed over has finished (returns at once if none
 * was). */
void background_wait(void);

#ifdef __cplusplus
}
#endif

#endif
