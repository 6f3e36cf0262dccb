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
	IMAGE_FORMAT_PARALLELS,/* "WithoutFreeSpace" / "WithouFreSpacExt" */
	IMAGE_FORMAT_BOCHS,    /* "Bochs Virtual HD Image" */
	IMAGE_FORMAT_CLOOP,    /* the cloop shell header */
	IMAGE_FORMAT_LUKS,     /* "LUKS\xba\xbe" */
	IMAGE_FORMAT_DMG,      /* a file named *.dmg (QEMU probes dmg by name) */
	IMAGE_FORMAT_COUNT_
};

/* `head` is the first bytes of the file (as many as are available, up
 * to at least 512 for a full answer); `tail` is the file's last 512 bytes
 * (NULL or shorter when the file is smaller). */
enum image_format image_format_detect(const uint8_t *head, size_t head_len,
				      const uint8_t *tail, size_t tail_len);

/* The format qemu-img's probe picks (what `qemu-img info` and `check`
 * open a file as without -f): only the first 2048 bytes count (a shorter
 * file reads as zero-padded), qcow2 needs version >= 2 (version 1 is the
 * old qcow, 0 is raw), a VHD is recognised by its head only, and a name
 * ending in ".dmg" is dmg. `name` may be NULL. */
enum image_format image_format_probe_qemu(const uint8_t *head, size_t head_len,
					  const char *name);

/* The format's name as qemu-img spells it ("qcow2", "raw", "vmdk", ...). */
const char *image_format_name(enum image_format f);

#ifdef __cplusplus
}
#endif

#endif
