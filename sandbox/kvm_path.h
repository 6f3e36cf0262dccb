/*
 * kvm_path.h — the one pathname the sandbox opens, "/dev/kvm", pinned
 * where the seccomp policy can name it: openat() is allowed only with
 * this address as its path argument ($kvm_path), so its bytes must not
 * be changeable. sandbox_kvm_path_pin() maps a page at a fixed low
 * address, writes the path and makes the page read-only, all before
 * lockdown; afterwards mprotect is not allowed, mmap never takes
 * MAP_FIXED and munmap only takes addresses above this one, so the page
 * stays as it is. A fixed address lets the filters be compiled at build
 * time (seccomp/lockdown.c), and lies below everything the process ever
 * unmaps whether the binary is static or not.
 *
 * Trust: nothing; host-chosen constants only.
 */
#ifndef INSTAR_SANDBOX_KVM_PATH_H
#define INSTAR_SANDBOX_KVM_PATH_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 256 MiB: below any PIE binary, heap or mmap area the kernel places,
 * and inside ASan's application memory. */
#define SANDBOX_KVM_PATH_ADDR 0x10000000UL

/* Map the pinned page (idempotent). false if the address is taken or
 * the page cannot be made read-only. */
bool sandbox_kvm_path_pin(void);

/* The path sandbox_run() opens: the pinned page once pinned, else a
 * string in the binary's read-only data (for callers that never lock
 * down, such as tests). */
const char *sandbox_kvm_path(void);

#ifdef __cplusplus
}
#endif

#endif
