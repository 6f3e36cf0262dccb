/*
 * lockdown.c - capability drop (capset/prctl), no_new_privs, and the seccomp
 * filter built from the generated policy table: the program libseccomp
 * compiled at build time for the CLI's binding (precompiled.h), or one
 * built with libseccomp now for any other binding.
 *
 * Trusts: the kernel, libseccomp, and the compiled-in policy table
 * (generated at build time from seccomp/policy.txt) — though the table is
 * still checked against its own capacities and against libseccomp's syscall
 * numbering before use. Never prints, never exits; returns enum lockdown_err.
 */
#define _GNU_SOURCE
#include "seccomp/lockdown.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "seccomp/filter_build.h"
#include "seccomp/policy_table.h"
#include "seccomp/precompiled.h"

#ifdef INSTAR_SANITIZER_BUILD
#include <sanitizer/lsan_interface.h>
#endif

static const char *const messages[LOCKDOWN_ERR_COUNT_] = {
	[LOCKDOWN_OK] = "no error",
	[LOCKDOWN_ERR_PROFILE] = "unknown lockdown profile",
	[LOCKDOWN_ERR_BINDING] = "lockdown needs the open image's file descriptor, the /dev/kvm path and the header's last sector",
	[LOCKDOWN_ERR_CAPS_READ] = "cannot read the process capabilities",
	[LOCKDOWN_ERR_CAPS_DROP] = "cannot drop capabilities",
	[LOCKDOWN_ERR_CAPS_LEFT] = "capabilities remain after dropping them",
	[LOCKDOWN_ERR_NO_NEW_PRIVS] = "cannot set no_new_privs",
	[LOCKDOWN_ERR_TABLE] = "the built-in seccomp policy table is inconsistent",
	[LOCKDOWN_ERR_FILTER] = "cannot build the seccomp filter",
	[LOCKDOWN_ERR_LOAD] = "the kernel refused the seccomp filter",
	[LOCKDOWN_ERR_TIGHTEN] = "cannot stack the narrower seccomp filter",
};

const char *lockdown_strerror(enum lockdown_err err)
{
	if ((unsigned)err >= (unsigned)LOCKDOWN_ERR_COUNT_ || messages[err] == NULL)
		return "unknown lockdown error";
	return messages[err];
}

/* A binding lockdown may install: valid values, and the path it names
 * really is "/dev/kvm". */
static bool binding_usable(const struct lockdown_binding *b)
{
	return lockdown_binding_valid(b) && strcmp(b->kvm_path, "/dev/kvm") == 0;
}

enum lockdown_err lockdown_build_filter(enum lockdown_profile profile,
					const struct lockdown_binding *b,
					scmp_filter_ctx *out)
{
	return filter_build(policy_table, policy_table_len, profile, b, out);
}

const struct precompiled_filter *
lockdown_precompiled(enum lockdown_profile profile,
		     const struct lockdown_binding *b)
{
	if (b == NULL || b->image_fd != LOCKDOWN_CANONICAL_IMAGE_FD ||
	    (uintptr_t)b->kvm_path != LOCKDOWN_KVM_PATH_ADDR)
		return NULL;
	for (size_t i = 0; i < sizeof policy_precompiled / sizeof policy_precompiled[0]; i++) {
		const struct precompiled_filter *f = &policy_precompiled[i];
		if (f->profile == profile && f->read_only == b->read_only &&
		    f->write_last_sector == b->write_last_sector &&
		    f->len != 0 && f->len <= BPF_MAXINSNS)
			return f;
	}
	return NULL;
}

/* Load a precompiled program: the same syscall seccomp_load() makes. */
static enum lockdown_err load_precompiled(const struct precompiled_filter *f)
{
	struct sock_fprog prog = {
		.len = (unsigned short)f->len,
		.filter = (struct sock_filter *)(uintptr_t)f->prog,
	};
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		       SECCOMP_FILTER_FLAG_TSYNC, &prog) == 0
		       ? LOCKDOWN_OK
		       : LOCKDOWN_ERR_LOAD;
}

static enum lockdown_err load(enum lockdown_profile profile,
			      const struct lockdown_binding *b)
{
	const struct precompiled_filter *f = lockdown_precompiled(profile, b);
	if (f != NULL)
		return load_precompiled(f);
	scmp_filter_ctx ctx = NULL;
	enum lockdown_err err = lockdown_build_filter(profile, b, &ctx);
	if (err != LOCKDOWN_OK)
		return err;
	int rc = seccomp_load(ctx);
	seccomp_release(ctx);
	return rc == 0 ? LOCKDOWN_OK : LOCKDOWN_ERR_LOAD;
}

