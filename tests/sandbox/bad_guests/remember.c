/* remember.c — test-only guest for VM reuse (sandbox/session.h): leaves a
 * mark in its writable data, in scratch and in the result page, and
 * reports AMEND_NOOP; finding any mark of an earlier run, it reports
 * AMEND_ERR_OVERFLOW instead. With RAM reset between runs every run
 * reports AMEND_NOOP. */
#include "tests/sandbox/bad_guests/report.h"

#define MARK 0x5eed5eed5eed5eedull

static volatile uint64_t data_mark = 1; /* .data: loaded as 1 each run */

void guest_main(void)
{
	volatile uint64_t *scratch = (volatile uint64_t *)(uintptr_t)(
		GUEST_SCRATCH_GPA + 2u * (uint64_t)bad_params()->cluster_size);
	volatile uint64_t *result_tail =
		(volatile uint64_t *)(uintptr_t)(GUEST_RESULT_GPA + 4096u - 8u);
	int seen = data_mark != 1 || *scratch == MARK || *result_tail == MARK;

	data_mark = MARK;
	*scratch = MARK;
	*result_tail = MARK;
	bad_report(seen ? AMEND_ERR_OVERFLOW : AMEND_NOOP,
		   seen ? GUEST_ACTION_NONE : GUEST_ACTION_NOOP, 3, 0, 0, 0, 0);
}
