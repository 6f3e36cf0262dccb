/*
 * image_file.c — open, lock and pre-probe the image (see image_file.h).
 * Trust: the bytes read are hostile and only copied. O_NOFOLLOW is not
 * used (images are often symlinks) but the opened object's type is
 * checked with fstat on the fd, not on the path.
 */
#define _GNU_SOURCE
#include "src/image/image_file.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/image/image_lock.h"

/* pread until `len` bytes or EOF; returns bytes read or -1. */
static ssize_t pread_full(int fd, uint8_t *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, buf + done, len - done, (off_t)(off + done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static enum image_err fail(struct image_file *img, enum image_err e)
{
	img->sys_errno = errno;
	return e;
}

/* Open with `flags`, check the file type, record its size and its
 * allocation. */
static enum image_err open_as(const char *path, int flags,
			      struct image_file *img)
{
	struct stat st;
	int fd;

	memset(img, 0, sizeof(*img));
	img->fd = -1;
	img->lock_conflict = -1;

	/* O_NONBLOCK: opening a FIFO must not hang; it is refused below. */
	fd = open(path, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == EISDIR)
			return fail(img, IMAGE_ERR_DIRECTORY);
		return fail(img, IMAGE_ERR_OPEN);
	}
	img->fd = fd;
	if (fstat(fd, &st) != 0)
		return fail(img, IMAGE_ERR_STAT);
	if (S_ISDIR(st.st_mode))
		return fail(img, IMAGE_ERR_DIRECTORY);
	if (S_ISREG(st.st_mode)) {
		img->size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		uint64_t bytes = 0;
		if (ioctl(fd, BLKGETSIZE64, &bytes) != 0)
			return fail(img, IMAGE_ERR_STAT);
		img->size = bytes;
		img->block_device = true;
	} else {
		errno = 0;
		return fail(img, IMAGE_ERR_NOT_FILE);
	}
	img->alloc_bytes = st.st_blocks < 0 ? 0 : (uint64_t)st.st_blocks * 512u;
	/* Back to blocking I/O for the reads and writes that follow. */
	if (fcntl(fd, F_SETFL, 0) != 0)
		return fail(img, IMAGE_ERR_STAT);
	return IMAGE_OK;
}

static enum image_err lock_result_err(struct image_file *img,
				      enum lock_result r)
{
	switch (r) {
	case LOCK_TAKEN:
		return IMAGE_OK;
	case LOCK_CONFLICT:
		errno = 0;
		return fail(img, IMAGE_ERR_LOCKED);
	case LOCK_FAILED:
	default:
		return fail(img, IMAGE_ERR_LOCK_FAILED);
	}
}

enum image_err image_open(const char *path, struct image_file *img)
{
	enum image_err e = open_as(path, O_RDWR, img);

	if (e != IMAGE_OK)
		return e;
	return lock_result_err(img, image_lock_writer(img->fd));
}

enum image_err image_open_reader(const char *path, bool consistent_read,
				 bool force_share, struct image_file *img)
{
	enum image_err e = open_as(path, O_RDONLY, img);
	enum lock_result r;
	int which = -1;

	img->lock_conflict = -1;
	if (e != IMAGE_OK)
		return e;
	r = image_lock_reader(img->fd, consistent_read, force_share, &which);
	if (r == LOCK_CONFLICT) {
		/* qemu-img looks at the locks only once it knows the format
		 * (a raw image is never refused): the caller decides. */
		img->lock_conflict = which;
		return IMAGE_OK;
	}
	return lock_result_err(img, r);
}

enum image_err image_read_probe(struct image_file *img)
{
	ssize_t n;
	int fd = img->fd;

	n = pread_full(fd, img->head, sizeof(img->head), 0);
	if (n < 0)
		return fail(img, IMAGE_ERR_READ);
	img->head_len = (size_t)n;
	if (img->size >= IMAGE_PROBE_TAIL) {
		n = pread_full(fd, img->tail, IMAGE_PROBE_TAIL,
			       img->size - IMAGE_PROBE_TAIL);
		if (n < 0)
			return fail(img, IMAGE_ERR_READ);
		img->tail_len = (size_t)n;
	}
	return IMAGE_OK;
}

enum image_err image_read_cluster(struct image_file *img, size_t cluster_size)
{
	ssize_t n;

	free(img->cluster);
	img->cluster = malloc(cluster_size);
	img->cluster_len = 0;
	if (img->cluster == NULL)
		return fail(img, IMAGE_ERR_NOMEM);
	n = pread_full(img->fd, img->cluster, cluster_size, 0);
	if (n < 0)
		return fail(img, IMAGE_ERR_READ);
	if ((size_t)n != cluster_size) {
		errno = 0;
		return fail(img, IMAGE_ERR_READ);
	}
	img->cluster_len = cluster_size;
	return IMAGE_OK;
}

enum image_err image_read_padded(struct image_file *img, size_t len)
{
	ssize_t n;

	free(img->cluster);
	img->cluster = calloc(1, len);
	img->cluster_len = 0;
	if (img->cluster == NULL)
		return fail(img, IMAGE_ERR_NOMEM);
	n = pread_full(img->fd, img->cluster, len, 0);
	if (n < 0)
		return fail(img, IMAGE_ERR_READ);
	img->cluster_len = len;
	return IMAGE_OK;
}

enum image_err image_check_unchanged(struct image_file *img)
{
	uint8_t *now = malloc(img->cluster_len);
	ssize_t n;
	enum image_err e = IMAGE_OK;

	if (now == NULL)
		return fail(img, IMAGE_ERR_NOMEM);
	/* A writer that ignores the locks may have truncated or extended the
	 * file under the run: the guest's reads were of another file. */
	errno = 0;
	off_t end = lseek(img->fd, 0, SEEK_END);
	if (end < 0 || (uint64_t)end != img->size) {
		free(now);
		return end < 0 ? fail(img, IMAGE_ERR_READ) : IMAGE_ERR_CHANGED;
	}
	n = pread_full(img->fd, now, img->cluster_len, 0);
	if (n < 0)
		e = fail(img, IMAGE_ERR_READ);
	else if ((size_t)n != img->cluster_len ||
		 memcmp(now, img->cluster, img->cluster_len) != 0)
		e = IMAGE_ERR_CHANGED;
	free(now);
	return e;
}

void image_close(struct image_file *img)
{
	if (img->fd >= 0)
		close(img->fd);
	img->fd = -1;
	free(img->cluster);
	img->cluster = NULL;
	img->cluster_len = 0;
}
