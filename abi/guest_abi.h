/*
 * guest_abi.h — the one contract between the host (sandbox/, and the
 * validator in src/image/) and the sandbox guests (guest/): guest-physical
 * memory map and page permissions, the virtqueue the host hands over
 * ready to use, the parameter page the host fills in, the result record
 * the guest fills in, the doorbell, and the report stream in which the
 * inspection programs (info, check) hand their findings over (whose
 * records abi/report_abi.h lays out). Self-contained: it includes nothing
 * but <stdint.h>, and nothing in abi/ includes anything of the host's or
 * the guest's; both sides include it.
 *
 * The guest runs at CPL3 from its first instruction to its last (on
 * kvm_pvm, guest code at CPL0 is emulated instruction by instruction; at
 * CPL3 it runs natively: docs/sandbox.md). It has no IDT, no TSS and no
 * system-call entry: every exception is a triple fault. The GDT and the
 * page tables lie in supervisor-only pages it cannot touch.
 *
 * Trust: the host trusts nothing the guest writes here; every field of
 * the result record is validated by src/image/validate.c. The guest
 * trusts the parameter page only as far as the host wrote it.
 * Freestanding: stdint only, shared by both sides. The memory map and
 * doorbell constants are also usable from assembly and from the guest's
 * preprocessed linker script (guest/guest.lds.S): GUEST_ULL() drops the
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
#endif

/* ---- Guest-physical memory map (identity-mapped in the guest) ----
 * The first 2 MiB is mapped in 4 KiB pages with these permissions
 * (S: supervisor only, the guest cannot read or write it; U: user):
 *   0x0000         not mapped (a null pointer faults)
 *   0x1000-0x7fff  S   GDT and page tables
 *   0x8000         U r  the parameter page
 *   0x9000         U rw the result record
 *   0xa000-0xcfff  U rw virtqueue 0 (descriptors, available, used)
 *   0x10000-       U rx the guest's code, U r its read-only data, U rw
 *                  its data and .bss, as the embedded image says
 *                  (sandbox_guest.text_len / ro_len)
 *   up to 0x200000 U rw the stack (grows down from GUEST_STACK_TOP)
 * and the rest of RAM in 2 MiB pages, U rw, never executable: from
 * GUEST_SCRATCH_GPA the scratch (the header cluster, a second cluster,
 * then work memory), and, for the inspection programs and a v3
 * downgrade, the report region
 * at guest_params.report_gpa (2 MiB-aligned, after the scratch). */
#define GUEST_GDT_GPA        GUEST_ULL(0x00001000) /* GDT: null, code64 DPL3, data DPL3 */
#define GUEST_PML4_GPA       GUEST_ULL(0x00002000) /* page tables: PML4 */
#define GUEST_PDPT_GPA       GUEST_ULL(0x00003000) /*   -> PDPT */
#define GUEST_PD_GPA         GUEST_ULL(0x00004000) /*   -> PD: the low PT, then 2 MiB pages of RAM */
#define GUEST_PD_MMIO_GPA    GUEST_ULL(0x00005000) /*   -> PD mapping the 2 MiB around GUEST_MMIO_GPA */
#define GUEST_PT_LOW_GPA     GUEST_ULL(0x00006000) /*   -> PT: 4 KiB pages of the first 2 MiB */
#define GUEST_SYSTEM_END     GUEST_ULL(0x00008000) /* [GDT, here): supervisor-only */
#define GUEST_PARAMS_GPA     GUEST_ULL(0x00008000) /* struct guest_params (host->guest), read-only */
#define GUEST_RESULT_GPA     GUEST_ULL(0x00009000) /* struct guest_result (guest->host) */
#define GUEST_VQ_DESC_GPA    GUEST_ULL(0x0000a000) /* virtqueue 0: descriptor table */
#define GUEST_VQ_AVAIL_GPA   GUEST_ULL(0x0000b000) /*   available ring */
#define GUEST_VQ_USED_GPA    GUEST_ULL(0x0000c000) /*   used ring */
#define GUEST_IMAGE_GPA      GUEST_ULL(0x00010000) /* the guest image is loaded here; entry = first byte */
#define GUEST_IMAGE_MAX      GUEST_ULL(0x000f0000) /* the image (with .bss) may be at most this big */
#define GUEST_STACK_TOP      GUEST_ULL(0x00200000) /* stack grows down from here, to GUEST_IMAGE_GPA + GUEST_IMAGE_MAX */
#define GUEST_SCRATCH_GPA    GUEST_ULL(0x00200000) /* scratch: guest_params.scratch_bytes from here */
#define GUEST_MMIO_GPA       GUEST_ULL(0xd0000000) /* virtio-mmio register window */
#define GUEST_MMIO_SIZE      GUEST_ULL(0x00001000)
#define GUEST_DOORBELL_GPA   GUEST_ULL(0xd0001000) /* the doorbell register (MMIO) */

