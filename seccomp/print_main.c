/*
 * print_main.c - `bazel run //seccomp:print_policy [-- --pfc]`: prints the
 * policy this build installs, for auditors, before and beside the
 * `instar seccomp [--pfc]` subcommand (which calls the same function).
 * Trusts only its own argv.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "seccomp/print.h"

/* Diagnostics on stderr are not checked ((void)): one that cannot be
 * written has nowhere else to go, and the exit status still tells. */

int main(int argc, char **argv)
{
	bool pfc = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--pfc") == 0) {
			pfc = true;
		} else {
			(void)fprintf(stderr, "usage: print_policy [--pfc]\n");
			return 2;
		}
	}
	if (seccomp_print_policy(stdout, pfc) != 0) {
		(void)fprintf(stderr, "print_policy: cannot print the policy\n");
		return 1;
	}
	return 0;
}
