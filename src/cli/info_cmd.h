/*
 * info_cmd.h — `instar info`: what `qemu-img info` shows of a qcow2 or
 * raw image, sandboxed (info_cmd.c). Trust: see info_cmd.c.
 */
#ifndef INSTAR_INFO_CMD_H
#define INSTAR_INFO_CMD_H

#ifdef __cplusplus
extern "C" {
#endif

/* argv[0] is the first argument after "info". */
int info_main(int argc, char *const argv[]);

void info_usage(void);

#ifdef __cplusplus
}
#endif

#endif
