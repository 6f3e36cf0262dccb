/*
 * expand_file.c — the file side of a zero-cluster expansion (see
 * expand_file.h).
 * Trust: offsets come from expand.c, which checked them; each is
 * checked again here against the file as opened (reads) and against
 * 512-byte alignment (writes).
 */
#define _GNU_SOURCE
#include "src/image/expand_file.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>
#include <unistd.h>

#ifdef INSTAR_COMMIT_FAULT_INJECTION
#include "src/image/commit_fault.h"
#endif

#define SECTOR 512u

static bool file_read(void *ctx, uint64_t off, uint8_t *buf, size_t len)
{
	struct image_file *img = ctx;
	size_t done = 0;

	if (off > img->size || img->size - off < len)
		return false;
	while (done < len) {
		ssize_t n = pread(img->fd, buf + done, len - done,
				  (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			img->sys_errno = n < 0 ? errno : 0;
			return false;
		}
		done += (size_t)n;
	}
	return true;
}

static bool counted(struct image_file *img);

static bool file_write(void *ctx, uint64_t off, const uint8_t *sector)
{
	struct image_file *img = ctx;
	ssize_t n;

	if (off % SECTOR != 0 || off > (uint64_t)INT64_MAX - SECTOR) {
		img->sys_errno = EINVAL;
		return false;
	}
	do {
		n = pwrite(img->fd, sector, SECTOR, (off_t)off);
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)SECTOR) {
		img->sys_errno = n < 0 ? errno : EIO;
		return false;
	}
	return counted(img);
}


/* Count one write for the fault injection; false when it says stop. */
static bool counted(struct image_file *img)
{
#ifdef INSTAR_COMMIT_FAULT_INJECTION
	commit_fault_writes++;
	if (commit_fault_stop_after != 0 &&
	    commit_fault_writes >= commit_fault_stop_after) {
		img->sys_errno = ECANCELED;
		return false;
	}
#else
	(void)img;
#endif
	return true;
}

/* A cluster of zeros: fallocate(FALLOC_FL_ZERO_RANGE), one call (the
 * filter allows that mode only, at most 2 MiB, inside the bound); where
 * the file system or device cannot (EOPNOTSUPP), 512-byte writes. */
static bool file_zero(void *ctx, uint64_t off, uint32_t len)
{
	static const uint8_t zeros[SECTOR];
	struct image_file *img = ctx;
	int r;

	if (off % SECTOR != 0 || len % SECTOR != 0 ||
	    off > (uint64_t)INT64_MAX - len) {
		img->sys_errno = EINVAL;
		return false;
	}
	do {
		r = fallocate(img->fd, FALLOC_FL_ZERO_RANGE, (off_t)off, (off_t)len);
	} while (r != 0 && errno == EINTR);
	if (r == 0)
		return counted(img);
	if (errno != EOPNOTSUPP) {
		img->sys_errno = errno;
		return false;
	}
	for (uint32_t s = 0; s < len; s += SECTOR)
		if (!file_write(img, off + s, zeros))
			return false;
	return true;
}

static bool file_sync(void *ctx)
{
	struct image_file *img = ctx;

	if (fdatasync(img->fd) != 0) {
		img->sys_errno = errno;
		return false;
	}
#ifdef INSTAR_COMMIT_FAULT_INJECTION
	commit_fault_syncs++;
#endif
	return true;
}

enum image_err image_expand(struct image_file *img,
			    const struct qcow2_header *h,
			    const uint64_t *tables, uint32_t n,
			    struct expand_plan *plan, enum expand_err *ee)
{
	struct expand_io io = { file_read, file_write, file_zero, file_sync, img };

	img->sys_errno = 0;
	*ee = expand_prepare(plan, h, img->size, !img->block_device, tables,
			     n, &io);
	if (*ee == EXPAND_OK)
		*ee = expand_apply(plan, &io);
	switch (*ee) {
	case EXPAND_OK:
		return IMAGE_OK;
	case EXPAND_ERR_WRITE:
		return IMAGE_ERR_WRITE;
	case EXPAND_ERR_READ:
		return IMAGE_ERR_READ;
	case EXPAND_ERR_CHANGED:
		return IMAGE_ERR_CHANGED;
	case EXPAND_ERR_NOMEM:
		return IMAGE_ERR_NOMEM;
	default:
		return IMAGE_OK;   /* a rule refused: *ee says which */
	}
}
