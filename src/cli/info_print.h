/*
 * info_print.h — `instar info`'s report, human or JSON, byte for byte as
 * the qemu-img release chosen with --qemu-compat prints it (docs/info.md
 * has each line and key, and how they were learned). For a qcow2 image
 * the facts come from the guest's report (already checked by
 * src/image/report_parse.c); the sizes of the file come from the host.
 *
 * Trust: the report is checked; text from the image goes out JSON-escaped
 * in JSON and with its terminal controls escaped in human output (a
 * documented divergence: qemu-img prints it raw).
 */
#ifndef INSTAR_INFO_PRINT_H
#define INSTAR_INFO_PRINT_H

#include <stdbool.h>
#include <stdint.h>

#include "src/cli/outbuf.h"
#include "src/cli/qemu_compat.h"
#include "src/image/report_parse.h"

#ifdef __cplusplus
extern "C" {
#endif

struct info_facts {
	const char *filename;          /* the image's name as qemu-img shows it */
	bool qcow2;                    /* else raw */
	const struct report_view *v;   /* qcow2: the checked report */
	uint64_t file_bytes;           /* the file's length */
	uint64_t actual_size;          /* its allocation (st_blocks * 512) */
	bool block_device;             /* a block device, not a file */
};

/* Write the whole report to `out`. */
void info_print_human(struct outbuf *out, const struct info_facts *f,
		      const struct qemu_compat *c);
void info_print_json(struct outbuf *out, const struct info_facts *f,
		     const struct qemu_compat *c);

#ifdef __cplusplus
}
#endif

#endif
