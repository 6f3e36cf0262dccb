/*
 * replay_report_blob.c — test-only: the instar CLI with the lying guest
 * replay_report (tests/sandbox/bad_guests) in place of guest.bin. The
 * rest — lockdown, sandbox, report checks, printers — is the shipped
 * code, so the suite sees what a compromised guest would get past (or
 * not) in the real binary.
 */
#include "src/cli/guest_blob.h"
#include "tests/sandbox/bad_guests/replay_report_embedded.h"

struct sandbox_guest instar_guest_blob(void)
{
	struct sandbox_guest g = SANDBOX_EMBEDDED_GUEST(instar_bad_replay_report);

	return g;
}
