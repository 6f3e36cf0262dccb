/*
 * check_cmd.h — `instar check`: what `qemu-img check` finds in a qcow2
 * image, sandboxed and read-only (check_cmd.c). Trust: see check_cmd.c.
 */
#ifndef INSTAR_CHECK_CMD_H
#define INSTAR_CHECK_CMD_H

#ifdef __cplusplus
extern "C" {
#endif

/* argv[0] is the first argument after "check". */
int check_main(int argc, char *const argv[]);

void check_usage(void);

#ifdef __cplusplus
}
#endif

#endif
