/*
 * kvm_cpu_x86_64.c — long-mode vCPU set-up at CPL3 (see kvm_cpu_x86_64.h).
 *
 * Syscalls: ioctl (KVM_GET_SREGS, KVM_SET_SREGS, KVM_SET_REGS).
 */
#define _GNU_SOURCE /* pread, MAP_ANONYMOUS, sigaction, setitimer under -std=c11 */
#include "sandbox/kvm_cpu_x86_64.h"

#include <string.h>
#include <sys/ioctl.h>

#include "abi/guest_abi.h"

/* GDT descriptors (flat, base 0, limit 4 GiB, granularity 4 KiB), both
 * DPL 3 and already marked accessed (so the CPU never writes the GDT):
 *   code: present, DPL 3, code, execute/read, accessed, L=1 (64-bit)
 *   data: present, DPL 3, data, read/write, accessed, D/B=1 */
#define GDT_ENTRY_CODE64 0x00affb000000ffffULL
#define GDT_ENTRY_DATA   0x00cff3000000ffffULL

#define SEG_TYPE_CODE_XRA 0xbu /* execute/read, accessed */
#define SEG_TYPE_DATA_RWA 0x3u /* read/write, accessed */

#define SYSTEM_BYTES (GUEST_SYSTEM_END - GUEST_GDT_GPA)

static bool put_u64(struct guest_mem *m, uint64_t gpa, uint64_t v)
{
	uint8_t *p = guest_mem_range(m, gpa, sizeof(v));
	if (p == NULL)
		return false;
	memcpy(p, &v, sizeof(v));
	return true;
}

/* Permissions of the 4 KiB page at `gpa` in the first 2 MiB. */
static uint64_t low_page_flags(uint64_t gpa, const struct guest_image_layout *l)
{
	const uint64_t user_ro = X86_PTE_P | X86_PTE_US | X86_PTE_A | X86_PTE_D |
				 X86_PTE_NX;
	const uint64_t user_rw = user_ro | X86_PTE_RW;

	if (gpa < GUEST_GDT_GPA)
		return 0;                      /* null page: not present */
	if (gpa < GUEST_SYSTEM_END)            /* GDT, page tables */
		return X86_PTE_P | X86_PTE_RW | X86_PTE_A | X86_PTE_D | X86_PTE_NX;
	if (gpa == GUEST_PARAMS_GPA)
		return user_ro;
	if (gpa == GUEST_RESULT_GPA ||
	    (gpa >= GUEST_VQ_DESC_GPA && gpa <= GUEST_VQ_USED_GPA))
		return user_rw;
	if (gpa < GUEST_IMAGE_GPA)
		return 0;                      /* the gap before the image */
	if (gpa < l->text_end)
		return X86_PTE_P | X86_PTE_US | X86_PTE_A | X86_PTE_D;
	if (gpa < l->ro_end)
		return user_ro;
	return user_rw;                        /* data, .bss, stack */
}

static bool layout_ok(const struct guest_image_layout *l)
{
	const uint64_t image_end = GUEST_IMAGE_GPA + GUEST_IMAGE_MAX;

	return l->text_end % X86_PAGE_4K == 0 && l->ro_end % X86_PAGE_4K == 0 &&
	       l->text_end > GUEST_IMAGE_GPA && l->text_end <= l->ro_end &&
	       l->ro_end <= image_end && l->entry >= GUEST_IMAGE_GPA &&
	       l->entry < l->text_end && l->stack_top > image_end &&
	       l->stack_top <= GUEST_STACK_TOP;
}

