/*
 * staging.h — the staged-write store: the guest's virtio-blk writes land
 * here, never in the image file. It is one cluster-sized buffer (the
 * header cluster), initialised from the host's pre-probe bytes, plus a
 * per-sector bitmap of what the guest wrote.
 *
 * Trust: staging_write() is the only way in, and it refuses any range
 * that is not whole sectors inside the cluster (overflow-checked).
 */
#ifndef INSTAR_SANDBOX_STAGING_H
#define INSTAR_SANDBOX_STAGING_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/guest_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define STAGING_MAX_SECTORS (GUEST_MAX_CLUSTER / GUEST_SECTOR_SIZE)
#define STAGING_BITMAP_BYTES (STAGING_MAX_SECTORS / 8u)

struct staging {
	uint8_t *buf;              /* cluster_size bytes, caller-owned */
	uint32_t cluster_size;
	uint32_t n_sectors;        /* cluster_size / 512 */
	uint32_t write_requests;   /* accepted staging_write() calls */
	uint8_t written[STAGING_BITMAP_BYTES];
};

/* Set up over `buf` (cluster_size bytes) with a copy of `preprobe`.
 * cluster_size must be a power of two in [512, 2 MiB]; false otherwise. */
bool staging_init(struct staging *s, uint8_t *buf, const uint8_t *preprobe,
		  uint32_t cluster_size);

/* Set up a store that takes no write (a read-only run: info, check):
 * no buffer, nothing copied (a 2 MiB cluster cost 512 page faults and a
 * 2 MiB copy for nothing), every staging_write() refused. Same bounds on
 * cluster_size as staging_init(). */
bool staging_init_none(struct staging *s, uint32_t cluster_size);

/* Stage `len` bytes at byte offset `sector` * 512. Accepted only if len
 * is a non-zero multiple of 512 and the whole range lies inside the
 * cluster. On false nothing is changed. */
bool staging_write(struct staging *s, uint64_t sector, const uint8_t *data,
		   uint64_t len);

bool staging_sector_written(const struct staging *s, uint32_t sector);

/* Number of distinct sectors written. */
uint32_t staging_sectors_written(const struct staging *s);

#ifdef __cplusplus
}
#endif

#endif
