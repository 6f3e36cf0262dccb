/*
 * kvm_vm.h — one KVM virtual machine with one vCPU and one RAM slot:
 * open /dev/kvm, check the API, create the VM, map guest RAM and register
 * it, create the vCPU and map its kvm_run area. Nothing architecture-
 * specific (that is kvm_cpu_x86_64.c).
 *
 * Trust: the kernel's answers are checked (API version, mmap size).
 */
#ifndef INSTAR_SANDBOX_KVM_VM_H
#define INSTAR_SANDBOX_KVM_VM_H

#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "sandbox/guest_mem.h"
#include "sandbox/sandbox_err.h"

#ifdef __cplusplus
extern "C" {
#endif

struct kvm_vm {
	int kvm_fd;
	int vm_fd;
	int vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
	struct guest_mem mem;
};

/* Mark every fd/pointer empty so kvm_vm_destroy() is always safe. */
void kvm_vm_clear(struct kvm_vm *vm);

/* Create the VM with `ram_bytes` of RAM at guest-physical 0. On error,
 * whatever was created is released. */
enum sandbox_err kvm_vm_create(struct kvm_vm *vm, uint64_t ram_bytes);

void kvm_vm_destroy(struct kvm_vm *vm);

#ifdef __cplusplus
}
#endif

#endif
