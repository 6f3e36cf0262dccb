/*
 * process_setup.c — descriptor and stdio set-up before lockdown (see
 * process_setup.h).
 *
 * Syscalls (all before lockdown): fcntl(F_GETFD), openat(/dev/null),
 * close_range, ioctl(TCGETS) through isatty().
 */
#define _GNU_SOURCE
#include "src/cli/process_setup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

bool process_fds_setup(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		if (errno != EBADF)
			return false;
		/* The lowest free number is `fd` itself: 0..fd-1 are open. */
		int n = open("/dev/null", O_RDWR | O_NOCTTY);
		if (n != fd) {
			if (n >= 0)
				(void)close(n);
			return false;
		}
	}
	return process_close_above(2);
}

bool process_close_above(int fd)
{
	if (fd < 0 || fd == INT_MAX)
		return false;
	return close_range((unsigned)fd + 1u, ~0u, 0) == 0;
}

static char stdout_buf[BUFSIZ];

void process_stdio_setup(void)
{
	int mode = isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF;

	(void)setvbuf(stdout, stdout_buf, mode, sizeof stdout_buf);
	(void)setvbuf(stderr, NULL, _IONBF, 0);
}
