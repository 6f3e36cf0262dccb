/*
 * seccomp_cmd.h — `instar seccomp [--pfc]`: print the seccomp policy
 * `instar amend` installs. Returns the process exit status.
 */
#ifndef INSTAR_SECCOMP_CMD_H
#define INSTAR_SECCOMP_CMD_H

#ifdef __cplusplus
extern "C" {
#endif

/* argv[0] is the first argument after "seccomp". */
int seccomp_main(int argc, char *const argv[]);

#ifdef __cplusplus
}
#endif

#endif
