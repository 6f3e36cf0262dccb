/*
 * virtio_device_fuzzer.c — fuzz target 4: the host's virtio-mmio
 * transport and virtio-blk device model (sandbox/virtio_mmio.c,
 * virtio_blk.c, virtqueue.c, guest_mem.c, staging.c), driven the way a
 * hostile guest drives them: guest RAM contents plus a sequence of
 * register accesses and queue notifications. No KVM: RAM is a host
 * buffer, the disk is a memfd read through an O_RDONLY descriptor.
 *
 * Input: [0] cluster size choice, [1] disk size choice and whether the
 * pre-probe differs from the file's header, then operations, each an
 * opcode byte and its operands (see the OP_* list below): raw 32-bit
 * register writes, accesses of any offset/width/direction, RAM writes,
 * the driver's set-up sequence, descriptors, request headers, available
 * ring kicks and a whole 3-descriptor request. The run stops at the first
 * access the transport refuses or a write outside the header cluster, as
 * the real exit loop does.
 *
 * Trust: the input is the attacker (the guest). Asserted (a violation
 * traps), beyond ASan/UBSan's own checks: the staged cluster differs from
 * the pre-probe only in sectors the staging bitmap says were written, and
 * the image file is never modified (the descriptor is read-only, and its
 * first bytes are re-checked).
 */
#define _GNU_SOURCE /* memfd_create */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "abi/virtio_defs.h"
#include "fuzz/fuzz_util.h"
#include "sandbox/guest_mem.h"
#include "sandbox/staging.h"
#include "sandbox/virtio_blk.h"
#include "sandbox/virtio_mmio.h"
#include "sandbox/virtqueue.h"

#define RAM_BYTES ((size_t)64u * 1024u)
#define MAX_CLUSTER (64u * 1024u)
#define FILE_BYTES (4u * MAX_CLUSTER + 1024u)
#define MAX_OPS 256u

/* Where the set-up macro and the request macro put things. */
#define REQ_HDR_GPA 0x4000u
#define REQ_STATUS_GPA 0x4100u
#define REQ_DATA_GPA 0x8000u

enum {
	OP_WRITE32 = 0,  /* reg/4 byte, 4 value bytes */
	OP_ACCESS,       /* be16 offset, width choice, write?, 8 data bytes */
	OP_RAM,          /* be16 gpa, n, n bytes */
	OP_INIT,         /* num, desc/256, avail/256, used/256 */
	OP_KICK,         /* head */
	OP_DESC,         /* index, be16 addr, be16 len, flags, next */
	OP_BLK_HDR,      /* be16 gpa, type choice, be32 sector */
	OP_REQUEST,      /* type choice, be16 sector, sectors, data flags */
	OP_COUNT_
};

static uint8_t *ram;
static uint8_t file_bytes[FILE_BYTES];
static int ro_fd = -1;

