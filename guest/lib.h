/*
 * lib.h — the guest's memory functions (guest/lib.c) and its two CPU
 * primitives: a 16-bit port write (the doorbell) and halt-forever.
 * Freestanding; guest-only.
 */
#ifndef INSTAR_GUEST_LIB_H
#define INSTAR_GUEST_LIB_H

#include <stddef.h>
#include <stdint.h>

void *memset(void *dst, int c, size_t n);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

static inline void guest_outw(uint16_t port, uint16_t value)
{
	__asm__ volatile("outw %0, %1" : : "a"(value), "Nd"(port) : "memory");
}

__attribute__((noreturn)) static inline void guest_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" : : : "memory");
}

/* Compiler barrier; x86 keeps stores in order, so this is all the ring
 * protocol with a host that only runs while this vCPU is stopped needs. */
static inline void guest_barrier(void)
{
	__asm__ volatile("" : : : "memory");
}

#endif
