/*
 * programs.h — the guest's programs, one per GUEST_CMD_* command, that
 * guest/main.c dispatches to once it has checked the parameter page and
 * taken over the virtio-blk device. Each fills the result record (its
 * fields as guest_abi.h says for that command); main.c publishes it and
 * rings the doorbell. Freestanding; guest-only.
 *
 * Trust: the parameter page has passed main.c's checks (magic, version,
 * header cluster loaded, cluster size, scratch room for two clusters);
 * the image is hostile.
 */
#ifndef INSTAR_GUEST_PROGRAMS_H
#define INSTAR_GUEST_PROGRAMS_H

#include "abi/guest_abi.h"

void amend_run(const struct guest_params *p, struct guest_result *res);
void info_run(const struct guest_params *p, struct guest_result *res);
void check_run(const struct guest_params *p, struct guest_result *res);

#endif
