/*
 * sandbox_probe.c — test-only driver: run the embedded guest.bin once on
 * an image (read-only) and print what the sandbox returned. Used to list
 * the syscalls sandbox_run() makes (strace between the two marker
 * writes to fd -1) and for manual timing. Not shipped.
 *
 * usage: sandbox_probe IMAGE [compat(0|2|3) [lazy(0|1|2)]]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest/guest_embedded.h"
#include "sandbox/sandbox.h"

/* Diagnostics on stderr are not checked ((void)): one that cannot be
 * written has nowhere else to go, and the exit status still tells. */

/* argv[i] as a small number (compat 0|2|3, lazy 0|1|2), or `dflt` when
 * it is not given; false for anything else. */
static bool arg_u32(int argc, char **argv, int i, uint32_t dflt,
		    uint32_t *out)
{
	char *end = NULL;

	if (argc <= i) {
		*out = dflt;
		return true;
	}
	errno = 0;
	unsigned long v = strtoul(argv[i], &end, 10);
	if (errno != 0 || end == argv[i] || *end != '\0' || v > 3u)
		return false;
	*out = (uint32_t)v;
	return true;
}

static void marker(const char *what)
{
	/* A failing write(-1) shows up in strace and does nothing else. */
	(void)!write(-1, what, 1);
}

int main(int argc, char **argv)
{
	uint32_t compat, lazy;

	if (argc < 2 || !arg_u32(argc, argv, 2, 3u, &compat) ||
	    !arg_u32(argc, argv, 3, 0u, &lazy)) {
		(void)fprintf(stderr, "usage: %s IMAGE [compat [lazy]]\n", argv[0]);
		return 2;
	}
	int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 2;
	}
	struct stat st;
	uint8_t hdr[24];
	if (fstat(fd, &st) != 0 || pread(fd, hdr, sizeof(hdr), 0) != 24) {
		perror("read header");
		return 2;
	}
	uint32_t bits = (uint32_t)hdr[20] << 24 | (uint32_t)hdr[21] << 16 |
			(uint32_t)hdr[22] << 8 | hdr[23];
	if (bits < 9 || bits > 21) {
		(void)fprintf(stderr, "bad cluster_bits %u\n", bits);
		return 2;
	}
	uint32_t cs = 1u << bits;
	uint8_t *pre = malloc(cs);
	uint8_t *staged = malloc(cs);
	if (pre == NULL || staged == NULL ||
	    pread(fd, pre, cs, 0) != (ssize_t)cs) {
		(void)fprintf(stderr, "cannot read the header cluster\n");
		free(pre);
		free(staged);
		return 2;
	}
	struct sandbox_config cfg = {
		.image_fd = fd,
		.disk_bytes = (uint64_t)st.st_size,
		.cluster_size = cs,
		.preprobe = pre,
		.request = { .command = GUEST_CMD_AMEND,
			     .arg = { compat, lazy } },
		.guest = SANDBOX_EMBEDDED_GUEST(instar_guest_bin),
	};
	struct sandbox_outcome out = { .staged = staged };
	marker("<");
	enum sandbox_err e = sandbox_run(&cfg, &out);
	marker(">");
	printf("sandbox_err=%d result_present=%d status=%u action=%u "
	       "version=%u lazy=%u patches=%u sectors_written=%u io_error=%u "
	       "header_changed=%d bad_write=%d exits=%u elapsed_us=%llu "
	       "run_us=%llu\n",
	       (int)e, out.result_present, out.result.status,
	       out.result.action, out.result.result_version,
	       out.result.result_lazy, out.result.n_patches,
	       out.sectors_written, out.result.io_error, out.header_changed,
	       out.bad_write, out.exits,
	       (unsigned long long)(out.elapsed_ns / 1000u),
	       (unsigned long long)(out.run_ns / 1000u));
	free(pre);
	free(staged);
	close(fd);
	return e == SANDBOX_OK ? 0 : 1;
}
