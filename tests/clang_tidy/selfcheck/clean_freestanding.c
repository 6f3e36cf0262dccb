/*
 * clean_freestanding.c — the self-check's clean guest fixture, built with
 * GUEST_COPTS: it parses only if clang-tidy saw them (freestanding, no
 * hosted headers, clang's own <stdint.h> through -isystem, the rule's
 * -fno-stack-protector after the global -fstack-protector-strong).
 * Built but linked into nothing.
 * Trust: none needed; it is never run.
 */
#if __STDC_HOSTED__ != 0
#error "GUEST_COPTS (-ffreestanding) did not reach clang-tidy"
#endif
#if defined(__SSP_STRONG__)
#error "the rule's -fno-stack-protector did not come after the global copts"
#endif
#if __has_include(<stdio.h>)
#error "-nostdinc did not reach clang-tidy: the hosted headers are visible"
#endif
#include <stdint.h>

uint32_t tidy_selfcheck_sum(const uint8_t *p, uint32_t n);

uint32_t tidy_selfcheck_sum(const uint8_t *p, uint32_t n)
{
	uint32_t sum = 0;
	for (uint32_t i = 0; i < n; i++)
		sum += p[i];
	return sum;
}
