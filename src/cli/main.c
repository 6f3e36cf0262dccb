/*
 * main.c — the `instar` entry point: subcommand dispatch, --help,
 * --version. Trust: argv is user input and is only compared here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "seccomp/print.h"
#include "src/cli/amend_cmd.h"
#include "src/cli/messages.h"
#include "src/cli/process_setup.h"

#define INSTAR_VERSION "0.1.0"

/* Diagnostics on stderr are not checked ((void)): one that cannot be
 * written has nowhere else to go, and the exit status still tells. */

static void usage(FILE *out)
{
	/* Checked once, before exit (stdout_checked): the error indicator
	 * is sticky. */
	(void)fputs(
"Usage: instar <command> [options]\n"
"\n"
"Commands:\n"
"  amend     change a qcow2 image's compat version and lazy_refcounts\n"
"            flag in place, inside a KVM sandbox (instar amend --help)\n"
"  seccomp   print the seccomp allow-list instar amend installs\n"
"            (--pfc: libseccomp's pseudo-filter code of the exact filter)\n"
"\n"
"Options:\n"
"  -h, --help     show this help\n"
"  -V, --version  show the version\n",
		out);
}

static int seccomp_main(int argc, char *const argv[])
{
	bool pfc = false;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--pfc") == 0) {
			pfc = true;
		} else if (strcmp(argv[i], "--help") == 0 ||
			   strcmp(argv[i], "-h") == 0) {
			puts("Usage: instar seccomp [--pfc]\n\n"
			     "Print the seccomp allow-list instar amend installs "
			     "before it opens /dev/kvm:\none rule a line with its "
			     "reason; with --pfc, libseccomp's export of the exact "
			     "filter.");
			return EXIT_OK;
		} else {
			(void)fprintf(stderr, "instar seccomp: unknown argument '%s'\n",
				      argv[i]);
			return EXIT_USAGE;
		}
	}
	return seccomp_print_policy(stdout, pfc) == 0 ? EXIT_OK : EXIT_REFUSED;
}

/* stdout carries each command's answer (the help, the version, the
 * policy, the amend result): a command whose answer could not all be
 * written (a full disk, a closed pipe; stdio's error indicator is sticky)
 * exits 1 instead of 0. Nothing is left to flush after an amend (its
 * result was flushed and checked), so this makes no syscall under the
 * seccomp filter. */
static int stdout_checked(int rc)
{
	const char *m = msg_stdout();
	const char *arg = strstr(m, "%s");

	if ((fflush(stdout) == 0 && !ferror(stdout)) || rc != EXIT_OK)
		return rc;
	if (arg != NULL)
		(void)fprintf(stderr, "instar: %.*s%s%s\n", (int)(arg - m), m,
			      strerror(errno), arg + 2);
	return EXIT_REFUSED;
}

static int dispatch(int argc, char *argv[])
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		puts("instar " INSTAR_VERSION);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "amend") == 0)
		return amend_main(argc - 2, argv + 2);
	if (strcmp(argv[1], "seccomp") == 0)
		return seccomp_main(argc - 2, argv + 2);
	(void)fprintf(stderr, "instar: unknown command '%s' (try instar --help)\n",
		      argv[1]);
	return EXIT_USAGE;
}

int main(int argc, char *argv[])
{
	/* Before anything else: 0, 1, 2 exist (an image can never become
	 * stdout), nothing else is inherited, stdio needs no fstat later. */
	if (!process_fds_setup()) {
		static const char msg[] = "instar: cannot set up descriptors 0, 1 "
			"and 2 or close inherited ones; refusing to continue\n";
		(void)!write(STDERR_FILENO, msg, sizeof msg - 1);
		return EXIT_REFUSED;
	}
	process_stdio_setup();
	return stdout_checked(dispatch(argc, argv));
}
