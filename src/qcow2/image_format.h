/*
 * image_format.h — name a disk image's format from its magic bytes, so a
 * non-qcow2 file is refused by name. Trusts nothing: reads only inside
 * the buffers it is given. Freestanding.
 */
#ifndef INSTAR_IMAGE_FORMAT_H
#define INSTAR_IMAGE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum image_format {
	IMAGE_FORMAT_RAW = 0,  /* nothing recognised */
	IMAGE_FORMAT_QCOW2,    /* "QFI\xfb", version >= 2 */
	IMAGE_FORMAT_QCOW1,    /* "QFI\xfb", version 1 */
	IMAGE_FORMAT_QED,      /* "QED\0" */
	IMAGE_FORMAT_VDI,      /* 0xbeda107f at byte 64 */
	IMAGE_FORMAT_VMDK,     /* "KDMV" sparse extent or a text descriptor */
	IMAGE_FORMAT_VPC,      /* "conectix" at 0, or in the footer at the end */
	IMAGE_FORMAT_VHDX,     /* "vhdxfile" */
	IMAGE_FORMAT_COUNT_
};

/* `head` is the first bytes of the file (as many as are available, up
 * to at least 512 for a full answer); `tail` is the file's last 512 bytes
 * (NULL or shorter when the file is smaller). */
enum image_format image_format_detect(const uint8_t *head, size_t head_len,
				      const uint8_t *tail, size_t tail_len);

/* The format's name as qemu-img spells it ("qcow2", "raw", "vmdk", ...). */
const char *image_format_name(enum image_format f);

#ifdef __cplusplus
}
#endif

#endif
