/*
 * guest_blob.c — hand the embedded amend.bin (built by //guest:amend and
 * linked into the instar binary as read-only data) to the amend flow.
 * The guest is never loaded from a path at run time.
 */
#include "guest/amend_embedded.h"
#include "src/cli/amend_cmd.h"

struct sandbox_guest amend_guest_blob(void)
{
	struct sandbox_guest g = SANDBOX_EMBEDDED_GUEST(instar_amend_bin);

	return g;
}
