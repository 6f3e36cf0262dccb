/*
 * replay_expand_blob.c — test-only: the instar CLI with the lying guest
 * replay_expand (tests/sandbox/bad_guests) in place of guest.bin. Every
 * other part — lockdown, sandbox, validator, expansion rules, commit —
 * is the shipped code, so the lying-guest suite sees exactly what a
 * compromised guest would get past (or not) in the real binary.
 */
#include "src/cli/guest_blob.h"
#include "tests/sandbox/bad_guests/replay_expand_embedded.h"

struct sandbox_guest instar_guest_blob(void)
{
	struct sandbox_guest g = SANDBOX_EMBEDDED_GUEST(instar_bad_replay_expand);

	return g;
}
