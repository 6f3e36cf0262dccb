/*
 * background.h — one helper thread for one job: started before lockdown
 * (thread creation is not in the seccomp policy), it sleeps on a futex
 * until background_run() hands it a job, runs it, and goes back to
 * sleep. The CLI gives it the VM's teardown (about half a millisecond of
 * kernel time) so that it overlaps with the commit's fdatasync.
 *
 * The helper runs under SCHED_IDLE, so it only ever uses a CPU the main
 * thread does not need, and blocks every signal, so SIGALRM (the guest's time budget)
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

/* Start the helper; it runs its own start-up syscalls while the caller
 * goes on. Capabilities and no_new_privs are per thread and inherited:
 * the CLI starts it after lockdown_drop_privileges(), so it has none.
 * false if it could not be started: jobs then run in the caller. */
bool background_start(void);

/* Wait until the helper sleeps, its start-up syscalls behind it: call it
 * before the seccomp filter is loaded. Returns at once if no helper was
 * started. */
void background_ready(void);

/* Hand it fn(arg). If the helper was not started, or is busy, run the
 * job here and now instead. */
void background_run(void (*fn)(void *), void *arg);

/* Wait until the job handed over has finished (returns at once if none
 * was); a job the helper has not started yet is run here instead. */
void background_wait(void);

#ifdef __cplusplus
}
#endif

#endif
