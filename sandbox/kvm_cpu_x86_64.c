/*
 * kvm_cpu_x86_64.c — long-mode vCPU set-up (see kvm_cpu_x86_64.h).
 *
 * Syscalls: ioctl (KVM_GET_SREGS, KVM_SET_SREGS, KVM_SET_REGS).
 */
#define _GNU_SOURCE /* pread, MAP_ANONYMOUS, sigaction, setitimer under -std=c11 */
#include "sandbox/kvm_cpu_x86_64.h"

#include <string.h>
#include <sys/ioctl.h>

#include "sandbox/guest_abi.h"

/* GDT descriptors (flat, base 0, limit 4 GiB, granularity 4 KiB):
 *   code: present, DPL 0, code, execute/read, accessed, L=1 (64-bit)
 *   data: present, DPL 0, data, read/write, accessed, D/B=1 */
#define GDT_ENTRY_CODE64 0x00af9b000000ffffULL
#define GDT_ENTRY_DATA   0x00cf93000000ffffULL
#define GDT_ENTRIES      3u

#define SEG_TYPE_CODE_XRA 0xbu /* execute/read, accessed */
#define SEG_TYPE_DATA_RWA 0x3u /* read/write, accessed */

static bool put_u64(struct guest_mem *m, uint64_t gpa, uint64_t v)
{
	uint8_t *p = guest_mem_range(m, gpa, sizeof(v));
	if (p == NULL)
		return false;
	memcpy(p, &v, sizeof(v));
	return true;
}

static bool write_tables(struct guest_mem *m)
{
	/* GDT */
	if (!put_u64(m, GUEST_GDT_GPA, 0) ||
	    !put_u64(m, GUEST_GDT_GPA + X86_GDT_CODE_SEL, GDT_ENTRY_CODE64) ||
	    !put_u64(m, GUEST_GDT_GPA + X86_GDT_DATA_SEL, GDT_ENTRY_DATA))
		return false;

	/* Page tables: clear all four pages first. */
	const uint64_t tables[] = { GUEST_PML4_GPA, GUEST_PDPT_GPA,
				    GUEST_PD_GPA, GUEST_PD_MMIO_GPA };
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		uint8_t *p = guest_mem_range(m, tables[i], 4096);
		if (p == NULL)
			return false;
		memset(p, 0, 4096);
	}
	const uint64_t one_gib = 512ULL * X86_PAGE_2M;
	/* RAM must fit the first GiB (one PD); MMIO must sit elsewhere. */
	if (m->size > one_gib || m->size % X86_PAGE_2M != 0 ||
	    GUEST_MMIO_GPA < one_gib ||
	    GUEST_MMIO_GPA / one_gib >= 512)
		return false;

	const uint64_t table_flags = X86_PTE_P | X86_PTE_RW;
	if (!put_u64(m, GUEST_PML4_GPA, GUEST_PDPT_GPA | table_flags) ||
	    !put_u64(m, GUEST_PDPT_GPA, GUEST_PD_GPA | table_flags) ||
	    !put_u64(m, GUEST_PDPT_GPA + 8u * (GUEST_MMIO_GPA / one_gib),
		     GUEST_PD_MMIO_GPA | table_flags))
		return false;
	for (uint64_t i = 0; i < m->size / X86_PAGE_2M; i++) {
		if (!put_u64(m, GUEST_PD_GPA + 8u * i,
			     (i * X86_PAGE_2M) | table_flags | X86_PTE_PS))
			return false;
	}
	uint64_t mmio_page = GUEST_MMIO_GPA & ~(X86_PAGE_2M - 1u);
	uint64_t mmio_slot = (GUEST_MMIO_GPA % one_gib) / X86_PAGE_2M;
	return put_u64(m, GUEST_PD_MMIO_GPA + 8u * mmio_slot,
		       mmio_page | table_flags | X86_PTE_PS | X86_PTE_PCD |
		       X86_PTE_PWT);
}

static void flat_segment(struct kvm_segment *s, uint16_t selector,
			 uint8_t type, bool code)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffffu;
	s->selector = selector;
	s->type = type;
	s->present = 1;
	s->dpl = 0;
	s->s = 1;           /* code/data, not system */
	s->g = 1;           /* 4 KiB granularity */
	s->l = code ? 1 : 0;
	s->db = code ? 0 : 1; /* L=1 requires D=0 for code */
}

enum sandbox_err kvm_cpu_setup_long_mode(struct kvm_vm *vm, uint64_t entry,
					 uint64_t stack_top)
{
	if (!write_tables(&vm->mem))
		return SANDBOX_ERR_VM_SETUP;

	struct kvm_sregs sregs;
	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return SANDBOX_ERR_VM_SETUP;
	sregs.gdt.base = GUEST_GDT_GPA;
	sregs.gdt.limit = (uint16_t)(GDT_ENTRIES * 8u - 1u);
	sregs.idt.base = 0;
	sregs.idt.limit = 0; /* no IDT: every exception triple-faults */
	flat_segment(&sregs.cs, X86_GDT_CODE_SEL, SEG_TYPE_CODE_XRA, true);
	flat_segment(&sregs.ds, X86_GDT_DATA_SEL, SEG_TYPE_DATA_RWA, false);
	sregs.es = sregs.ds;
	sregs.fs = sregs.ds;
	sregs.gs = sregs.ds;
	sregs.ss = sregs.ds;
	sregs.cr0 = X86_GUEST_CR0;
	sregs.cr3 = GUEST_PML4_GPA;
	sregs.cr4 = X86_GUEST_CR4;
	sregs.efer = X86_GUEST_EFER;
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return SANDBOX_ERR_VM_SETUP;

	struct kvm_regs regs;
	memset(&regs, 0, sizeof(regs));
	regs.rip = entry;
	regs.rsp = stack_top;
	regs.rflags = X86_RFLAGS_RESERVED1; /* IF=0: no interrupts */
	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return SANDBOX_ERR_VM_SETUP;
	return SANDBOX_OK;
}
