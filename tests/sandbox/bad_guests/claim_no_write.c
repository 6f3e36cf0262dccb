/* claim_no_write.c — test-only bad guest: claims it amended the header
 * (one patch) but never writes anything. The validator must notice that
 * the staged cluster does not say what the result record claims. */
#include "tests/sandbox/bad_guests/report.h"

void guest_main(void)
{
	bad_report(AMEND_CHANGED, GUEST_ACTION_AMENDED, 3, 1, 1, 8, 1);
}
