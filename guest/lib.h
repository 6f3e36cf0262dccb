/*
 * lib.h — the guest's memory functions (guest/lib.c) and the two ways
 * a guest ends its run: the doorbell (result ready) and a deliberate
 * fault (no result). Freestanding; guest-only, runs at CPL3.
 */
#ifndef INSTAR_GUEST_LIB_H
#define INSTAR_GUEST_LIB_H

#include <stddef.h>
#include <stdint.h>

#include "abi/guest_abi.h"

void *memset(void *dst, int c, size_t n);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/* End the run: the result record is complete. One MMIO write; the host
 * does not resume the guest after it. */
__attribute__((noreturn)) static inline void guest_doorbell(void)
{
	*(volatile uint32_t *)(uintptr_t)GUEST_DOORBELL_GPA = GUEST_DOORBELL_DONE;
	for (;;)
		__asm__ volatile("ud2" : : : "memory");
}

/* End the run without a result: an invalid instruction, which at CPL3
 * without an IDT is a triple fault (the host reports a crashed guest). */
__attribute__((noreturn)) static inline void guest_stop(void)
{
	for (;;)
		__asm__ volatile("ud2" : : : "memory");
}

/* Compiler barrier; x86 keeps stores in order, so this is all the ring
 * protocol with a host that only runs while this vCPU is stopped needs. */
static inline void guest_barrier(void)
{
	__asm__ volatile("" : : : "memory");
}

#endif
