/*
 * guest_blob.c — hand the embedded amend.bin (built by //guest:amend and
 * linked into the instar binary as read-only data) to the amend flow.
 * The guest is never loaded from a path at run time.
 */
#include "guest/amend_embedded.h"
#include "src/cli/amend_cmd.h"

struct guest_blob amend_guest_blob(void)
{
	struct guest_blob b;

	b.data = instar_amend_bin_start;
	b.len = (size_t)(instar_amend_bin_end - instar_amend_bin_start);
	return b;
}
