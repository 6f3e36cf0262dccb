/*
 * kvm_path.c — the pinned "/dev/kvm" (see kvm_path.h).
 *
 * Syscalls (before lockdown): mmap (MAP_FIXED_NOREPLACE), mprotect.
 */
#define _GNU_SOURCE
#include "sandbox/kvm_path.h"

#include <string.h>
#include <sys/mman.h>

#define PAGE 4096u

static const char kvm_path_rodata[] = "/dev/kvm";
static bool pinned;

bool sandbox_kvm_path_pin(void)
{
	void *want = (void *)SANDBOX_KVM_PATH_ADDR;

	if (pinned)
		return true;
	void *p = mmap(want, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED)
		return false;
	if (p != want) {   /* a kernel without MAP_FIXED_NOREPLACE took a hint */
		(void)munmap(p, PAGE);
		return false;
	}
	memcpy(p, kvm_path_rodata, sizeof kvm_path_rodata);
	if (mprotect(p, PAGE, PROT_READ) != 0) {
		(void)munmap(p, PAGE);
		return false;
	}
	pinned = true;
	return true;
}

const char *sandbox_kvm_path(void)
{
	return pinned ? (const char *)SANDBOX_KVM_PATH_ADDR : kvm_path_rodata;
}
