/*
 * clean.c — the self-check's clean hosted fixture: clang-tidy must pass
 * it, and it parses only if the target's flags reached clang-tidy: the
 * rule's copt, the define its dependency exports, the global --conlyopt
 * -std=c11 and the global --copt -fstack-protector-strong (.bazelrc).
 * Built but linked into nothing.
 * Trust: none needed; it is never run.
 */
#if !defined(TIDY_SELFCHECK_COPT) || !defined(TIDY_SELFCHECK_DEP_DEFINE)
#error "the rule's copts or its dependency's defines did not reach clang-tidy"
#endif
#if __STDC_VERSION__ != 201112L
#error "the global --conlyopt=-std=c11 did not reach clang-tidy"
#endif
#if !defined(__SSP_STRONG__)
#error "the global --copt=-fstack-protector-strong did not reach clang-tidy"
#endif
#include <stddef.h>
#include <stdio.h>

int tidy_selfcheck_count(const char *s, size_t n);

int tidy_selfcheck_count(const char *s, size_t n)
{
	int slashes = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/')
			slashes++;
	if (printf("%d\n", slashes) < 0)
		return -1;
	return slashes;
}
