/*
 * image_format.c — format detection from magic bytes (see image_format.h).
 * Trusts nothing: every comparison is bounded by the given lengths.
 * Freestanding.
 */
#include "src/qcow2/image_format.h"

#include "src/qcow2/qcow2_be.h"
#include "src/qcow2/qcow2_format.h"

#define VDI_SIGNATURE_OFF 64u
#define VDI_SIGNATURE_LE  0x7f10dabeU /* 0xbeda107f, little-endian */
#define VPC_FOOTER_LEN    512u

static int bytes_at(const uint8_t *buf, size_t len, size_t off,
		    const char *lit, size_t lit_len)
{
	if (buf == NULL || off > len || lit_len > len - off)
		return 0;
	for (size_t i = 0; i < lit_len; i++) {
		if (buf[off + i] != (uint8_t)lit[i])
			return 0;
	}
	return 1;
}

/* VMDK text descriptors start with a comment line naming the format. */
static int vmdk_descriptor(const uint8_t *head, size_t len)
{
	static const char tag[] = "# Disk DescriptorFile";
	return bytes_at(head, len, 0, tag, sizeof(tag) - 1);
}

enum image_format image_format_detect(const uint8_t *head, size_t head_len,
				      const uint8_t *tail, size_t tail_len)
{
	if (head_len >= 8 && qcow2_be32(head) == QCOW2_MAGIC) {
		uint32_t version = qcow2_be32(head + 4);
		return version == 1 ? IMAGE_FORMAT_QCOW1 : IMAGE_FORMAT_QCOW2;
	}
	if (head_len >= 4 && qcow2_be32(head) == QCOW2_MAGIC)
		return IMAGE_FORMAT_QCOW2;
	if (bytes_at(head, head_len, 0, "QED\0", 4))
		return IMAGE_FORMAT_QED;
	if (bytes_at(head, head_len, 0, "KDMV", 4) || vmdk_descriptor(head, head_len))
		return IMAGE_FORMAT_VMDK;
	if (bytes_at(head, head_len, 0, "conectix", 8))
		return IMAGE_FORMAT_VPC;
	if (bytes_at(head, head_len, 0, "vhdxfile", 8))
		return IMAGE_FORMAT_VHDX;
	if (head_len >= VDI_SIGNATURE_OFF + 4 &&
	    qcow2_be32(head + VDI_SIGNATURE_OFF) == VDI_SIGNATURE_LE)
		return IMAGE_FORMAT_VDI;
	/* A fixed VHD carries only a footer, in the last 512 bytes. */
	if (tail != NULL && tail_len >= VPC_FOOTER_LEN &&
	    bytes_at(tail, tail_len, tail_len - VPC_FOOTER_LEN, "conectix", 8))
		return IMAGE_FORMAT_VPC;
	return IMAGE_FORMAT_RAW;
}

/* The first 2048 bytes as QEMU's probe sees them. */
#define QEMU_PROBE_BYTES 2048u

static int ends_with(const char *s, const char *suffix)
{
	size_t n = 0, m = 0;

	while (s[n] != '\0')
		n++;
	while (suffix[m] != '\0')
		m++;
	return n >= m && bytes_at((const uint8_t *)s, n, n - m, suffix, m);
}

enum image_format image_format_probe_qemu(const uint8_t *head, size_t head_len,
					  const char *name)
{
	static const char cloop[] = "#!/bin/sh\n#V2.0 Format\nmodprobe cloop file=$1\n";
	uint8_t h[QEMU_PROBE_BYTES];
	size_t n = head_len < sizeof(h) ? head_len : sizeof(h);

	__builtin_memset(h, 0, sizeof(h));
	for (size_t i = 0; i < n && head != NULL; i++)
		h[i] = head[i];
	if (qcow2_be32(h) == QCOW2_MAGIC) {
		uint32_t version = qcow2_be32(h + 4);
		if (version >= 2)
			return IMAGE_FORMAT_QCOW2;
		if (version == 1)
			return IMAGE_FORMAT_QCOW1;
	}
	if (bytes_at(h, sizeof(h), 0, "QED\0", 4))
		return IMAGE_FORMAT_QED;
	if (bytes_at(h, sizeof(h), 0, "KDMV", 4) || bytes_at(h, sizeof(h), 0, "COWD", 4) ||
	    vmdk_descriptor(h, sizeof(h)))
		return IMAGE_FORMAT_VMDK;
	if (bytes_at(h, sizeof(h), 0, "conectix", 8))
		return IMAGE_FORMAT_VPC;
	if (bytes_at(h, sizeof(h), 0, "vhdxfile", 8))
		return IMAGE_FORMAT_VHDX;
	if (qcow2_be32(h + VDI_SIGNATURE_OFF) == VDI_SIGNATURE_LE)
		return IMAGE_FORMAT_VDI;
	if (bytes_at(h, sizeof(h), 0, "WithoutFreeSpace", 16) ||
	    bytes_at(h, sizeof(h), 0, "WithouFreSpacExt", 16))
		return IMAGE_FORMAT_PARALLELS;
	if (bytes_at(h, sizeof(h), 0, "Bochs Virtual HD Image", 22))
		return IMAGE_FORMAT_BOCHS;
	if (bytes_at(h, sizeof(h), 0, cloop, sizeof(cloop) - 1))
		return IMAGE_FORMAT_CLOOP;
	if (bytes_at(h, sizeof(h), 0, "LUKS\xba\xbe", 6))
		return IMAGE_FORMAT_LUKS;
	if (name != NULL && ends_with(name, ".dmg"))
		return IMAGE_FORMAT_DMG;
	return IMAGE_FORMAT_RAW;
}

const char *image_format_name(enum image_format f)
{
	switch (f) {
	case IMAGE_FORMAT_QCOW2: return "qcow2";
	case IMAGE_FORMAT_QCOW1: return "qcow";
	case IMAGE_FORMAT_QED:   return "qed";
	case IMAGE_FORMAT_VDI:   return "vdi";
	case IMAGE_FORMAT_VMDK:  return "vmdk";
	case IMAGE_FORMAT_VPC:   return "vpc";
	case IMAGE_FORMAT_VHDX:  return "vhdx";
	case IMAGE_FORMAT_PARALLELS: return "parallels";
	case IMAGE_FORMAT_BOCHS: return "bochs";
	case IMAGE_FORMAT_CLOOP: return "cloop";
	case IMAGE_FORMAT_LUKS:  return "luks";
	case IMAGE_FORMAT_DMG:   return "dmg";
	case IMAGE_FORMAT_RAW:
	case IMAGE_FORMAT_COUNT_:
	default:                 return "raw";
	}
}
