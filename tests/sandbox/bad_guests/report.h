/*
 * report.h — what the test-only bad guests share: fill the result record
 * and ring the doorbell, like guest.bin does; report the amend a request
 * asks for; read a run of sectors. Test-only; never linked into the
 * shipped binary.
 */
#ifndef INSTAR_TESTS_BAD_GUEST_REPORT_H
#define INSTAR_TESTS_BAD_GUEST_REPORT_H

#include <stdint.h>

#include "abi/guest_abi.h"
#include "guest/lib.h"
#include "guest/virtio_blk_drv.h"
#include "src/amend/amend_request.h"
#include "src/amend/amend_status.h"
#include "src/qcow2/qcow2_format.h"

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

/* Report the amend the request asks for, as if `sectors` sectors were
 * written: version and lazy_refcounts as requested, else as the header
 * `hdr` (the disk's, as read) says. */
__attribute__((noreturn)) static inline void bad_report_requested(
	const struct guest_params *p, const uint8_t *hdr, uint32_t sectors)
{
	uint32_t compat = p->request.arg[0], want_lazy = p->request.arg[1];
	uint32_t version = compat != AMEND_COMPAT_KEEP
				   ? compat
				   : (uint32_t)hdr[QCOW2_OFF_VERSION + 3];
	uint32_t lazy = want_lazy == AMEND_LAZY_ON ? 1u : 0u;

	if (want_lazy == AMEND_LAZY_KEEP && version == 3 &&
	    hdr[QCOW2_OFF_VERSION + 3] == 3)
		lazy = hdr[QCOW2_OFF_COMPAT + 7] & 1u;
	bad_report(AMEND_CHANGED, GUEST_ACTION_AMENDED, version, lazy, 1,
		   p->cluster_size, sectors);
}

/* Read `n` sectors from `first` into `dst`, 128 to a request; stop the
 * guest on any failure. */
static inline void bad_read_sectors(uint64_t first, uint8_t *dst, uint32_t n)
{
	for (uint32_t done = 0; done < n;) {
		uint32_t k = n - done < 128 ? n - done : 128;

		if (vblk_read(first + done, dst + (uint64_t)done * GUEST_SECTOR_SIZE,
			      k) != VBLK_OK)
			guest_stop();
		done += k;
	}
}

#endif
