/*
 * inspect_err.h — the stops of `instar info` and `instar check` that
 * instar words itself (src/cli/messages.c has the words; qemu-img's own
 * refusals are printed as qemu-img prints them, src/cli/qemu_messages.c).
 * Trust: none needed; names only.
 */
#ifndef INSTAR_INSPECT_ERR_H
#define INSTAR_INSPECT_ERR_H

enum inspect_err {
	INSPECT_ERR_PROTOCOL = 0,  /* "%s": the name, the protocol */
	INSPECT_ERR_FORMAT,        /* "%s": the name, the format */
	INSPECT_ERR_NOT_FILE,      /* "%s": the name */
	INSPECT_ERR_REPORT,        /* "%s": what is wrong with the report */
	INSPECT_ERR_MISMATCH,      /* the report contradicts the header */
	INSPECT_ERR_GUEST,         /* "%s": the guest's status */
	INSPECT_ERR_TOO_LARGE,     /* "%s": clusters */
	INSPECT_ERR_ENCRYPTED,     /* "%s": the name (check of an encrypted image) */
	INSPECT_ERR_IO,            /* "%s": the name, then strerror */
	INSPECT_ERR_COUNT_
};

#endif