/* Virtqueue 0 as the host hands it over: the device is already in
 * DRIVER_OK with VIRTIO_F_VERSION_1 negotiated and queue 0 ready, this
 * many entries, rings at the addresses above. (The transport still
 * accepts a reset and a full re-initialisation by the guest.) */
#define GUEST_VQ_SIZE        GUEST_U(256)

/* The guest ends its run by a 32-bit write of GUEST_DOORBELL_DONE to
 * GUEST_DOORBELL_GPA once its result record is complete; any other
 * access there is a protocol error. Ringing the doorbell also serves
 * whatever requests the guest left on the queue, as a notification would
 * (so the guest's final writes cost no exit of their own; it never
 * learns their status, and needs not: the host judges what was staged).
 *
 * A guest with a report region (report_bytes != 0) that has filled it
 * writes GUEST_DOORBELL_FLUSH instead: the first guest_result.report_len
 * bytes of the region are whole records (report_abi.h) for the host to
 * take; the host copies them out and resumes the guest, which then
 * writes its next records from the start of the region again. At
 * GUEST_DOORBELL_DONE the region's first report_len bytes are the last
 * records. A flush in a run without a report region is a protocol
 * error. */
#define GUEST_DOORBELL_DONE  GUEST_U(0x600d)
#define GUEST_DOORBELL_FLUSH GUEST_U(0xf105)

#define GUEST_ABI_MAGIC      GUEST_U(0x494e5354) /* "INST" */
#define GUEST_ABI_VERSION    GUEST_U(6)

/* Guest-side limits the host relies on as well. */
#define GUEST_SECTOR_SIZE    GUEST_U(512)
#define GUEST_MIN_CLUSTER    GUEST_U(512)
#define GUEST_MAX_CLUSTER    GUEST_U(0x00200000) /* 2 MiB */
/* Scratch the host gives beyond the two header clusters: the table
 * walk's read buffers and its set of L2 offsets (qcow2_walk.h). */
#define GUEST_WORK_BYTES     GUEST_U(0x02000000) /* 32 MiB */
/* The report region of the inspection programs: records are handed over
 * (GUEST_DOORBELL_FLUSH) whenever it is full, so its size only sets how
 * often that costs an exit. */
#define GUEST_REPORT_BYTES   GUEST_U(0x00200000) /* 2 MiB */
/* The work memory of the inspection programs, before check's counters:
 * the bitmap directory (at most 64 MiB) and the windows and buffers of
 * the open and of check's walk. */
#define GUEST_INSPECT_WORK_BYTES GUEST_U(0x04800000) /* 72 MiB */

