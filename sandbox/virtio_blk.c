/*
 * virtio_blk.c — virtio-blk request handling (see virtio_blk.h).
 *
 * Trust: the chain comes from virtq_pop(), so every buffer is already a
 * bounds-checked host pointer; this file checks the request itself:
 * framing (header, data direction, status), sector arithmetic
 * (overflow-checked), the device capacity, and for writes the header
 * cluster window. The image file is only ever read here.
 */
#define _GNU_SOURCE /* pread, MAP_ANONYMOUS, sigaction, setitimer under -std=c11 */
#include "sandbox/virtio_blk.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "abi/virtio_defs.h"

/* The serial number GET_ID answers with (zero-padded to 20 bytes). */
static const char vblk_id[] = "instar";

void vblk_device_init(struct vblk_device *d, const struct guest_mem *mem,
		      int fd, uint64_t disk_bytes, const uint8_t *preprobe,
		      uint32_t cluster_size, struct staging *staging)
{
	memset(d, 0, sizeof(*d));
	d->mem = mem;
	d->fd = fd;
	/* A partial last sector is part of the disk: QEMU writes an image's
	 * last table with its exact length, so a fresh image ends mid-sector.
	 * Reads past the end of the file return zeroes (read_full). */
	d->capacity = disk_bytes / VIRTIO_BLK_SECTOR_SIZE +
		      (disk_bytes % VIRTIO_BLK_SECTOR_SIZE != 0);
	d->disk_bytes = disk_bytes;
	d->preprobe = preprobe;
	d->cluster_size = cluster_size;
	d->staging = staging;
}

/* pread exactly `len` bytes at `off`, zero-filling what lies past the
 * end of the disk (only the tail of the last, partial sector); false on
 * error. End of file before the disk's size (as the host measured it
 * before the run) means the file shrank under the run: *shrank is set. */
