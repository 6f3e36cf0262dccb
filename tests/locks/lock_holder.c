/*
 * lock_holder.c — test-only helper for tests/locks/locks_test.sh: takes
 * instar's image lock with the library function the shipped binary uses
 * (image_lock_writer() in src/image/image_lock.c) on a file of its own
 * open, reports the result, and optionally holds the lock.
 *
 * Usage: lock_holder FILE [--ready PATH] [--barrier FIFO]
 *                    [--hold-stdin | --hold-ms N]
 *   --ready PATH    create PATH when about to wait at the barrier
 *   --barrier FIFO  read one byte from FIFO before locking (so that two
 *                   holders can be released at the same moment)
 *   --hold-stdin    when the lock is taken, keep it until stdin ends
 *   --hold-ms N     when the lock is taken, keep it N milliseconds
 * Prints TAKEN, CONFLICT or FAILED <errno text>, one line, flushed.
 * Exit: 0 TAKEN, 10 CONFLICT, 1 FAILED or usage.
 *
 * Trust: test code only; not part of //src/cli:instar.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "src/image/image_lock.h"

/* Diagnostics on stderr are not checked ((void)): one that cannot be
 * written has nowhere else to go, and the exit status still tells. */

int main(int argc, char **argv)
{
	const char *barrier = NULL;
	const char *ready = NULL;
	int hold_stdin = 0;
	long hold_ms = 0;
	enum lock_result r;
	int fd;

	if (argc < 2) {
		(void)fprintf(stderr, "usage: %s FILE [--ready PATH] [--barrier FIFO] "
				      "[--hold-stdin | --hold-ms N]\n", argv[0]);
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--ready") == 0 && i + 1 < argc) {
			ready = argv[++i];
		} else if (strcmp(argv[i], "--barrier") == 0 && i + 1 < argc) {
			barrier = argv[++i];
		} else if (strcmp(argv[i], "--hold-stdin") == 0) {
			hold_stdin = 1;
		} else if (strcmp(argv[i], "--hold-ms") == 0 && i + 1 < argc) {
			hold_ms = strtol(argv[++i], NULL, 10);
		} else {
			(void)fprintf(stderr, "bad argument %s\n", argv[i]);
			return 1;
		}
	}
	fd = open(argv[1], O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("FAILED open: %s\n", strerror(errno));
		return 1;
	}
	if (barrier != NULL) {
		char c;
		int b = open(barrier, O_RDONLY | O_CLOEXEC);
		if (b >= 0 && ready != NULL) {
			int rf = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
			if (rf >= 0)
				close(rf);
		}
		if (b < 0 || read(b, &c, 1) != 1) {
			printf("FAILED barrier: %s\n", strerror(errno));
			return 1;
		}
		close(b);
	}
	r = image_lock_writer(fd);
	switch (r) {
	case LOCK_TAKEN:
		printf("TAKEN\n");
		break;
	case LOCK_CONFLICT:
		printf("CONFLICT\n");
		(void)fflush(stdout);   /* see below */
		return 10;
	case LOCK_FAILED:
	default:
		printf("FAILED %s\n", strerror(errno));
		(void)fflush(stdout);   /* see below */
		return 1;
	}
	/* The verdict line is what the test reads: if it cannot be written,
	 * the test sees no verdict and fails; there is nothing else to do. */
	(void)fflush(stdout);
	if (hold_stdin) {
		char buf[64];
		while (read(0, buf, sizeof(buf)) > 0)
			;
	} else if (hold_ms > 0) {
		struct timespec ts = { hold_ms / 1000, (hold_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
	close(fd);
	return 0;
}
