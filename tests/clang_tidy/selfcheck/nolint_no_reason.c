/*
 * nolint_no_reason.c — the self-check's fixture: the leak of finding.c
 * silenced by a suppression comment that names no check and gives no
 * reason, which clang_tidy_test.sh must fail although clang-tidy itself
 * is now quiet. (clang-tidy takes the word, capitalised, anywhere on a
 * line as a blanket suppression: it appears here only where meant.)
 * Built but linked into nothing.
 * Trust: none needed; it is never run.
 */
#include <stdlib.h>
#include <string.h>

int tidy_selfcheck_silenced(const char *s, size_t n);

int tidy_selfcheck_silenced(const char *s, size_t n)
{
	char *copy = malloc(n + 1);
	if (copy == NULL)
		return -1;
	memcpy(copy, s, n);
	copy[n] = '\0';
	if (strchr(copy, '/') != NULL)
		return 1; /* NOLINT */
	free(copy);
	return 0;
}
