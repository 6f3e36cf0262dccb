/*
 * image_lock.h — QEMU's image locking protocol, so that instar and QEMU
 * (qemu-system, qemu-img, qemu-nbd, qemu-storage-daemon) see each other.
 *
 * QEMU takes open-file-description byte-range read locks: byte 100+i for
 * each permission i it holds, byte 200+i for each permission i it does
 * not let others share. Permission bits: 0 consistent read, 1 write,
 * 2 write-unchanged, 3 resize. instar amends like a writer that shares
 * only reading: it holds {consistent read, write}, and does not share
 * {write, resize}. instar info and check lock as qemu-img's read-only
 * open does: no write, and {write, resize} not shared, so an image
 * another process writes is refused; with -U (force share) they share
 * everything and so are never refused. Trust: the fd is ours; the lock
 * state of the file is whatever other processes made it.
 */
#ifndef INSTAR_IMAGE_LOCK_H
#define INSTAR_IMAGE_LOCK_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum lock_result {
	LOCK_TAKEN = 0,
	LOCK_CONFLICT,   /* another process holds a conflicting lock */
	LOCK_FAILED,     /* fcntl failed (errno is kept) */
};

#define QEMU_LOCK_PERM_BASE   100
#define QEMU_LOCK_SHARED_BASE 200
#define QEMU_PERM_CONSISTENT_READ 0
#define QEMU_PERM_WRITE           1
#define QEMU_PERM_WRITE_UNCHANGED 2
#define QEMU_PERM_RESIZE          3

/* Take instar's writer locks, then look for conflicting holders — QEMU's
 * order, so that of two lockers starting together at most one wins. Two
 * that start at the same instant can each see the other and both give
 * up: on a conflict instar tries again, IMAGE_LOCK_TRIES times in all,
 * after a pause of 2-9 ms that differs between processes, so that of two
 * instars racing one wins (tests/locks measures it); a lock another
 * program really holds is refused at most about 30 ms later. On
 * LOCK_CONFLICT / LOCK_FAILED every byte taken here is released again. */
#define IMAGE_LOCK_TRIES 4
enum lock_result image_lock_writer(int fd);

/* A reader's locks: consistent read held (`consistent_read`; qemu-img
 * info opens without I/O permission and holds none), write and resize
 * not shared unless `force_share`. Same order and retries as the
 * writer's. On LOCK_CONFLICT, *conflict (if not NULL) is the permission
 * qemu-img names: QEMU_PERM_WRITE or QEMU_PERM_RESIZE that another
 * process holds, or QEMU_PERM_CONSISTENT_READ that it does not share. */
enum lock_result image_lock_reader(int fd, bool consistent_read,
				   bool force_share, int *conflict);

#ifdef __cplusplus
}
#endif

#endif
