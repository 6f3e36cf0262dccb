/*
 * sandbox_err.h — every way a sandbox run can fail, one code each. The
 * library only returns these; the CLI's message table turns them into
 * text. SANDBOX_OK means the guest rang the doorbell and its result
 * record was copied out — NOT that the result is valid (src/image/validate.c
 * decides that).
 */
#ifndef INSTAR_SANDBOX_ERR_H
#define INSTAR_SANDBOX_ERR_H

#ifdef __cplusplus
extern "C" {
#endif

enum sandbox_err {
	SANDBOX_OK = 0,
	SANDBOX_ERR_CONFIG,            /* bad sandbox_config (caller bug) */
	SANDBOX_ERR_KVM_UNAVAILABLE,   /* no /dev/kvm (ENOENT/ENODEV/ENXIO) */
	SANDBOX_ERR_KVM_PERMISSION,    /* /dev/kvm: EACCES/EPERM */
	SANDBOX_ERR_KVM_API,           /* API version != 12 or a needed cap missing */
	SANDBOX_ERR_VM_SETUP,          /* create VM/vCPU, memory, registers */
	SANDBOX_ERR_GUEST_TIMEOUT,     /* wall-time budget exhausted */
	SANDBOX_ERR_GUEST_EXIT_BUDGET, /* too many VM exits */
	SANDBOX_ERR_GUEST_SHUTDOWN,    /* triple fault / shutdown (any CPU exception) */
	SANDBOX_ERR_GUEST_HALTED,      /* hlt before the doorbell */
	SANDBOX_ERR_GUEST_ENTRY_FAILED,/* KVM_EXIT_FAIL_ENTRY */
	SANDBOX_ERR_GUEST_INTERNAL,    /* KVM_EXIT_INTERNAL_ERROR (e.g. emulation failure) */
	SANDBOX_ERR_UNEXPECTED_EXIT,   /* any other exit reason, or KVM_RUN failing */
	SANDBOX_ERR_BAD_DOORBELL,      /* doorbell access with wrong size/direction/offset/value */
	SANDBOX_ERR_BAD_PORT_IO,       /* port I/O (none is part of the protocol) */
	SANDBOX_ERR_BAD_MMIO,          /* MMIO outside the virtio-mmio window */
	SANDBOX_ERR_DEVICE_PROTOCOL,   /* virtio-mmio/virtio-blk protocol violation */
	SANDBOX_ERR_BAD_WRITE,         /* guest wrote outside the header cluster */
	SANDBOX_ERR_HEADER_CHANGED,    /* guest read a header that differs from the pre-probe, or the file shrank under the run */
	SANDBOX_ERR_SYSTEM_AREA,       /* the guest's GDT or page tables changed (the CPU should have prevented it) */
	SANDBOX_ERR_BAD_REPORT,        /* a flush without a report region, or a report length past it */
	SANDBOX_ERR_REPORT_REFUSED,    /* the host's report_take refused the records (too many) */
	SANDBOX_ERR_READ_ONLY_WRITE,   /* guest wrote in a read-only run */
	SANDBOX_ERR_COUNT_
};

#ifdef __cplusplus
}
#endif

#endif
