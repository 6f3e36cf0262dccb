/*
 * seccomp_cmd.c — `instar seccomp [--pfc]`: the allow-list `instar amend`
 * installs, one rule a line with its reason (seccomp/print.c formats
 * it); with --pfc also libseccomp's export of the two filters. Opens no
 * file. Trust: argv is user input and is only compared here.
 */
#include "src/cli/seccomp_cmd.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "seccomp/print.h"
#include "src/cli/messages.h"

/* The help is GNU-style (Usage, description, Options): the manual page
 * instar-seccomp(1) is generated from it (man/gen_man.sh). */
static void seccomp_usage(void)
{
	/* A help text that cannot be written is caught once, in main(). */
	(void)fputs(
"Usage: instar seccomp [--pfc]\n"
"\n"
"Print the seccomp allow-list that instar amend installs before it opens\n"
"/dev/kvm: one rule a line, with the stage that holds it, the syscall,\n"
"its argument constraint and the reason for it.\n"
"\n"
"Options:\n"
"      --pfc   after the list, print libseccomp's pseudo-filter code of\n"
"              both filters, exactly as they are loaded into the kernel\n"
"  -h, --help  show this help and exit\n",
		stdout);
}

int seccomp_main(int argc, char *const argv[])
{
	bool pfc = false;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--pfc") == 0) {
			pfc = true;
		} else if (strcmp(argv[i], "--help") == 0 ||
			   strcmp(argv[i], "-h") == 0) {
			seccomp_usage();
			return EXIT_OK;
		} else {
			(void)fprintf(stderr, "instar seccomp: unknown argument '%s'\n",
				      argv[i]);
			return EXIT_USAGE;
		}
	}
	return seccomp_print_policy(stdout, pfc) == 0 ? EXIT_OK : EXIT_REFUSED;
}
