/*
 * process_setup.h — what the instar process does to its own descriptors
 * and stdio before it locks itself down: descriptors 0, 1 and 2 are made
 * to exist (a missing one is opened on /dev/null, so no image can ever be
 * opened as stdout and receive "Image amended."), every inherited
 * descriptor above them is closed, and stdio gets its buffers now, so
 * that printing after lockdown needs neither fstat nor isatty.
 *
 * Trust: the inherited process state is the caller's and is normalised,
 * not trusted. Returns false instead of exiting; the CLI prints.
 */
#ifndef INSTAR_CLI_PROCESS_SETUP_H
#define INSTAR_CLI_PROCESS_SETUP_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Open /dev/null on any of 0, 1, 2 that is closed, then close every
 * descriptor from 3 up. false when a standard descriptor cannot be
 * provided or the others cannot be closed. */
bool process_fds_setup(void);

/* Close every descriptor above `fd` (the image, just before lockdown:
 * libraries may have opened something since process_fds_setup()). */
bool process_close_above(int fd);

/* Give stdout a static buffer (line-buffered on a terminal, fully
 * buffered otherwise) and make stderr unbuffered. */
void process_stdio_setup(void);

#ifdef __cplusplus
}
#endif

#endif
