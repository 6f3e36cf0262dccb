/*
 * guest_abi.h — the one contract between the host (sandbox/) and the
 * amend guest (guest/): guest-physical memory map, the parameter page the
 * host fills in, the result record the guest fills in, the doorbell.
 *
 * Trust: the host trusts nothing the guest writes here; every field of
 * the result record is validated by sandbox/validate_*.c. The guest
 * trusts the parameter page only as far as the host wrote it.
 * Freestanding: stdint only, shared by both sides.
 */
#ifndef INSTAR_GUEST_ABI_H
#define INSTAR_GUEST_ABI_H

#include <stdint.h>

#include "src/amend/amend_request.h"

/* ---- Guest-physical memory map (identity-mapped in the guest) ---- */
#define GUEST_GDT_GPA        0x00001000ULL /* GDT: null, code64, data */
#define GUEST_PML4_GPA       0x00002000ULL /* page tables: PML4 */
#define GUEST_PDPT_GPA       0x00003000ULL /*   -> PDPT */
#define GUEST_PD_GPA         0x00004000ULL /*   -> PD of 2 MiB pages */
#define GUEST_PARAMS_GPA     0x00008000ULL /* struct guest_params (host->guest) */
#define GUEST_RESULT_GPA     0x00009000ULL /* struct guest_result (guest->host) */
#define GUEST_IMAGE_GPA      0x00010000ULL /* amend.bin is loaded here; entry = first byte */
#define GUEST_IMAGE_MAX      0x000f0000ULL /* amend.bin may be at most this big */
#define GUEST_STACK_TOP      0x00200000ULL /* stack grows down from here */
#define GUEST_SCRATCH_GPA    0x00200000ULL /* scratch: from here to the end of RAM */
#define GUEST_MMIO_GPA       0xd0000000ULL /* virtio-mmio register window */
#define GUEST_MMIO_SIZE      0x00001000ULL

/* Port the guest writes to when its result record is complete. The
 * value written is GUEST_DOORBELL_DONE; anything else is a protocol
 * error. After the write the guest halts. */
#define GUEST_DOORBELL_PORT  0x0500u
#define GUEST_DOORBELL_DONE  0x600dU

#define GUEST_ABI_MAGIC      0x494e5354U /* "INST" */
#define GUEST_ABI_VERSION    1u

/* Host -> guest, at GUEST_PARAMS_GPA. */
struct guest_params {
	uint32_t magic;            /* GUEST_ABI_MAGIC */
	uint32_t abi_version;      /* GUEST_ABI_VERSION */
	uint32_t cluster_size;     /* from the host's pre-probe */
	uint32_t reserved0;
	uint64_t disk_bytes;       /* size of the disk the device exposes */
	uint64_t scratch_gpa;      /* GUEST_SCRATCH_GPA */
	uint64_t scratch_bytes;    /* usable scratch */
	struct amend_request request;
};

/* Guest -> host, at GUEST_RESULT_GPA. Fixed size, every field checked. */
#define GUEST_ACTION_NONE     0u   /* refused or failed */
#define GUEST_ACTION_NOOP     1u
#define GUEST_ACTION_AMENDED  2u

struct guest_result {
	uint32_t magic;            /* GUEST_ABI_MAGIC */
	uint32_t abi_version;      /* GUEST_ABI_VERSION */
	uint32_t status;           /* enum amend_status */
	uint32_t action;           /* GUEST_ACTION_* */
	uint32_t result_version;   /* 2 or 3 after the amend (or as found) */
	uint32_t result_lazy;      /* 0 or 1 */
	uint32_t n_patches;        /* patch ranges the planner produced */
	uint32_t patch_bytes;      /* sum of their lengths */
	uint32_t sectors_written;  /* virtio-blk write requests' sectors */
	uint32_t reserved0;
};

#endif
