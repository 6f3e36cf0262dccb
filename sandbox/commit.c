/*
 * commit.c — write the changed ranges of the header cluster (commit.h).
 * Trust: ranges are re-checked against the cluster before any write.
 */
#define _GNU_SOURCE
#include "sandbox/commit.h"

#include <errno.h>
#include <unistd.h>

static int pwrite_full(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, buf + done, len - done, (off_t)(off + done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

enum image_err image_commit(struct image_file *img, const uint8_t *staged,
			    const struct amend_plan *ranges)
{
	if (ranges->n_patches > AMEND_MAX_PATCHES)
		return IMAGE_ERR_WRITE;
	for (uint32_t i = 0; i < ranges->n_patches; i++) {
		uint64_t end = (uint64_t)ranges->patches[i].offset +
			       ranges->patches[i].length;
		if (end > img->cluster_len) {
			img->sys_errno = EINVAL;
			return IMAGE_ERR_WRITE;
		}
	}
	for (uint32_t i = 0; i < ranges->n_patches; i++) {
		const struct amend_patch *p = &ranges->patches[i];
		if (pwrite_full(img->fd, staged + p->offset, p->length,
				p->offset) != 0) {
			img->sys_errno = errno;
			return IMAGE_ERR_WRITE;
		}
	}
	if (fdatasync(img->fd) != 0) {
		img->sys_errno = errno;
		return IMAGE_ERR_WRITE;
	}
	return IMAGE_OK;
}