#ifndef __ASSEMBLER__
/* What the host asks of the guest program: a command and its arguments,
 * which only the program interprets (the sandbox copies them).
 *   GUEST_CMD_AMEND: arg[0] the compat wanted and arg[1] the
 *     lazy_refcounts wanted, as the values of enum amend_compat and enum
 *     amend_lazy (src/amend/amend_request.h; src/image/amend_guest.h and
 *     guest/amend_prog.c are the two places that convert). A downgrade
 *     of a version 3 image gets a report region too: the guest names
 *     there each L2 table that holds a zero entry (REPORT_T_ZERO_TABLE
 *     records, then END; report_abi.h), for the host's expansion.
 *   GUEST_CMD_INFO: read the image's metadata (header, extensions,
 *     snapshot table, bitmap directory) and report it; no argument.
 *   GUEST_CMD_INFO's arg[0] and GUEST_CMD_CHECK's arg[0]: the open
 *     behaviour bits of the qemu-img release imitated (QOPEN_B_*,
 *     src/qcow2/qcow2_open.h).
 *   GUEST_CMD_CHECK: walk every table and count every cluster's
 *     references, and report what qemu-img check would find; arg[1] its
 *     behaviour bits (QCOW2_CHECK_*, src/qcow2/qcow2_check.h), arg[2] the
 *     bytes at the end of the scratch given to the reference counters
 *     (the rest of the work memory is the open's and the walk's,
 *     GUEST_INSPECT_WORK_BYTES).
 * Both inspection commands write reports only (report_abi.h); a write
 * to the disk fails their run. */
#define GUEST_CMD_AMEND      GUEST_U(1)
#define GUEST_CMD_INFO       GUEST_U(2)
#define GUEST_CMD_CHECK      GUEST_U(3)

struct guest_request {
	uint32_t command;          /* GUEST_CMD_* */
	uint32_t arg[3];           /* unused ones are 0 */
};

/* Host -> guest, at GUEST_PARAMS_GPA. */
struct guest_params {
	uint32_t magic;            /* GUEST_ABI_MAGIC */
	uint32_t abi_version;      /* GUEST_ABI_VERSION */
	uint32_t cluster_size;     /* from the host's pre-probe */
	uint32_t header_loaded;    /* 1: the host copied the pre-probed header
				    * cluster to scratch_gpa (cluster_size bytes,
				    * the bytes a read of them would return) */
	uint64_t disk_bytes;       /* size of the disk the device exposes */
	uint64_t scratch_gpa;      /* GUEST_SCRATCH_GPA */
	uint64_t scratch_bytes;    /* usable scratch */
	uint64_t report_gpa;       /* the report region (0: none) */
	uint64_t report_bytes;     /* its size (GUEST_REPORT_BYTES, or 0) */
	struct guest_request request;
};

/* The status of an inspection program (GUEST_CMD_INFO, GUEST_CMD_CHECK)
 * in guest_result.status; action stays GUEST_ACTION_NONE. What it found
 * is in the report, whose END record tells it is complete. */
#define GUEST_INSPECT_OK          GUEST_U(0)
#define GUEST_INSPECT_ERR_PARAMS  GUEST_U(1)  /* parameter page or command not usable */
#define GUEST_INSPECT_ERR_IO      GUEST_U(2)  /* a virtio-blk request failed */
#define GUEST_INSPECT_ERR_REPORT  GUEST_U(3)  /* no report region, or a record too long */
#define GUEST_INSPECT_ERR_MEMORY  GUEST_U(4)  /* the work memory is too small */
#define GUEST_INSPECT_ERR_LIMIT   GUEST_U(5)  /* a walk exceeded its bound */

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
	uint32_t report_len;       /* bytes of whole records at the start of
				    * the report region (at a flush or at
				    * the end; 0 without a region) */
	uint32_t progress;         /* work done so far, in units of 1/65536,
				    * written while the guest works (amend's
				    * table walk: L1 entries whose L2 tables
				    * are read, of those seen) and read by
				    * the host at each exit: a progress
				    * display only, trusted for nothing */
};

#endif /* !__ASSEMBLER__ */

#endif /* INSTAR_GUEST_ABI_H */
