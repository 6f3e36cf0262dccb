/*
 * image_lock.c — take QEMU-compatible OFD byte-range locks as a writer
 * (see image_lock.h for the protocol). Trust: none needed beyond the fd.
 *
 * Checked against QEMU 7.2's block/file-posix.c (raw_apply_lock_bytes,
 * raw_check_lock_bytes, raw_handle_perm_lock) and, for real, by
 * tests/locks/: QEMU read-locks byte 100+i for each permission i it
 * holds and 200+i for each it does not share, then tests (F_OFD_GETLK
 * with F_WRLCK) 200+i for each permission it wants and 100+i for each it
 * does not share; on a conflict it unlocks what it took. Seen in
 * /proc/locks with QEMU 7.2: `qemu-nbd` (read-write) holds bytes 101,
 * 103, 201, 203; `qemu-nbd -r` holds 100, 201, 203 — a read-only qcow2
 * user does not share write either, so an image QEMU merely reads is
 * refused, exactly as `qemu-img amend` refuses it; `qemu-io -r -U`
 * (force-share) holds only 100 and does not stop a writer.
 */
#define _GNU_SOURCE
#include "src/image/image_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* What a role holds, and what it does not share. */
struct lock_role {
	const int *held;
	size_t n_held;
	const int *unshared;
	size_t n_unshared;
};

static const int writer_held[] = { QEMU_PERM_CONSISTENT_READ, QEMU_PERM_WRITE };
static const int reader_held[] = { QEMU_PERM_CONSISTENT_READ };
static const int not_shared[] = { QEMU_PERM_WRITE, QEMU_PERM_RESIZE };

static int ofd(int fd, int cmd, short type, off_t byte, struct flock *out)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = byte;
	fl.l_len = 1;
	fl.l_pid = 0;   /* required for OFD locks */
	if (fcntl(fd, cmd, &fl) != 0)
		return -1;
	if (out != NULL)
		*out = fl;
	return 0;
}

/* Does another open file description hold a lock on `byte`? Asking for
 * a write lock reports any conflicting read lock. */
static int held_by_other(int fd, off_t byte, int *busy)
{
	struct flock fl;

	if (ofd(fd, F_OFD_GETLK, F_WRLCK, byte, &fl) != 0)
		return -1;
	*busy = fl.l_type != F_UNLCK;
	return 0;
}

/* Drop every byte instar may have taken (QEMU unlocks its bytes too when
 * its check fails), so that a refused instar does not, for the moment
 * until it closes the file, make a starting QEMU fail in turn. */
static void unlock_all(int fd, const struct lock_role *role)
{
	for (size_t i = 0; i < role->n_held; i++)
		(void)ofd(fd, F_OFD_SETLK, F_UNLCK,
			  QEMU_LOCK_PERM_BASE + role->held[i], NULL);
	for (size_t i = 0; i < role->n_unshared; i++)
		(void)ofd(fd, F_OFD_SETLK, F_UNLCK,
			  QEMU_LOCK_SHARED_BASE + role->unshared[i], NULL);
}

static enum lock_result give_up(int fd, const struct lock_role *role,
				enum lock_result r)
{
	int saved = errno;

	unlock_all(fd, role);
	errno = saved;
	return r;
}

/* Lock first, then look for others — the order QEMU uses
 * (raw_handle_perm_lock: raw_apply_lock_bytes, then
 * raw_check_lock_bytes): of two writers starting together each then
 * sees the other, and both give up rather than both writing. */
static enum lock_result try_lock(int fd, const struct lock_role *role,
				 int *conflict)
{
	int busy = 0;

	for (size_t i = 0; i < role->n_held; i++) {
		if (ofd(fd, F_OFD_SETLK, F_RDLCK,
			QEMU_LOCK_PERM_BASE + role->held[i], NULL) != 0)
			return give_up(fd, role, errno == EAGAIN || errno == EACCES
						   ? LOCK_CONFLICT : LOCK_FAILED);
	}
	for (size_t i = 0; i < role->n_unshared; i++) {
		if (ofd(fd, F_OFD_SETLK, F_RDLCK,
			QEMU_LOCK_SHARED_BASE + role->unshared[i], NULL) != 0)
			return give_up(fd, role, errno == EAGAIN || errno == EACCES
						   ? LOCK_CONFLICT : LOCK_FAILED);
	}
	/* Nobody else may hold a permission we refuse to share... */
	for (size_t i = 0; i < role->n_unshared; i++) {
		if (held_by_other(fd, QEMU_LOCK_PERM_BASE + role->unshared[i], &busy) != 0)
			return give_up(fd, role, LOCK_FAILED);
		if (busy) {
			*conflict = role->unshared[i];
			return give_up(fd, role, LOCK_CONFLICT);
		}
	}
	/* ...nor refuse to share a permission we need. */
	for (size_t i = 0; i < role->n_held; i++) {
		if (held_by_other(fd, QEMU_LOCK_SHARED_BASE + role->held[i], &busy) != 0)
			return give_up(fd, role, LOCK_FAILED);
		if (busy) {
			*conflict = role->held[i];
			return give_up(fd, role, LOCK_CONFLICT);
		}
	}
	return LOCK_TAKEN;
}

/* The pause before another try: 2-9 ms, from this process's id and the
 * clock, so that two racers seldom pause alike. */
static void pause_before_retry(unsigned attempt)
{
	struct timespec now = { 0, 0 };
	struct timespec d;
	uint32_t x;

	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	x = (uint32_t)getpid() * 2654435761u ^ (uint32_t)now.tv_nsec ^
	    attempt * 40503u;
	x ^= x >> 15;
	d.tv_sec = 0;
	d.tv_nsec = (long)(2000000u + (x % 8u) * 1000000u);
	while (nanosleep(&d, &d) != 0 && errno == EINTR)
		;
}

static enum lock_result lock_as(int fd, const struct lock_role *role,
			       int *conflict)
{
	int which = -1;
	enum lock_result r = try_lock(fd, role, &which);

	for (unsigned i = 1; i < IMAGE_LOCK_TRIES && r == LOCK_CONFLICT; i++) {
		pause_before_retry(i);
		r = try_lock(fd, role, &which);
	}
	if (conflict != NULL)
		*conflict = which;
	return r;
}

enum lock_result image_lock_writer(int fd)
{
	const struct lock_role writer = {
		writer_held, sizeof(writer_held) / sizeof(int),
		not_shared, sizeof(not_shared) / sizeof(int),
	};

	return lock_as(fd, &writer, NULL);
}

enum lock_result image_lock_reader(int fd, bool consistent_read,
				   bool force_share, int *conflict)
{
	const struct lock_role reader = {
		reader_held, consistent_read ? sizeof(reader_held) / sizeof(int) : 0,
		not_shared, force_share ? 0 : sizeof(not_shared) / sizeof(int),
	};

	if (reader.n_held == 0 && reader.n_unshared == 0)
		return LOCK_TAKEN;
	return lock_as(fd, &reader, conflict);
}
