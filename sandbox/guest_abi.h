/*
 * guest_abi.h — the one contract between the host (sandbox/) and the
 * amend guest (guest/): guest-physical memory map, the parameter page the
 * host fills in, the result record the guest fills in, the doorbell.
 *
 * Trust: the host trusts nothing the guest writes here; every field of
 * the result record is validated by sandbox/validate_*.c. The guest
 * trusts the parameter page only as far as the host wrote it.
 * Freestanding: stdint only, shared by both sides. The memory map and
 * doorbell constants are also usable from assembly and from the guest's
 * preprocessed linker script (guest/amend.lds.S): GUEST_ULL() drops the
 * C integer suffix there, and the C-only parts sit under !__ASSEMBLER__.
 */
#ifndef INSTAR_GUEST_ABI_H
#define INSTAR_GUEST_ABI_H

#ifdef __ASSEMBLER__
#define GUEST_ULL(x) x
#define GUEST_U(x) x
#else
#define GUEST_ULL(x) x##ULL
#define GUEST_U(x) x##U
#include <stdint.h>

#include "src/amend/amend_request.h"
#endif

/* ---- Guest-physical memory map (identity-mapped in the guest) ---- */
#define GUEST_GDT_GPA        GUEST_ULL(0x00001000) /* GDT: null, code64, data */
#define GUEST_PML4_GPA       GUEST_ULL(0x00002000) /* page tables: PML4 */
#define GUEST_PDPT_GPA       GUEST_ULL(0x00003000) /*   -> PDPT */
#define GUEST_PD_GPA         GUEST_ULL(0x00004000) /*   -> PD of 2 MiB pages (RAM, first GiB) */
#define GUEST_PD_MMIO_GPA    GUEST_ULL(0x00005000) /*   -> PD mapping the 2 MiB around GUEST_MMIO_GPA */
#define GUEST_PARAMS_GPA     GUEST_ULL(0x00008000) /* struct guest_params (host->guest) */
#define GUEST_RESULT_GPA     GUEST_ULL(0x00009000) /* struct guest_result (guest->host) */
#define GUEST_IMAGE_GPA      GUEST_ULL(0x00010000) /* amend.bin is loaded here; entry = first byte */
#define GUEST_IMAGE_MAX      GUEST_ULL(0x000f0000) /* amend.bin may be at most this big */
#define GUEST_STACK_TOP      GUEST_ULL(0x00200000) /* stack grows down from here */
#define GUEST_SCRATCH_GPA    GUEST_ULL(0x00200000) /* scratch: from here to the end of RAM */
#define GUEST_MMIO_GPA       GUEST_ULL(0xd0000000) /* virtio-mmio register window */
#define GUEST_MMIO_SIZE      GUEST_ULL(0x00001000)

/* Port the guest writes to when its result record is complete. The
 * value written is GUEST_DOORBELL_DONE; anything else is a protocol
 * error. After the write the guest halts. */
#define GUEST_DOORBELL_PORT  GUEST_U(0x0500)
#define GUEST_DOORBELL_DONE  GUEST_U(0x600d)

#define GUEST_ABI_MAGIC      GUEST_U(0x494e5354) /* "INST" */
#define GUEST_ABI_VERSION    GUEST_U(1)

/* Guest-side limits the host relies on as well. */
#define GUEST_SECTOR_SIZE    GUEST_U(512)
#define GUEST_MIN_CLUSTER    GUEST_U(512)
#define GUEST_MAX_CLUSTER    GUEST_U(0x00200000) /* 2 MiB */

#ifndef __ASSEMBLER__
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
#define GUEST_ACTION_NONE     GUEST_U(0)   /* refused or failed */
#define GUEST_ACTION_NOOP     GUEST_U(1)
#define GUEST_ACTION_AMENDED  GUEST_U(2)

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
	uint32_t io_error;         /* 0, or 1 when a virtio-blk request failed:
				    * action is then NONE; status is
				    * AMEND_ERR_PARSE if the header read failed
				    * (nothing was planned), else the planner's
				    * status (AMEND_CHANGED when a patch write
				    * failed part-way). */
};

#endif /* !__ASSEMBLER__ */

#endif /* INSTAR_GUEST_ABI_H */