/*
 * Empties every capability set with the raw capget/capset/prctl calls.
 * (libcap-ng did the same in 175-240 us, most of it parsing
 * /proc/self/status six times; these calls take about 80 us, measured by
 * timing both sequences in a fresh root process on this machine.)
 *
 * The bounding set can only be reduced with CAP_SETPCAP; a process without
 * it (an ordinary user in the kvm group) keeps its bounding set, which only
 * limits what execve() could grant — and execve is outside the policy, and
 * no_new_privs forbids gaining privileges through it anyway. Every set is
 * read back from the kernel afterwards rather than trusting the calls.
 */
#define LOCKDOWN_MAX_CAP 255u /* far above any kernel's CAP_LAST_CAP */

static int cap_sets(struct __user_cap_data_struct data[2], bool set)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	return (int)syscall(set ? SYS_capset : SYS_capget, &hdr, data);
}

/* Calls prctl(op, [sub,] cap) for cap = 0, 1, ... until the kernel says
 * EINVAL (past its last capability). Returns 0 when every call returned
 * `want`, 1 when one returned something else, -1 on another error. */
static int each_cap(int op, unsigned long sub, int want)
{
	for (unsigned long cap = 0; cap <= LOCKDOWN_MAX_CAP; cap++) {
		int r = sub != 0 ? prctl(op, sub, cap, 0UL, 0UL)
				 : prctl(op, cap, 0UL, 0UL, 0UL);
		if (r < 0 && errno == EINVAL)
			return 0;
		if (r < 0)
			return -1;
		if (r != want)
			return 1;
	}
	return -1; /* no kernel has this many capabilities */
}

static enum lockdown_err drop_caps(void)
{
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof data);
	if (cap_sets(data, false) != 0)
		return LOCKDOWN_ERR_CAPS_READ;
	bool can_bound = (data[CAP_TO_INDEX(CAP_SETPCAP)].effective &
			  CAP_TO_MASK(CAP_SETPCAP)) != 0;

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0UL, 0UL, 0UL) != 0)
		return LOCKDOWN_ERR_CAPS_DROP;
	if (can_bound && each_cap(PR_CAPBSET_DROP, 0, 0) != 0)
		return LOCKDOWN_ERR_CAPS_DROP;
	memset(data, 0, sizeof data);
	if (cap_sets(data, true) != 0)
		return LOCKDOWN_ERR_CAPS_DROP;

	/* Read back from the kernel rather than trusting the calls. */
	if (cap_sets(data, false) != 0)
		return LOCKDOWN_ERR_CAPS_READ;
	for (size_t i = 0; i < 2; i++)
		if (data[i].effective != 0 || data[i].permitted != 0 ||
		    data[i].inheritable != 0)
			return LOCKDOWN_ERR_CAPS_LEFT;
	int r = can_bound ? each_cap(PR_CAPBSET_READ, 0, 0) : 0;
	if (r == 0)
		r = each_cap(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 0);
	if (r < 0)
		return LOCKDOWN_ERR_CAPS_READ;
	return r == 0 ? LOCKDOWN_OK : LOCKDOWN_ERR_CAPS_LEFT;
}

enum lockdown_err lockdown_drop_privileges(void)
{
	enum lockdown_err err = drop_caps();
	if (err != LOCKDOWN_OK)
		return err;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) != 0)
		return LOCKDOWN_ERR_NO_NEW_PRIVS;
	return LOCKDOWN_OK;
}

enum lockdown_err lockdown_load(enum lockdown_profile profile,
				const struct lockdown_binding *b)
{
	if (!lockdown_profile_valid(profile))
		return LOCKDOWN_ERR_PROFILE;
	if (!binding_usable(b))
		return LOCKDOWN_ERR_BINDING;
#ifdef INSTAR_SANITIZER_BUILD
	/* Sanitizer builds only: LeakSanitizer's exit-time check stops the
	 * world with clone/ptrace and reads /proc, which no filter of ours
	 * allows. Run the check now, before lockdown; this also turns the
	 * exit-time check off, so allocations made after lockdown are not
	 * leak-checked (ASan still checks every access). */
	__lsan_do_leak_check();
#endif
	return load(profile, b);
}

enum lockdown_err lockdown_apply(enum lockdown_profile profile,
				 const struct lockdown_binding *b)
{
	/* Check everything that can be checked before changing anything. */
	if (!lockdown_profile_valid(profile))
		return LOCKDOWN_ERR_PROFILE;
	if (!binding_usable(b))
		return LOCKDOWN_ERR_BINDING;
	enum lockdown_err err = lockdown_drop_privileges();
	if (err != LOCKDOWN_OK)
		return err;
	return lockdown_load(profile, b);
}

enum lockdown_err lockdown_tighten(const struct lockdown_binding *b)
{
	if (!binding_usable(b))
		return LOCKDOWN_ERR_BINDING;
	return load(LOCKDOWN_PROFILE_RUN, b) == LOCKDOWN_OK ? LOCKDOWN_OK
							     : LOCKDOWN_ERR_TIGHTEN;
}
