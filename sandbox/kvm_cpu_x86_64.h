/*
 * kvm_cpu_x86_64.h — put the vCPU straight into 64-bit long mode at CPL3:
 * a GDT with one 64-bit code and one data segment, both DPL 3; 4-level
 * page tables (4 KiB pages over the first 2 MiB with per-page
 * permissions, 2 MiB pages over the rest of RAM, one uncached 2 MiB page
 * around the virtio-mmio window); CR0/CR4/EFER; rip/rsp. The GDT and the
 * page tables sit in pages mapped supervisor-only, so the guest cannot
 * read or write them; there is no IDT and no TSS, so any exception is a
 * triple fault (KVM_EXIT_SHUTDOWN), and no code runs at CPL0 at all.
 *
 * Why CPL3: on kvm_pvm (software virtualisation, the project's machines)
 * guest code at CPL0 is emulated instruction by instruction and code at
 * CPL3 runs natively (docs/sandbox.md gives the measurements). On
 * hardware KVM the privilege level costs nothing either way.
 *
 * Trust: writes only host-chosen values into guest RAM at the fixed
 * addresses of guest_abi.h (each through guest_mem_range()).
 */
#ifndef INSTAR_SANDBOX_KVM_CPU_X86_64_H
#define INSTAR_SANDBOX_KVM_CPU_X86_64_H

#include <stdbool.h>
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
#define X86_CR0_PG   (1ULL << 31)  /* paging */
#define X86_CR4_PAE  (1ULL << 5)   /* physical address extension (needed for long mode) */
#define X86_EFER_LME (1ULL << 8)   /* long mode enable */
#define X86_EFER_LMA (1ULL << 10)  /* long mode active */
#define X86_EFER_NXE (1ULL << 11)  /* the no-execute bit of page-table entries */

#define X86_GUEST_CR0 (X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | \
		       X86_CR0_WP | X86_CR0_PG)
#define X86_GUEST_CR4 (X86_CR4_PAE)
#define X86_GUEST_EFER (X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE)

/* Page-table entry bits. A (accessed) and D (dirty) are set by the host
 * up front so the CPU never has to write them: the tables then stay
 * byte-identical to what the host wrote, which sandbox.c checks. */
#define X86_PTE_P    (1ULL << 0)   /* present */
#define X86_PTE_RW   (1ULL << 1)   /* writable */
#define X86_PTE_US   (1ULL << 2)   /* user (CPL3) may access */
#define X86_PTE_PWT  (1ULL << 3)   /* write-through */
#define X86_PTE_PCD  (1ULL << 4)   /* cache disable */
#define X86_PTE_A    (1ULL << 5)   /* accessed */
#define X86_PTE_D    (1ULL << 6)   /* dirty (leaf entries) */
#define X86_PTE_PS   (1ULL << 7)   /* 2 MiB page (in a PD entry) */
#define X86_PTE_NX   (1ULL << 63)  /* no execute (EFER.NXE) */

#define X86_PAGE_4K  0x1000ULL
#define X86_PAGE_2M  0x200000ULL

/* GDT selectors (index * 8 | RPL 3): null, 64-bit code, data. */
#define X86_GDT_CODE_SEL 0x0bu
#define X86_GDT_DATA_SEL 0x13u
#define X86_GDT_ENTRIES  3u

#define X86_RFLAGS_RESERVED1 0x2ULL /* bit 1 always reads as 1; IF=0, IOPL=0 */

/* Where the guest image's permissions change (guest-physical, 4 KiB
 * aligned, GUEST_IMAGE_GPA <= text_end <= ro_end <= GUEST_IMAGE_GPA +
 * GUEST_IMAGE_MAX): [image, text_end) read + execute, [text_end, ro_end)
 * read-only, [ro_end, 2 MiB) read + write. */
struct guest_image_layout {
	uint64_t entry;
	uint64_t text_end;
	uint64_t ro_end;
	uint64_t stack_top;
};

/* Write the GDT and page tables into guest RAM (needs only the RAM, not
 * the vCPU: sandbox_run() does it while the vCPU may still be being
 * created on another thread). */
enum sandbox_err kvm_cpu_write_tables(struct guest_mem *m,
				      const struct guest_image_layout *l);

/* Load the vCPU's segment, control and general registers for the tables
 * kvm_cpu_write_tables() writes: 64-bit mode at CPL3 from l->entry with
 * l->stack_top (the only fields used; RAM need not be attached yet). */
enum sandbox_err kvm_cpu_load_registers(struct kvm_vm *vm,
					const struct guest_image_layout *l);

/* The bytes of [GUEST_GDT_GPA, GUEST_SYSTEM_END) are exactly what
 * kvm_cpu_write_tables() wrote (the guest could not change them). */
bool kvm_cpu_system_area_intact(const struct kvm_vm *vm);

#ifdef __cplusplus
}
#endif

#endif