static bool setup_once(void)
{
	char path[64];
	int fd;

	if (ro_fd >= 0)
		return true;
	ram = aligned_alloc(4096, RAM_BYTES);
	if (ram == NULL)
		return false;
	for (size_t i = 0; i < FILE_BYTES; i++)
		file_bytes[i] = (uint8_t)(i * 7u + 3u);
	fd = memfd_create("instar-fuzz-disk", MFD_CLOEXEC);
	if (fd < 0)
		return false;
	if (write(fd, file_bytes, FILE_BYTES) != (ssize_t)FILE_BYTES) {
		close(fd);
		return false;
	}
	/* Cannot be cut: "/proc/self/fd/" and an int fit 64 bytes. */
	(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro_fd = open(path, O_RDONLY | O_CLOEXEC);
	close(fd);
	return ro_fd >= 0;
}

struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t u8(struct in *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

static uint16_t be16(struct in *in)
{
	uint16_t hi = u8(in);
	return (uint16_t)(hi << 8 | u8(in));
}

static uint32_t be32(struct in *in)
{
	uint32_t hi = be16(in);
	return hi << 16 | be16(in);
}

static void ram_put(uint64_t gpa, const void *src, size_t n)
{
	if (gpa < RAM_BYTES && n <= RAM_BYTES - gpa)
		memcpy(ram + gpa, src, n);
}

static uint32_t blk_type(uint8_t b)
{
	static const uint32_t t[] = { VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT,
				      VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID };
	return b < 0xf0u ? t[b % 4u] : b;
}

static enum vmmio_err w32(struct virtio_mmio *t, uint32_t off, uint32_t v)
{
	uint8_t d[8] = { 0 };
	memcpy(d, &v, 4);
	return vmmio_access(t, off, d, 4, true);
}

static enum vmmio_err driver_init(struct virtio_mmio *t, struct in *in)
{
	uint32_t num = u8(in);
	uint64_t desc = (uint64_t)u8(in) << 8;
	uint64_t avail = (uint64_t)u8(in) << 8;
	uint64_t used = (uint64_t)u8(in) << 8;
	uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	const uint32_t seq[][2] = {
		{ VIRTIO_MMIO_STATUS, 0 },
		{ VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE },
		{ VIRTIO_MMIO_STATUS, st },
		{ VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1 },
		{ VIRTIO_MMIO_DRIVER_FEATURES, 1 },
		{ VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_FEATURES_OK },
		{ VIRTIO_MMIO_QUEUE_SEL, 0 },
		{ VIRTIO_MMIO_QUEUE_NUM, num },
		{ VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc },
		{ VIRTIO_MMIO_QUEUE_DESC_HIGH, 0 },
		{ VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail },
		{ VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0 },
		{ VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used },
		{ VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0 },
		{ VIRTIO_MMIO_QUEUE_READY, 1 },
		{ VIRTIO_MMIO_STATUS,
		  st | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK },
	};
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		enum vmmio_err e = w32(t, seq[i][0], seq[i][1]);
		if (e != VMMIO_OK)
			return e;
	}
	return VMMIO_OK;
}

/* Publish `head` on the available ring the driver set up, and notify. */
static enum vmmio_err kick(struct virtio_mmio *t, uint16_t head)
{
	uint64_t a = t->q.avail_gpa;
	uint32_t num = t->q.num ? t->q.num : 1u;
	uint16_t idx = 0;

	if (a < RAM_BYTES && RAM_BYTES - a >= 4) {
		memcpy(&idx, ram + a + 2, 2);
		ram_put(a + VIRTQ_AVAIL_RING_OFF + (uint64_t)(idx % num) * 2u, &head, 2);
		idx++;
		ram_put(a + 2, &idx, 2);
	}
	return w32(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

static void put_desc(struct virtio_mmio *t, uint32_t i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	struct virtq_desc d = { addr, len, flags, next };
	ram_put(t->q.desc_gpa + 16u * (uint64_t)i, &d, sizeof(d));
}

static enum vmmio_err request(struct virtio_mmio *t, struct in *in)
{
	uint32_t type = blk_type(u8(in));
	uint64_t sector = be16(in);
	uint32_t sectors = u8(in) % 16u + 1u;
	uint8_t how = u8(in);
	struct virtio_blk_req_hdr h = { type, 0, sector };
	uint16_t wflag = type == VIRTIO_BLK_T_OUT ? 0 : VIRTQ_DESC_F_WRITE;
	uint32_t dlen = sectors * 512u;

	if (how & 1u)
		dlen -= 1u;   /* not a whole sector */
	ram_put(REQ_HDR_GPA, &h, sizeof(h));
	ram[REQ_STATUS_GPA] = 0xee;
	if (how & 2u) {   /* header and status only */
		put_desc(t, 0, REQ_HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
		put_desc(t, 1, REQ_STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
	} else {
		put_desc(t, 0, REQ_HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
		put_desc(t, 1, REQ_DATA_GPA, dlen,
			 (uint16_t)(VIRTQ_DESC_F_NEXT | wflag), 2);
		put_desc(t, 2, REQ_STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
	}
	return kick(t, 0);
}

static enum vmmio_err one_op(struct virtio_mmio *t, struct in *in)
{
	static const uint32_t widths[] = { 1, 2, 4, 8, 3, 0 };
	uint8_t op = u8(in) % OP_COUNT_;

	switch (op) {
	case OP_WRITE32: {
		uint32_t off = (uint32_t)u8(in) * 4u;
		uint32_t v = be32(in);
		return w32(t, off, v);
	}
	case OP_ACCESS: {
		uint8_t d[8];
		uint64_t off = be16(in);
		uint8_t wb = u8(in);
		uint32_t width = widths[wb % 6u];
		bool is_write = (wb & 0x80u) != 0;
		for (size_t i = 0; i < sizeof(d); i++)
			d[i] = u8(in);
		if (wb & 0x40u)
			off |= (uint64_t)0xffffffffu << 32;
		return vmmio_access(t, off, d, width, is_write);
	}
	case OP_RAM: {
		uint64_t gpa = be16(in);
		size_t n = u8(in);
		if (n > in->n)
			n = in->n;
		ram_put(gpa, in->p, n);
		in->p += n;
		in->n -= n;
		return VMMIO_OK;
	}
	case OP_INIT:
		return driver_init(t, in);
	case OP_KICK:
		return kick(t, u8(in));
	case OP_DESC: {
		uint32_t i = u8(in);
		uint64_t addr = be16(in);
		uint32_t len = be16(in);
		uint8_t fl = u8(in);
		uint8_t next = u8(in);
		if (fl & 0x80u)
			len |= 0xffff0000u;
		if (fl & 0x40u)
			addr |= (uint64_t)0xffffffffu << 32;
		put_desc(t, i, addr, len, (uint16_t)(fl & 0x0fu), next);
		return VMMIO_OK;
	}
	case OP_BLK_HDR: {
		uint64_t gpa = be16(in);
		uint32_t type = blk_type(u8(in));
		uint64_t sector = be32(in);
		struct virtio_blk_req_hdr h = { type, 0, sector };
		if (sector & 0x80000000u)
			h.sector |= (uint64_t)0xffffffffu << 32;
		ram_put(gpa, &h, sizeof(h));
		return VMMIO_OK;
	}
	case OP_REQUEST:
	default:
		return request(t, in);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t clusters[] = { 512u, 4096u, MAX_CLUSTER };
	static uint8_t preprobe[MAX_CLUSTER];
	static uint8_t staged[MAX_CLUSTER];
	static struct staging stage;
	static struct vblk_device blk;
	static struct virtio_mmio t;
	struct guest_mem mem;
	struct in in = { data, size };
	uint32_t cs;
	uint64_t disk;
	uint8_t b1;

	if (!setup_once())
		__builtin_trap();
	cs = clusters[u8(&in) % 3u];
	b1 = u8(&in);
	disk = 4u * (uint64_t)cs + (uint64_t)(b1 & 3u) * 512u + ((b1 & 4u) ? 100u : 0u);
	memcpy(preprobe, file_bytes, cs);
	if (b1 & 8u)
		preprobe[cs / 2u] ^= 1u;   /* the header changed since */

	memset(ram, 0, RAM_BYTES);
	guest_mem_wrap(&mem, ram, RAM_BYTES);
	FUZZ_ASSERT(staging_init(&stage, staged, preprobe, cs));
	vblk_device_init(&blk, &mem, ro_fd, disk, preprobe, cs, &stage);
	vmmio_init(&t, &vblk_device_ops, &blk, &mem);

	for (uint32_t k = 0; k < MAX_OPS && in.n > 0; k++) {
		if (one_op(&t, &in) != VMMIO_OK || blk.bad_write)
			break;
	}

	/* Only written sectors may differ from the pre-probe. */
	for (uint32_t s = 0; s < cs / 512u; s++) {
		if (!staging_sector_written(&stage, s))
			FUZZ_ASSERT(memcmp(staged + (size_t)s * 512u,
					   preprobe + (size_t)s * 512u, 512) == 0);
	}
	FUZZ_ASSERT(staging_sectors_written(&stage) <= cs / 512u);
	{
		uint8_t head[64];
		FUZZ_ASSERT(pread(ro_fd, head, sizeof(head), 0) ==
			    (ssize_t)sizeof(head));
		FUZZ_ASSERT(memcmp(head, file_bytes, sizeof(head)) == 0);
	}
	return 0;
}
