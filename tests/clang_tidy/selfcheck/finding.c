/*
 * finding.c — the self-check's fixture with a real bug that compiles
 * cleanly (-Wall -Wextra -Werror see nothing) and that clang-tidy must
 * report: the early return leaks the buffer (clang-analyzer-unix.Malloc).
 * Built (bazel test //... builds every library) but linked into nothing.
 * Trust: none needed; it is never run.
 */
#include <stdlib.h>
#include <string.h>

int tidy_selfcheck_leak(const char *s, size_t n);

int tidy_selfcheck_leak(const char *s, size_t n)
{
	char *copy = malloc(n + 1);
	if (copy == NULL)
		return -1;
	memcpy(copy, s, n);
	copy[n] = '\0';
	if (strchr(copy, '/') != NULL)
		return 1;
	free(copy);
	return 0;
}
