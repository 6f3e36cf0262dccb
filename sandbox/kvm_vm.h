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

/* Creating a VM comes in two halves that touch disjoint fields of a
 * cleared *vm (so two threads may do one each, then hand over):
 * kvm_vm_create_cpu() opens /dev/kvm and creates the VM and its vCPU,
 * kvm_vm_map_ram() maps `ram_bytes` of RAM. kvm_vm_attach_ram() then
 * registers the RAM at guest-physical 0. On error each releases only
 * what it created; kvm_vm_destroy() releases everything. */
enum sandbox_err kvm_vm_create_cpu(struct kvm_vm *vm);
enum sandbox_err kvm_vm_map_ram(struct kvm_vm *vm, uint64_t ram_bytes);
enum sandbox_err kvm_vm_attach_ram(struct kvm_vm *vm);

void kvm_vm_destroy(struct kvm_vm *vm);

#ifdef __cplusplus
}
#endif

#endif
