/*
 * inspect.h — the pieces the inspection programs (info_prog.c,
 * check_prog.c) share: the input of qcow2_open() over the guest's scratch
 * (the header cluster at its start, work memory after the second
 * cluster), and the report records of what the open says. Freestanding;
 * guest-only.
 *
 * Trust: the parameter page passed guest/main.c's checks; the records
 * carry what src/qcow2 found, bounded as report_abi.h requires.
 */
#ifndef INSTAR_GUEST_INSPECT_H
#define INSTAR_GUEST_INSPECT_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/guest_abi.h"
#include "src/qcow2/qcow2_open.h"

/* Fill *in for an open in `mode` with the release behaviour bits
 * `behaviour` (QOPEN_B_*); false if the cluster is too small to hold a
 * header. */
bool inspect_open_input(const struct guest_params *p, uint32_t behaviour,
			enum qcow2_open_mode mode, const struct qcow2_io *io,
			struct qcow2_open_input *in);

/* A REPORT_T_WARNING record per warning of the open. */
bool inspect_report_warnings(const struct qcow2_opened *o);

/* The REPORT_T_OPEN_ERROR record of a refusal. */
bool inspect_report_refusal(const struct qcow2_open_err *e);

#endif