static bool write_tables(struct guest_mem *m, const struct guest_image_layout *l)
{
	const uint64_t table = X86_PTE_P | X86_PTE_RW | X86_PTE_US | X86_PTE_A;
	const uint64_t one_gib = 512ULL * X86_PAGE_2M;

	/* RAM must fit the first GiB (one PD); MMIO must sit elsewhere. */
	if (m->size > one_gib || m->size % X86_PAGE_2M != 0 ||
	    m->size < 2 * X86_PAGE_2M || GUEST_MMIO_GPA < one_gib ||
	    GUEST_MMIO_GPA / one_gib >= 512 || !layout_ok(l))
		return false;
	uint8_t *sys = guest_mem_range(m, GUEST_GDT_GPA, SYSTEM_BYTES);
	if (sys == NULL)
		return false;
	memset(sys, 0, SYSTEM_BYTES);

	if (!put_u64(m, GUEST_GDT_GPA, 0) ||
	    !put_u64(m, GUEST_GDT_GPA + (X86_GDT_CODE_SEL & ~7u), GDT_ENTRY_CODE64) ||
	    !put_u64(m, GUEST_GDT_GPA + (X86_GDT_DATA_SEL & ~7u), GDT_ENTRY_DATA))
		return false;
	if (!put_u64(m, GUEST_PML4_GPA, GUEST_PDPT_GPA | table) ||
	    !put_u64(m, GUEST_PDPT_GPA, GUEST_PD_GPA | table) ||
	    !put_u64(m, GUEST_PDPT_GPA + 8u * (GUEST_MMIO_GPA / one_gib),
		     GUEST_PD_MMIO_GPA | table) ||
	    !put_u64(m, GUEST_PD_GPA, GUEST_PT_LOW_GPA | table))
		return false;
	for (uint64_t i = 0; i < X86_PAGE_2M / X86_PAGE_4K; i++) {
		uint64_t gpa = i * X86_PAGE_4K;
		uint64_t f = low_page_flags(gpa, l);
		if (f != 0 && !put_u64(m, GUEST_PT_LOW_GPA + 8u * i, gpa | f))
			return false;
	}
	for (uint64_t i = 1; i < m->size / X86_PAGE_2M; i++) {
		if (!put_u64(m, GUEST_PD_GPA + 8u * i,
			     (i * X86_PAGE_2M) | X86_PTE_P | X86_PTE_RW |
				     X86_PTE_US | X86_PTE_A | X86_PTE_D |
				     X86_PTE_PS | X86_PTE_NX))
			return false;
	}
	uint64_t mmio_page = GUEST_MMIO_GPA & ~(X86_PAGE_2M - 1u);
	uint64_t mmio_slot = (GUEST_MMIO_GPA % one_gib) / X86_PAGE_2M;
	return put_u64(m, GUEST_PD_MMIO_GPA + 8u * mmio_slot,
		       mmio_page | X86_PTE_P | X86_PTE_RW | X86_PTE_US |
			       X86_PTE_A | X86_PTE_D | X86_PTE_PS |
			       X86_PTE_PCD | X86_PTE_PWT | X86_PTE_NX);
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
	s->dpl = 3;
	s->s = 1;           /* code/data, not system */
	s->g = 1;           /* 4 KiB granularity */
	s->l = code ? 1 : 0;
	s->db = code ? 0 : 1; /* L=1 requires D=0 for code */
}

/* The host's own copy of the system area, to check it afterwards (one
 * VM at a time: sandbox_run() is not reentrant either). */
static uint8_t system_copy[GUEST_SYSTEM_END - GUEST_GDT_GPA];

enum sandbox_err kvm_cpu_write_tables(struct guest_mem *m,
				      const struct guest_image_layout *l)
{
	if (!write_tables(m, l))
		return SANDBOX_ERR_VM_SETUP;
	memcpy(system_copy, guest_mem_range(m, GUEST_GDT_GPA, SYSTEM_BYTES),
	       SYSTEM_BYTES);
	return SANDBOX_OK;
}

enum sandbox_err kvm_cpu_load_registers(struct kvm_vm *vm,
					const struct guest_image_layout *l)
{
	struct kvm_sregs sregs;
	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return SANDBOX_ERR_VM_SETUP;
	sregs.gdt.base = GUEST_GDT_GPA;
	sregs.gdt.limit = (uint16_t)(X86_GDT_ENTRIES * 8u - 1u);
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
	regs.rip = l->entry;
	regs.rsp = l->stack_top;
	regs.rflags = X86_RFLAGS_RESERVED1; /* IF=0, IOPL=0 */
	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return SANDBOX_ERR_VM_SETUP;
	return SANDBOX_OK;
}

bool kvm_cpu_system_area_intact(const struct kvm_vm *vm)
{
	const uint8_t *p = guest_mem_range(&vm->mem, GUEST_GDT_GPA, SYSTEM_BYTES);

	return p != NULL && memcmp(p, system_copy, SYSTEM_BYTES) == 0;
}
