/*
 * print.c - renders the compiled-in policy table and the BPF filters built
 * from it (via seccomp_export_pfc) so a reviewer audits what is installed,
 * not a description of it. Trusts the generated table and libseccomp.
 */
#define _POSIX_C_SOURCE 200809L
#include "seccomp/print.h"

#include <seccomp.h>
#include <stdint.h>

#include "seccomp/lockdown.h"
#include "seccomp/policy_table.h"

static const char *stage_name(enum policy_stage s)
{
	return s == POLICY_STAGE_SETUP ? "setup"
	       : s == POLICY_STAGE_WRITE ? "write" : "always";
}

static int print_table(FILE *out)
{
	size_t shipped = 0, sanitizer = 0;
	for (size_t i = 0; i < policy_table_len; i++) {
		if (policy_table[i].origin == POLICY_ORIGIN_SANITIZER)
			sanitizer++;
		else
			shipped++;
	}
	if (fprintf(out, "instar seccomp policy: %zu rules from seccomp/policy.txt",
		    shipped) < 0)
		return -1;
	if (policy_table_has_sanitizer_rules &&
	    fprintf(out, " + %zu from seccomp/policy_sanitizer.txt (sanitizer build, not shipped)",
		    sanitizer) < 0)
		return -1;
	if (fprintf(out, "\ndefault action: kill the process; "
			 "stage 'setup' rules end at lockdown_tighten(); "
			 "'write' rules exist only for amend (info and check "
			 "never write)\n\n"
			 "%-7s %-16s %-52s %s\n", "stage", "syscall", "constraint",
		    "reason") < 0)
		return -1;
	for (size_t i = 0; i < policy_table_len; i++) {
		const struct policy_entry *e = &policy_table[i];
		if (fprintf(out, "%-7s %-16s %-52s %s%s\n", stage_name(e->stage),
			    e->syscall, e->text[0] != '\0' ? e->text : "(any)",
			    e->reason,
			    e->origin == POLICY_ORIGIN_SANITIZER ? " [sanitizer]" : "") < 0)
			return -1;
	}
	return 0;
}

/* Stands in for the sandbox's own "/dev/kvm" in the printed filters: its
 * address (which differs from run to run) is what the filter compares. */
static const char print_kvm_path[] = "/dev/kvm";

static int print_pfc(FILE *out, enum lockdown_profile profile, const char *title,
		     uint64_t last_sector, bool read_only)
{
	const struct lockdown_binding b = {
		.image_fd = SECCOMP_PRINT_IMAGE_FD,
		.kvm_path = print_kvm_path,
		.write_last_sector = last_sector,
		.read_only = read_only,
	};
	scmp_filter_ctx ctx = NULL;

	if (lockdown_build_filter(profile, &b, &ctx) != LOCKDOWN_OK)
		return -1;
	int fd = fileno(out);
	int rc = -1;
	if (fd >= 0 &&
	    fprintf(out, "\n#\n# %s ($image_fd shown as %d, $kvm_path as %p, "
			 "$write_last_sector as %llu)\n#\n", title,
		    SECCOMP_PRINT_IMAGE_FD, (const void *)print_kvm_path,
		    (unsigned long long)last_sector) >= 0 &&
	    fflush(out) == 0 && seccomp_export_pfc(ctx, fd) == 0)
		rc = 0;
	seccomp_release(ctx);
	return rc;
}

int seccomp_print_policy(FILE *out, bool pfc)
{
	if (print_table(out) != 0)
		return -1;
	if (pfc) {
		if (print_pfc(out, LOCKDOWN_PROFILE_SETUP,
			      "amend's filter 1, installed by lockdown_apply()",
			      SECCOMP_PRINT_SETUP_LAST_SECTOR, false) != 0 ||
		    print_pfc(out, LOCKDOWN_PROFILE_RUN,
			      "amend's filter 2, stacked by lockdown_tighten(), for a 64 KiB header cluster",
			      SECCOMP_PRINT_RUN_LAST_SECTOR, false) != 0 ||
		    print_pfc(out, LOCKDOWN_PROFILE_SETUP,
			      "info's and check's filter 1 (read-only: no [write] rules)",
			      0, true) != 0 ||
		    print_pfc(out, LOCKDOWN_PROFILE_RUN,
			      "info's and check's filter 2 (read-only: no [write] rules)",
			      0, true) != 0)
			return -1;
	}
	return fflush(out) == 0 ? 0 : -1;
}
