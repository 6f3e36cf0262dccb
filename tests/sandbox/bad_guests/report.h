/*
 * report.h — what the test-only bad guests share: fill the result record
 * and ring the doorbell, like guest.bin does. Test-only; never linked
 * into the shipped binary.
 */
#ifndef INSTAR_TESTS_BAD_GUEST_REPORT_H
#define INSTAR_TESTS_BAD_GUEST_REPORT_H

#include <stdint.h>

#include "abi/guest_abi.h"
#include "guest/lib.h"
#include "src/amend/amend_status.h"

void guest_main(void);

static inline const struct guest_params *bad_params(void)
{
	return (const struct guest_params *)(uintptr_t)GUEST_PARAMS_GPA;
}

__attribute__((noreturn)) static inline void bad_report(
	uint32_t status, uint32_t action, uint32_t version, uint32_t lazy,
	uint32_t n_patches, uint32_t patch_bytes, uint32_t sectors)
{
	volatile struct guest_result *r =
		(volatile struct guest_result *)(uintptr_t)GUEST_RESULT_GPA;
	r->magic = GUEST_ABI_MAGIC;
	r->abi_version = GUEST_ABI_VERSION;
	r->status = status;
	r->action = action;
	r->result_version = version;
	r->result_lazy = lazy;
	r->n_patches = n_patches;
	r->patch_bytes = patch_bytes;
	r->sectors_written = sectors;
	r->io_error = 0;
	guest_barrier();
	guest_doorbell();
}

#endif
