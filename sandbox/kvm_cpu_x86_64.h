/*
 * kvm_cpu_x86_64.h — put the vCPU straight into 64-bit long mode: a flat
 * GDT, identity-mapped page tables (2 MiB pages over guest RAM plus the
 * one 2 MiB page around the virtio-mmio window), CR0/CR4/EFER, and
 * rip/rsp. No IDT: any exception in the guest escalates to a triple
 * fault, which KVM reports as KVM_EXIT_SHUTDOWN.
 *
 * Trust: writes only host-chosen values into guest RAM at the fixed
 * addresses of guest_abi.h (each through guest_mem_range()).
 */
#ifndef INSTAR_SANDBOX_KVM_CPU_X86_64_H
#define INSTAR_SANDBOX_KVM_CPU_X86_64_H

#include <stdint.h>

#include "sandbox/kvm_vm.h"
#include "sandbox/sandbox_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Control-register and EFER bits we set (Intel SDM vol. 3, 2.5). */
#define X86_CR0_PE   (1ULL << 0)   /* protection enable */
#define X86_CR0_MP   (1ULL << 1)   /* monitor coprocessor */
#define X86_CR0_ET   (1ULL << 4)   /* extension type (always 1) */
#define X86_CR0_NE   (1ULL << 5)   /* native x87 error reporting */
#define X86_CR0_WP   (1ULL << 16)  /* write-protect in ring 0 */
#define X86_CR0_AM   (1ULL << 18)  /* alignment mask */
#define X86_CR0_PG   (1ULL << 31)  /* paging */
#define X86_CR4_PAE  (1ULL << 5)   /* physical address extension (needed for long mode) */
#define X86_EFER_LME (1ULL << 8)   /* long mode enable */
#define X86_EFER_LMA (1ULL << 10)  /* long mode active */

#define X86_GUEST_CR0 (X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | \
		       X86_CR0_WP | X86_CR0_AM | X86_CR0_PG)
#define X86_GUEST_CR4 (X86_CR4_PAE)
#define X86_GUEST_EFER (X86_EFER_LME | X86_EFER_LMA)

/* Page-table entry bits. */
#define X86_PTE_P    (1ULL << 0)   /* present */
#define X86_PTE_RW   (1ULL << 1)   /* writable */
#define X86_PTE_PWT  (1ULL << 3)   /* write-through */
#define X86_PTE_PCD  (1ULL << 4)   /* cache disable */
#define X86_PTE_PS   (1ULL << 7)   /* 2 MiB page (in a PD entry) */

#define X86_PAGE_2M  0x200000ULL

/* GDT selectors (index * 8): null, 64-bit code, data. */
#define X86_GDT_CODE_SEL 0x08u
#define X86_GDT_DATA_SEL 0x10u

#define X86_RFLAGS_RESERVED1 0x2ULL /* bit 1 always reads as 1 */

/* Write the GDT and page tables into guest RAM and load the vCPU's
 * segment, control and general registers. */
enum sandbox_err kvm_cpu_setup_long_mode(struct kvm_vm *vm, uint64_t entry,
					 uint64_t stack_top);

#ifdef __cplusplus
}
#endif

#endif
