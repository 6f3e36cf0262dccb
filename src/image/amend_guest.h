/*
 * amend_guest.h — the host's side of what `instar amend` asks the guest
 * (guest.bin): the planner's request (src/amend) in the ABI's generic
 * command record (abi/guest_abi.h). guest/main.c reads it back the
 * same way. Trusts nothing; it only copies fields.
 */
#ifndef INSTAR_IMAGE_AMEND_GUEST_H
#define INSTAR_IMAGE_AMEND_GUEST_H

#include "abi/guest_abi.h"
#include "src/amend/amend_request.h"

static inline struct guest_request amend_guest_request(struct amend_request r)
{
	struct guest_request g = { .command = GUEST_CMD_AMEND,
				   .arg = { r.compat, r.lazy, 0 } };
	return g;
}

#endif
