/*
 * guest_blob.c — hand the embedded guest.bin (built by //guest:guest and
 * linked into the instar binary as read-only data) to the sandboxed
 * commands.
 * The guest is never loaded from a path at run time.
 */
#include "guest/guest_embedded.h"
#include "src/cli/guest_blob.h"

struct sandbox_guest instar_guest_blob(void)
{
	struct sandbox_guest g = SANDBOX_EMBEDDED_GUEST(instar_guest_bin);

	return g;
}