static bool read_full(int fd, uint8_t *buf, uint32_t len, uint64_t off,
		      uint64_t disk_bytes, uint32_t *calls, bool *shrank)
{
	uint32_t done = 0;
	while (done < len) {
		uint64_t pos;
		if (__builtin_add_overflow(off, (uint64_t)done, &pos) ||
		    pos > (uint64_t)INT64_MAX)
			return false;
		(*calls)++;
		ssize_t n = pread(fd, buf + done, len - done, (off_t)pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		if (n == 0) {
			if (pos < disk_bytes) {
				*shrank = true;
				return false;
			}
			memset(buf + done, 0, len - done);
			return true;
		}
		done += (uint32_t)n;
	}
	return true;
}

/* Compare what was read at file offset `off` with the pre-probe copy of
 * the header cluster, for the part that overlaps it. */
static void check_header(struct vblk_device *d, const uint8_t *buf,
			 uint32_t len, uint64_t off)
{
	if (off >= d->cluster_size)
		return;
	uint64_t n = d->cluster_size - off;
	if (n > len)
		n = len;
	if (memcmp(buf, d->preprobe + off, (size_t)n) != 0)
		d->header_changed = true;
}

/* Sectors [sector, sector + nsec) as byte range; false on overflow or
 * beyond the device capacity. */
static bool sector_range(const struct vblk_device *d, uint64_t sector,
			 uint64_t nsec, uint64_t *off, uint64_t *end_off)
{
	uint64_t end;
	if (__builtin_add_overflow(sector, nsec, &end) || end > d->capacity)
		return false;
	if (__builtin_mul_overflow(sector, (uint64_t)VIRTIO_BLK_SECTOR_SIZE,
				   off) ||
	    __builtin_mul_overflow(end, (uint64_t)VIRTIO_BLK_SECTOR_SIZE,
				   end_off))
		return false;
	return true;
}

static uint8_t do_read(struct vblk_device *d, const struct vq_chain *c,
		       uint64_t sector, uint64_t data_bytes)
{
	uint64_t off;
	uint64_t end_off;
	if (!sector_range(d, sector, data_bytes / VIRTIO_BLK_SECTOR_SIZE,
			  &off, &end_off))
		return VIRTIO_BLK_S_IOERR;
	for (uint32_t i = 1; i + 1u < c->n; i++) {
		const struct vq_seg *s = &c->seg[i];
		if (!read_full(d->fd, s->host, s->len, off, d->disk_bytes,
			       &d->reads, &d->file_shrank)) {
			/* The file is shorter than it was, or unreadable: if
			 * that touches the header, it is not the pre-probe's. */
			if (off < d->cluster_size)
				d->header_changed = true;
			return VIRTIO_BLK_S_IOERR;
		}
		d->read_bytes += s->len;
		check_header(d, s->host, s->len, off);
		off += s->len;
	}
	return VIRTIO_BLK_S_OK;
}

static uint8_t do_write(struct vblk_device *d, const struct vq_chain *c,
			uint64_t sector, uint64_t data_bytes)
{
	uint64_t off;
	uint64_t end_off;
	if (d->read_only ||
	    !sector_range(d, sector, data_bytes / VIRTIO_BLK_SECTOR_SIZE,
			  &off, &end_off) ||
	    end_off > d->cluster_size) {
		d->bad_write = true;
		return VIRTIO_BLK_S_IOERR;
	}
	for (uint32_t i = 1; i + 1u < c->n; i++) {
		const struct vq_seg *s = &c->seg[i];
		if (!staging_write(d->staging, off / VIRTIO_BLK_SECTOR_SIZE,
				   s->host, s->len)) {
			d->bad_write = true;
			return VIRTIO_BLK_S_IOERR;
		}
		off += s->len;
	}
	d->write_requests++;
	return VIRTIO_BLK_S_OK;
}

static uint32_t do_get_id(const struct vq_chain *c)
{
	uint8_t id[VIRTIO_BLK_ID_BYTES];
	memset(id, 0, sizeof(id));
	memcpy(id, vblk_id, sizeof(vblk_id) - 1u);
	uint32_t done = 0;
	for (uint32_t i = 1; i + 1u < c->n && done < sizeof(id); i++) {
		uint32_t n = c->seg[i].len;
		if (n > sizeof(id) - done)
			n = (uint32_t)sizeof(id) - done;
		memcpy(c->seg[i].host, id + done, n);
		done += n;
	}
	return done;
}

enum vblk_dev_err vblk_device_handle(struct vblk_device *d,
				     const struct vq_chain *c,
				     uint32_t *used_len)
{
	*used_len = 0;
	/* Framing: [header (16, readable)] [data...] [status (1, writable)]. */
	if (c->n < 2 || c->seg[0].device_writable ||
	    c->seg[0].len != sizeof(struct virtio_blk_req_hdr) ||
	    !c->seg[c->n - 1u].device_writable || c->seg[c->n - 1u].len != 1)
		return VBLK_DEV_ERR_FRAMING;

	struct virtio_blk_req_hdr hdr;
	memcpy(&hdr, c->seg[0].host, sizeof(hdr));

	bool data_writable = hdr.type != VIRTIO_BLK_T_OUT;
	uint64_t data_bytes = 0;
	for (uint32_t i = 1; i + 1u < c->n; i++) {
		if (c->seg[i].device_writable != data_writable)
			return VBLK_DEV_ERR_FRAMING;
		data_bytes += c->seg[i].len; /* <= 16 * UINT32_MAX: no wrap */
	}
	/* The used length (data + status byte) must fit its u32 field. */
	if (data_bytes >= UINT32_MAX)
		return VBLK_DEV_ERR_FRAMING;

	uint8_t status;
	uint32_t written = 0;
	d->requests++;
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT: {
		bool whole = data_bytes != 0;
		for (uint32_t i = 1; i + 1u < c->n; i++)
			whole = whole &&
				c->seg[i].len % VIRTIO_BLK_SECTOR_SIZE == 0;
		if (!whole) {
			status = VIRTIO_BLK_S_IOERR;
			if (hdr.type == VIRTIO_BLK_T_OUT)
				d->bad_write = true;
		} else if (hdr.type == VIRTIO_BLK_T_IN) {
			status = do_read(d, c, hdr.sector, data_bytes);
			if (status == VIRTIO_BLK_S_OK)
				written = (uint32_t)data_bytes;
		} else {
			status = do_write(d, c, hdr.sector, data_bytes);
		}
		break;
	}
	case VIRTIO_BLK_T_GET_ID:
		written = do_get_id(c);
		status = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_FLUSH:
		/* Nothing reaches the file from here: nothing to flush. */
		status = data_bytes == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	if (status != VIRTIO_BLK_S_OK)
		d->ioerr_requests++;
	c->seg[c->n - 1u].host[0] = status;
	*used_len = written + 1u;
	return VBLK_DEV_OK;
}

static bool vblk_config_read(void *dev, uint32_t off, uint32_t width,
			     uint64_t *val)
{
	const struct vblk_device *d = dev;
	uint8_t cfg[VIRTIO_BLK_CFG_BYTES];
	uint32_t end;
	memcpy(cfg + VIRTIO_BLK_CFG_CAPACITY, &d->capacity, sizeof(uint64_t));
	if (width == 0 || width > sizeof(*val) ||
	    __builtin_add_overflow(off, width, &end) || end > sizeof(cfg))
		return false;
	*val = 0;
	memcpy(val, cfg + off, width); /* little-endian host and guest */
	return true;
}

static bool vblk_queue_notify(void *dev, struct virtq *q)
{
	struct vblk_device *d = dev;
	for (;;) {
		struct vq_chain c;
		enum vq_err e = virtq_pop(q, d->mem, &c);
		if (e == VQ_EMPTY)
			return true;
		if (e != VQ_OK) {
			d->last_vq_err = e;
			d->dev_err = VBLK_DEV_ERR_QUEUE;
			return false;
		}
		uint32_t used_len;
		enum vblk_dev_err de = vblk_device_handle(d, &c, &used_len);
		if (de != VBLK_DEV_OK) {
			d->dev_err = de;
			return false;
		}
		e = virtq_push(q, d->mem, c.head, used_len);
		if (e != VQ_OK) {
			d->last_vq_err = e;
			d->dev_err = VBLK_DEV_ERR_QUEUE;
			return false;
		}
	}
}

static void vblk_reset(void *dev)
{
	(void)dev; /* no device state survives a reset except the flags */
}

const struct virtio_dev_ops vblk_device_ops = {
	.device_id = VIRTIO_ID_BLOCK,
	.features = 1ULL << VIRTIO_F_VERSION_1,
	.queue_num_max = VBLK_QUEUE_NUM_MAX,
	.config_bytes = VIRTIO_BLK_CFG_BYTES,
	.config_read = vblk_config_read,
	.queue_notify = vblk_queue_notify,
	.reset = vblk_reset,
};
