/*
 * amend_request.h — what the user asked `instar amend` to change.
 * Built by the CLI from -o options; copied into the guest's parameter
 * page by the host; re-checked by whoever reads it. Freestanding.
 */
#ifndef INSTAR_AMEND_REQUEST_H
#define INSTAR_AMEND_REQUEST_H

#include <stdint.h>

enum amend_compat {
	AMEND_COMPAT_KEEP = 0,   /* no compat= given */
	AMEND_COMPAT_V2 = 2,     /* compat=0.10 */
	AMEND_COMPAT_V3 = 3,     /* compat=1.1 */
};

enum amend_lazy {
	AMEND_LAZY_KEEP = 0,     /* no lazy_refcounts= given */
	AMEND_LAZY_OFF = 1,
	AMEND_LAZY_ON = 2,
};

struct amend_request {
	uint32_t compat;         /* enum amend_compat */
	uint32_t lazy;           /* enum amend_lazy */
};

#endif
