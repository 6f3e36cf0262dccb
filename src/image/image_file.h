/*
 * image_file.h — open the image named on the command line the safe way
 * (read-write for amend, read-only for info and check; regular file or
 * block device only), take QEMU's image locks as a writer or a reader,
 * and read the pre-probe bytes: the header cluster, plus the head and
 * tail used to name a non-qcow2 format.
 *
 * Trust: the path is user input; the file's bytes are hostile and are
 * only copied here (after lockdown), never interpreted (format detection and parsing are
 * done by src/qcow2 on the copies).
 */
#ifndef INSTAR_IMAGE_FILE_H
#define INSTAR_IMAGE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum image_err {
	IMAGE_OK = 0,
	IMAGE_ERR_OPEN,          /* open(2) failed; sys_errno says why */
	IMAGE_ERR_DIRECTORY,     /* the path is a directory */
	IMAGE_ERR_NOT_FILE,      /* FIFO, socket, character device... */
	IMAGE_ERR_STAT,          /* fstat failed */
	IMAGE_ERR_READ,          /* pread failed */
	IMAGE_ERR_LOCKED,        /* QEMU (or another instar) uses the image */
	IMAGE_ERR_LOCK_FAILED,   /* fcntl(F_OFD_*) itself failed */
	IMAGE_ERR_NOMEM,
	IMAGE_ERR_CHANGED,       /* header or size differs from the pre-probe */
	IMAGE_ERR_WRITE,         /* pwrite/fdatasync failed */
	IMAGE_ERR_COUNT_
};

#define IMAGE_PROBE_HEAD 4096u   /* bytes read for format detection */
#define IMAGE_PROBE_TAIL 512u    /* VHD footer */

struct image_file {
	int fd;
	uint64_t size;             /* bytes (block devices: device size) */
	uint64_t alloc_bytes;      /* bytes the file system allocated to it
				    * (st_blocks * 512, at open) */
	bool block_device;         /* not a regular file */
	int lock_conflict;         /* image_open_reader(): -1, or the
				    * permission another process holds (or
				    * does not share) against this reader */
	uint8_t head[IMAGE_PROBE_HEAD];
	size_t head_len;
	uint8_t tail[IMAGE_PROBE_TAIL];
	size_t tail_len;
	uint8_t *cluster;          /* pre-probe copy of the header cluster */
	size_t cluster_len;
	int sys_errno;             /* errno of the failing call, for messages */
};

/* Open read-write, check the file type, record its size, take the
 * locks. Reads nothing: the bytes are read after lockdown. */
enum image_err image_open(const char *path, struct image_file *img);

/* Open read-only for the inspection commands (info, check), check the
 * file type, record its size and allocation, take the reader's locks
 * (image_lock_reader()). A conflicting lock is not an error here: it is
 * recorded in lock_conflict (qemu-img refuses it only for some formats).
 * Reads nothing. */
enum image_err image_open_reader(const char *path, bool consistent_read,
				 bool force_share, struct image_file *img);

/* Read the head and tail used to name the format (after lockdown). */
enum image_err image_read_probe(struct image_file *img);

/* Read the first `cluster_size` bytes into img->cluster (allocated).
 * A file shorter than that gets IMAGE_ERR_READ with sys_errno 0. */
enum image_err image_read_cluster(struct image_file *img, size_t cluster_size);

/* Read the first `len` bytes into img->cluster (allocated), the part past
 * the end of a shorter file zeroed, as QEMU's reads of a short file give
 * them (info and check). */
enum image_err image_read_padded(struct image_file *img, size_t len);

/* Re-read the size (lseek) and the header cluster and compare them with
 * the pre-probe's: IMAGE_ERR_CHANGED if the file shrank or grew, or its
 * header differs. */
enum image_err image_check_unchanged(struct image_file *img);

/* Close the file (which also drops the OFD locks) and free the copy. */
void image_close(struct image_file *img);

#ifdef __cplusplus
}
#endif

#endif
