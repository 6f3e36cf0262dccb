/*
 * kvm_vm.c — KVM VM, RAM slot and vCPU creation (see kvm_vm.h).
 *
 * Syscalls: openat(/dev/kvm), ioctl (KVM_GET_API_VERSION,
 * KVM_CHECK_EXTENSION, KVM_CREATE_VM, KVM_ENABLE_CAP,
 * KVM_SET_USER_MEMORY_REGION, KVM_CREATE_VCPU, KVM_GET_VCPU_MMAP_SIZE),
 * mmap, munmap, close.
 */
#define _GNU_SOURCE /* pread, MAP_ANONYMOUS, sigaction, setitimer under -std=c11 */
#include "sandbox/kvm_vm.h"

#include "sandbox/kvm_path.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define KVM_EXPECTED_API 12


void kvm_vm_clear(struct kvm_vm *vm)
{
	vm->kvm_fd = -1;
	vm->vm_fd = -1;
	vm->vcpu_fd = -1;
	vm->run = NULL;
	vm->run_size = 0;
	vm->mem.base = NULL;
	vm->mem.size = 0;
	vm->mem.mapped = false;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
	*fd = -1;
}

void kvm_vm_destroy(struct kvm_vm *vm)
{
	if (vm->run != NULL)
		(void)munmap(vm->run, vm->run_size);
	vm->run = NULL;
	close_fd(&vm->vcpu_fd);
	close_fd(&vm->vm_fd);
	guest_mem_unmap(&vm->mem);
	close_fd(&vm->kvm_fd);
}

static enum sandbox_err open_kvm(struct kvm_vm *vm)
{
	vm->kvm_fd = open(sandbox_kvm_path(), O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		if (errno == EACCES || errno == EPERM)
			return SANDBOX_ERR_KVM_PERMISSION;
		return SANDBOX_ERR_KVM_UNAVAILABLE;
	}
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_EXPECTED_API)
		return SANDBOX_ERR_KVM_API;
	/* The run loop's timeout needs kvm_run->immediate_exit. */
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) <= 0 ||
	    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) <= 0)
		return SANDBOX_ERR_KVM_API;
	return SANDBOX_OK;
}

/*
 * A vCPU without an in-kernel local APIC flips a kernel-wide static key
 * when it is created and again when it is destroyed, and each flip patches
 * kernel text on every CPU: 0.3 ms of KVM_CREATE_VCPU and 0.2 ms of the
 * teardown here (perf showed __text_poke under kvm_create_lapic and
 * kvm_arch_vcpu_destroy; a VM with the split irqchip measured 95 us for
 * KVM_CREATE_VCPU against 300 us). The split irqchip gives the vCPU a
 * kernel LAPIC and nothing else (no PIC, no IOAPIC, no routes). The guest
 * cannot reach it: its page tables do not map the APIC page and the APIC
 * MSRs are privileged (tests/sandbox/bad_guests/touch_lapic.c, apic_msr.c).
 * A kernel without the capability runs the VM without it.
 */
static bool split_irqchip(struct kvm_vm *vm)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_SPLIT_IRQCHIP,
		.args = { 0 }, /* no IOAPIC routes */
	};

	if (ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SPLIT_IRQCHIP) <= 0)
		return true;
	return ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) == 0;
}

/* Release what kvm_vm_create_cpu() made, leaving the RAM alone. */
static void destroy_cpu(struct kvm_vm *vm)
{
	if (vm->run != NULL)
		(void)munmap(vm->run, vm->run_size);
	vm->run = NULL;
	vm->run_size = 0;
	close_fd(&vm->vcpu_fd);
	close_fd(&vm->vm_fd);
	close_fd(&vm->kvm_fd);
}

enum sandbox_err kvm_vm_create_cpu(struct kvm_vm *vm)
{
	enum sandbox_err err = open_kvm(vm);
	if (err != SANDBOX_OK)
		goto fail;
	err = SANDBOX_ERR_VM_SETUP;

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0UL);
	if (vm->vm_fd < 0)
		goto fail;
	if (!split_irqchip(vm))
		goto fail;
	vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0UL);
	if (vm->vcpu_fd < 0)
		goto fail;
	int sz = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (int)sizeof(struct kvm_run))
		goto fail;
	void *run = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED,
			 vm->vcpu_fd, 0);
	if (run == MAP_FAILED)
		goto fail;
	vm->run = run;
	vm->run_size = (size_t)sz;
	return SANDBOX_OK;

fail:
	destroy_cpu(vm);
	return err;
}

enum sandbox_err kvm_vm_map_ram(struct kvm_vm *vm, uint64_t ram_bytes)
{
	return guest_mem_map(&vm->mem, ram_bytes) ? SANDBOX_OK
						  : SANDBOX_ERR_VM_SETUP;
}

enum sandbox_err kvm_vm_attach_ram(struct kvm_vm *vm)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.flags = 0,
		.guest_phys_addr = 0,
		.memory_size = vm->mem.size,
		.userspace_addr = (uint64_t)(uintptr_t)vm->mem.base,
	};
	if (vm->vm_fd < 0 || !vm->mem.mapped)
		return SANDBOX_ERR_VM_SETUP;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return SANDBOX_ERR_VM_SETUP;
	return SANDBOX_OK;
}
