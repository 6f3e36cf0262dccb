/*
 * fuzz_util.h — shared by every instar fuzz target: the libFuzzer entry
 * point's prototype and FUZZ_ASSERT, which names the broken invariant on
 * stderr and then traps, so a violation is a crash under libFuzzer, AFL++
 * and the corpus replay tests alike.
 *
 * Trust: nothing; it only reports.
 */
#ifndef INSTAR_FUZZ_UTIL_H
#define INSTAR_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                   \
	do {                                                                \
		if (!(cond)) {                                              \
			/* About to trap: a report that cannot be written   \
			 * changes nothing. */                              \
			(void)fprintf(stderr,                               \
				      "%s:%d: invariant broken: %s\n",      \
				      __FILE__, __LINE__, #cond);           \
			(void)fflush(stderr);                               \
			__builtin_trap();                                   \
		}                                                           \
	} while (0)

/* Big-endian 32-bit read; the caller has checked the bounds. */
static inline uint32_t fuzz_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

#ifdef __cplusplus
}
#endif

#endif
