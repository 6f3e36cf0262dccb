/*
 * staging.c — the staged-write store (see staging.h).
 *
 * Trust: sector/len come from the guest via the virtio-blk device model;
 * checked here again so the store cannot be written out of bounds even
 * if a caller forgot.
 */
#include "sandbox/staging.h"

#include <string.h>

bool staging_init(struct staging *s, uint8_t *buf, const uint8_t *preprobe,
		  uint32_t cluster_size)
{
	memset(s, 0, sizeof(*s));
	if (buf == NULL || preprobe == NULL ||
	    cluster_size < GUEST_MIN_CLUSTER ||
	    cluster_size > GUEST_MAX_CLUSTER ||
	    (cluster_size & (cluster_size - 1u)) != 0)
		return false;
	s->buf = buf;
	s->cluster_size = cluster_size;
	s->n_sectors = cluster_size / GUEST_SECTOR_SIZE;
	memmove(buf, preprobe, cluster_size);
	return true;
}

bool staging_init_none(struct staging *s, uint32_t cluster_size)
{
	memset(s, 0, sizeof(*s));
	if (cluster_size < GUEST_MIN_CLUSTER ||
	    cluster_size > GUEST_MAX_CLUSTER ||
	    (cluster_size & (cluster_size - 1u)) != 0)
		return false;
	s->cluster_size = cluster_size;
	s->n_sectors = cluster_size / GUEST_SECTOR_SIZE;
	return true;
}

bool staging_write(struct staging *s, uint64_t sector, const uint8_t *data,
		   uint64_t len)
{
	uint64_t off;
	uint64_t end;
	if (s->buf == NULL || data == NULL || len == 0 ||
	    len % GUEST_SECTOR_SIZE != 0)
		return false;
	if (__builtin_mul_overflow(sector, (uint64_t)GUEST_SECTOR_SIZE, &off) ||
	    __builtin_add_overflow(off, len, &end) ||
	    end > s->cluster_size)
		return false;
	memcpy(s->buf + off, data, (size_t)len);
	uint64_t first = sector;
	uint64_t count = len / GUEST_SECTOR_SIZE;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t sec = first + i;
		s->written[sec / 8u] = (uint8_t)(s->written[sec / 8u] |
						 (1u << (sec % 8u)));
	}
	s->write_requests++;
	return true;
}

bool staging_sector_written(const struct staging *s, uint32_t sector)
{
	if (sector >= s->n_sectors)
		return false;
	return (s->written[sector / 8u] >> (sector % 8u)) & 1u;
}

uint32_t staging_sectors_written(const struct staging *s)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < s->n_sectors; i++)
		n += staging_sector_written(s, i) ? 1u : 0u;
	return n;
}
