/*
 * lib.c — the four memory functions the compiler may emit calls to in a
 * freestanding guest (struct copies, zeroing), and that the shared
 * planner uses on whole clusters. They use x86 string instructions: a
 * `rep movsq`/`rep stosq`/`repe cmpsq` is one instruction however long
 * the buffer, which matters when the vCPU is emulated or single-stepped
 * (as under software virtualisation such as PVM, where every guest
 * instruction costs about a microsecond).
 *
 * Trust: callers pass valid ranges (guest-internal code only).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/lib.h"

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	size_t words = n / 8u;
	size_t tail = n % 8u;
	uint64_t pattern = (uint64_t)(uint8_t)c * 0x0101010101010101ULL;
	__asm__ volatile("rep stosq"
			 : "+D"(d), "+c"(words)
			 : "a"(pattern)
			 : "memory");
	__asm__ volatile("rep stosb"
			 : "+D"(d), "+c"(tail)
			 : "a"(pattern)
			 : "memory");
	return dst;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	void *d = dst;
	const void *s = src;
	size_t words = n / 8u;
	size_t tail = n % 8u;
	__asm__ volatile("rep movsq"
			 : "+D"(d), "+S"(s), "+c"(words)
			 :
			 : "memory");
	__asm__ volatile("rep movsb"
			 : "+D"(d), "+S"(s), "+c"(tail)
			 :
			 : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	if ((uintptr_t)dst <= (uintptr_t)src ||
	    (uintptr_t)dst - (uintptr_t)src >= n)
		return memcpy(dst, src, n);
	/* Overlapping, destination above source: copy backwards. */
	void *d = (uint8_t *)dst + n - 1u;
	const void *s = (const uint8_t *)src + n - 1u;
	size_t count = n;
	__asm__ volatile("std\n\trep movsb\n\tcld"
			 : "+D"(d), "+S"(s), "+c"(count)
			 :
			 : "memory", "cc");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a;
	const uint8_t *y = b;
	size_t words = n / 8u;
	if (words != 0) {
		/* Skip the equal 8-byte words. ZF tells whether the last word
		 * compared was equal; rsi/rdi end just past it either way. */
		const void *p = x;
		const void *q = y;
		size_t left = words;
		bool all_equal;
		__asm__ volatile("repe cmpsq"
				 : "+S"(p), "+D"(q), "+c"(left), "=@ccz"(all_equal)
				 :
				 : "memory");
		size_t skip = (size_t)((const uint8_t *)p - x);
		if (!all_equal)
			skip -= 8u; /* back to the differing word */
		x += skip;
		y += skip;
		n -= skip;
	}
	for (size_t i = 0; i < n; i++) {
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	}
	return 0;
}
