/*
 * lockdown.h - give up every capability, set no_new_privs, and install the
 * seccomp allow-list generated from seccomp/policy.txt.
 *
 * Call lockdown_apply() after the image is open, locked and pre-probed and
 * before /dev/kvm is opened; call lockdown_tighten() once the VM and vCPU
 * exist. Both return an error code and never print or exit: the CLI maps the
 * code to its message with lockdown_strerror().
 */
#ifndef INSTAR_SECCOMP_LOCKDOWN_H
#define INSTAR_SECCOMP_LOCKDOWN_H

#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum lockdown_err {
	LOCKDOWN_OK = 0,
	LOCKDOWN_ERR_PROFILE,     /* unknown profile */
	LOCKDOWN_ERR_BINDING,     /* missing binding or negative image fd */
	LOCKDOWN_ERR_CAPS_READ,   /* capget/prctl could not read our capabilities */
	LOCKDOWN_ERR_CAPS_DROP,   /* capset/prctl could not drop them */
	LOCKDOWN_ERR_CAPS_LEFT,   /* a capability is still present afterwards */
	LOCKDOWN_ERR_NO_NEW_PRIVS,
	LOCKDOWN_ERR_TABLE,       /* the compiled-in policy table is inconsistent */
	LOCKDOWN_ERR_FILTER,      /* libseccomp refused to build the filter */
	LOCKDOWN_ERR_LOAD,        /* the kernel refused the filter */
	LOCKDOWN_ERR_TIGHTEN,     /* lockdown_tighten(): the second filter could
				     not be built or loaded */
	LOCKDOWN_ERR_COUNT_       /* number of codes, not an error */
};

/*
 * Which filter to build. SETUP allows the rules of both sections of the
 * policy ([setup] and [always]); RUN allows only the [always] rules.
 */
enum lockdown_profile {
	LOCKDOWN_PROFILE_SETUP = 1,
	LOCKDOWN_PROFILE_RUN = 2,
};

/* Where the CLI pins "/dev/kvm" (sandbox/kvm_path.h: the same address). */
#define LOCKDOWN_KVM_PATH_ADDR 0x10000000UL

/* Run-time values of the policy's variables. */
struct lockdown_binding {
	int image_fd;       /* $image_fd: the open, locked image; every lower
			     * descriptor must be open too (0, 1, 2), and no
			     * higher one, when lockdown_apply() runs */
	const char *kvm_path; /* $kvm_path: the one pathname openat() may
			     * take, by address: a read-only "/dev/kvm" below
			     * every mapping the process unmaps (the CLI's is
			     * pinned at LOCKDOWN_KVM_PATH_ADDR) */
	uint64_t write_last_sector; /* $write_last_sector: the highest
			     * offset pwrite64 may write its one sector at */
	bool read_only;     /* the command only reads its image (info,
			     * check): the policy's [write] rules are left
			     * out of both filters */
};

/*
 * Drops all capabilities (effective, permitted, inheritable, ambient, and
 * the bounding set when the process holds CAP_SETPCAP, i.e. for root), sets
 * PR_SET_NO_NEW_PRIVS, then loads the profile's filter with TSYNC. Default
 * action: kill the process. On error the process may be partly locked down
 * (never less than before); the caller must not continue to /dev/kvm.
 */
enum lockdown_err lockdown_apply(enum lockdown_profile profile,
				 const struct lockdown_binding *b);

/*
 * lockdown_apply() in two steps, for a caller that starts a thread in
 * between. Capabilities and no_new_privs belong to each thread (a new
 * thread inherits its creator's); the filter reaches every thread through
 * TSYNC. lockdown_drop_privileges() empties the calling thread's
 * capability sets and sets its no_new_privs: call it before creating any
 * thread. lockdown_load() then installs the profile's filter.
 */
enum lockdown_err lockdown_drop_privileges(void);
enum lockdown_err lockdown_load(enum lockdown_profile profile,
				const struct lockdown_binding *b);

/*
 * Stacks the RUN filter on top of the SETUP one: afterwards openat, the
 * VM-building ioctls and seccomp itself are gone. Requires a successful
 * lockdown_apply(LOCKDOWN_PROFILE_SETUP, ...) first. Returns
 * LOCKDOWN_ERR_BINDING for a bad binding, LOCKDOWN_ERR_TIGHTEN for any
 * other failure; the caller must then not start the guest.
 */
enum lockdown_err lockdown_tighten(const struct lockdown_binding *b);

/*
 * Builds, without loading, the filter lockdown_apply() would install; for
 * seccomp_export_pfc() and tests. On success the caller owns *out and must
 * seccomp_release() it.
 */
enum lockdown_err lockdown_build_filter(enum lockdown_profile profile,
					const struct lockdown_binding *b,
					scmp_filter_ctx *out);

/* One fixed message per code; never NULL. */
const char *lockdown_strerror(enum lockdown_err err);

#ifdef __cplusplus
}
#endif

#endif
