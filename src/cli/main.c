/*
 * main.c — the `instar` entry point: the table of commands (dispatch and
 * the command list of --help both come from it, so --help lists every
 * command there is), --help and --version.
 * Trust: argv is user input and is only compared here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "src/cli/amend_cmd.h"
#include "src/cli/check_cmd.h"
#include "src/cli/info_cmd.h"
#include "src/cli/messages.h"
#include "src/cli/output.h"
#include "src/cli/process_setup.h"
#include "src/cli/seccomp_cmd.h"
#include "src/cli/version.h"

/* One line a command. The summary is its line in `instar --help` and the
 * NAME line of its manual page instar-<name>(1) (man/gen_man.sh); a new
 * command also gets a line in man/BUILD (its page) and a mention in
 * docs/ (tests/dist/man_test.sh checks both). */
struct command {
	const char *name;
	const char *summary;                       /* <= 64 characters */
	int (*run)(int argc, char *const argv[]);  /* argv after the name */
};

static const struct command commands[] = {
	{ "amend", "change a qcow2 image's compat version and lazy_refcounts flag",
	  amend_main },
	{ "info", "show what qemu-img info shows of a qcow2 or raw image",
	  info_main },
	{ "check", "check a qcow2 image as qemu-img check does, read-only",
	  check_main },
	{ "seccomp", "print the seccomp allow-list that instar amend installs",
	  seccomp_main },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Diagnostics on stderr are not checked ((void)): one that cannot be
 * written has nowhere else to go, and the exit status still tells. */

/* GNU-style, so that help2man makes instar(1) from it: the paragraph
 * after the Usage line is the page's NAME line. */
static void usage(FILE *out)
{
	/* Checked once, before exit (stdout_checked): the error indicator
	 * is sticky. */
	(void)fputs(
"Usage: instar <command> [options]\n"
"\n"
"Work on untrusted disk images as qemu-img does, with every byte of the\n"
"image interpreted inside a KVM guest.\n"
"\n"
"Commands:\n",
		out);
	for (size_t i = 0; i < N_COMMANDS; i++)
		(void)fprintf(out, "  %-9s %s\n", commands[i].name,
			      commands[i].summary);
	(void)fputs(
"\n"
"Options:\n"
"  -h, --help     show this help and exit\n"
"  -V, --version  show the version and the source revision it was built\n"
"                 from, and exit\n"
"\n"
"'instar <command> --help' shows the options of a command.\n",
		out);
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
		(void)printf("instar %s (%s)\n", INSTAR_VERSION, instar_revision);
		return EXIT_OK;
	}
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(argv[1], commands[i].name) == 0) {
			msg_set_command(commands[i].name);
			return commands[i].run(argc - 2, argv + 2);
		}
	}
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
