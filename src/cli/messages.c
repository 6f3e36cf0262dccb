/*
 * messages.c — the message table (see messages.h). The strings the spec
 * (instar-amend.md) quotes are copied here verbatim; tests/cli checks
 * each against the spec text. Trust: none needed; constant data.
 */
#include "src/cli/messages.h"

#define SPEC_RETRY "the image's header changed between the host's pre-probe " \
	"and the guest's read, or a guest write failed; retry, or run " \
	"`instar check` if the image may be corrupt"
#define SPEC_OVERFLOW "internal size or offset computation overflowed " \
	"(host or guest bug)"

const char *msg_args(enum args_err e)
{
	switch (e) {
	case ARGS_OK:
	case ARGS_HELP:
	case ARGS_OPTIONS_HELP:
		return "";
	case ARGS_UNKNOWN_FLAG:
		return "unknown flag '%s' (see instar amend --help)";
	case ARGS_MISSING_VALUE:
		return "flag '%s' needs a value";
	case ARGS_BAD_OUTPUT:
		return "invalid --output value '%s': use human or json";
	case ARGS_UNKNOWN_FORMAT:
		return "unknown format '%s': instar amend accepts only -f qcow2";
	case ARGS_NOT_QCOW2_FORMAT:
		return "only qcow2 images can be amended";
	case ARGS_NO_FILE:
		return "no image file given (usage: instar amend -o KEY=VALUE[,...] FILE)";
	case ARGS_EXTRA_ARG:
		return "unexpected extra argument '%s': give exactly one image file";
	case ARGS_NO_OPTIONS:
		return "nothing to change: give at least one of -o compat=0.10|1.1 "
		       "or -o lazy_refcounts=on|off";
	case ARGS_EMPTY_PIECE:
		return "empty option in -o (a stray comma?): write KEY=VALUE[,KEY=VALUE...]";
	case ARGS_MISSING_EQUALS:
		return "option '%s' has no value: write KEY=VALUE";
	case ARGS_EMPTY_VALUE:
		return "option '%s' has an empty value";
	case ARGS_UNKNOWN_KEY:
		return "unsupported option '%s': instar amend supports only compat "
		       "and lazy_refcounts (qemu-img amend options such as "
		       "refcount_bits, data_file, backing_file and cluster_size "
		       "are not supported)";
	case ARGS_EMPTY_KEY:
		return "option '%s' has no key: write KEY=VALUE (for example "
		       "compat=1.1)";
	case ARGS_BAD_COMPAT:
		return "invalid compat value in '%s': use compat=0.10 or compat=1.1";
	case ARGS_BAD_LAZY:
		return "invalid lazy_refcounts value in '%s': use on, off, true, "
		       "false, yes or no";
	case ARGS_CONFLICT:
		return "conflicting option '%s': the same key was already given "
		       "a different value";
	case ARGS_PROGRESS_JSON:
		return "-p cannot be combined with --output json: the progress "
		       "lines would break the JSON on stdout";
	case ARGS_NO_SUPPORTED_KEY:
		return "nothing to change: give at least one of -o compat=0.10|1.1 "
		       "or -o lazy_refcounts=on|off";
	case ARGS_COUNT_:
	default:
		return SPEC_OVERFLOW;
	}
}

const char *msg_amend(enum amend_status s)
{
	switch (s) {
	case AMEND_CHANGED:
		return "Image amended.";
	case AMEND_NOOP:
		return "No change.";
	case AMEND_ERR_NOT_QCOW2:
		return "only qcow2 images can be amended";
	case AMEND_ERR_PARSE:
		return "the image header could not be parsed";
	case AMEND_ERR_DIRTY:
		return "the image is marked dirty (another writer may hold it "
		       "open); run `instar check` first";
	case AMEND_ERR_CORRUPT:
		return "the image is marked corrupt (its metadata is known to be "
		       "inconsistent); run `instar check` to repair it first";
	case AMEND_ERR_DOWNGRADE_FEATURE:
		return "cannot downgrade to compat=0.10: image uses a v3-only "
		       "incompatible feature (compression, extended L2, external "
		       "data, or is dirty/corrupt)";
	case AMEND_ERR_DOWNGRADE_REFCOUNT:
		return "cannot downgrade to compat=0.10: image uses "
		       "refcount_bits != 16 (v2 supports 16-bit refcounts only; "
		       "rewriting the refcount tree is out of scope)";
	case AMEND_ERR_LAZY_NEEDS_V3:
		return "lazy_refcounts=on requires compat=1.1 (lazy refcounts are "
		       "a v3-only feature); upgrade with -o compat=1.1 first or in "
		       "the same invocation";
	case AMEND_ERR_RELOCATION:
		return "this compat change would have to relocate a header "
		       "extension, which is not yet supported; use `qemu-img amend`";
	case AMEND_ERR_SCRATCH:
		return "the image is too large for the amend scratch buffer";
	case AMEND_ERR_OVERFLOW:
		return SPEC_OVERFLOW;
	case AMEND_ERR_BAD_REQUEST:
		return "internal error: the amend request reached the planner "
		       "malformed (host or guest bug)";
	case AMEND_ERR_ENCRYPTED:
		return "encrypted qcow2 images are not supported: their header "
		       "is only changed by `qemu-img amend` with the image's secret";
	case AMEND_ERR_ZERO_CLUSTERS:
		return "cannot downgrade to compat=0.10: the image has zero "
		       "clusters, which compat=0.10 cannot represent (QEMU would "
		       "call the result corrupt); `qemu-img amend` can downgrade "
		       "it by writing the zeroes out";
	case AMEND_ERR_SNAPSHOT_SIZE:
		return "cannot downgrade to compat=0.10: an internal snapshot has "
		       "a different virtual size than the image, which "
		       "compat=0.10 cannot record";
	case AMEND_ERR_BITMAPS:
		return "cannot downgrade to compat=0.10: the image has persistent "
		       "dirty bitmaps, which compat=0.10 cannot keep (QEMU would "
		       "leave them inconsistent and their clusters leaked); "
		       "remove them first with `qemu-img bitmap --remove`";
	case AMEND_ERR_TABLES:
		return "the image's L1/L2 or snapshot tables are malformed (an "
		       "entry is misaligned, points into the header cluster or "
		       "past the end of the file)";
	case AMEND_ERR_SCAN_IO:
		return SPEC_RETRY;
	case AMEND_ERR_SCAN_REQUIRED:
		return SPEC_OVERFLOW;
	case AMEND_ERR_SNAPSHOT_UPGRADE:
		return "cannot upgrade to compat=1.1: an internal snapshot lacks "
		       "the size fields compat=1.1 requires (it was written by a "
		       "QEMU older than 1.1); `qemu-img amend` can rewrite the "
		       "snapshot table";
	case AMEND_ERR_HEADER_NO_ROOM:
		return "the header extensions leave no room in the header "
		       "cluster for the header to be rewritten as it is, which "
		       "`qemu-img amend` does first (it fails on this image too: "
		       "no space left on device)";
	case AMEND_STATUS_COUNT_:
	default:
		return SPEC_OVERFLOW;
	}
}

const char *msg_image(enum image_err e)
{
	switch (e) {
	case IMAGE_OK:
		return "";
	case IMAGE_ERR_OPEN:
		return "cannot open '%s' for reading and writing: %s";
	case IMAGE_ERR_DIRECTORY:
		return "'%s' is a directory, not an image file";
	case IMAGE_ERR_NOT_FILE:
		return "'%s' is not a regular file or block device (FIFOs, "
		       "sockets and character devices are refused)";
	case IMAGE_ERR_STAT:
		return "cannot inspect '%s': %s";
	case IMAGE_ERR_READ:
		return "cannot read the header of '%s' (the file is shorter than "
		       "its header, or unreadable)";
	case IMAGE_ERR_LOCKED:
		return "'%s' is in use by another process (QEMU, qemu-nbd or "
		       "another instar holds its image lock); nothing was "
		       "written";
	case IMAGE_ERR_LOCK_FAILED:
		return "cannot take the image lock on '%s': %s";
	case IMAGE_ERR_NOMEM:
		return "out of memory while reading '%s'";
	case IMAGE_ERR_CHANGED:
		return SPEC_RETRY "";
	case IMAGE_ERR_WRITE:
		return "I/O error writing the image header";
	case IMAGE_ERR_COUNT_:
	default:
		return SPEC_OVERFLOW "";
	}
}

const char *msg_sandbox(enum sandbox_err e)
{
	switch (e) {
	case SANDBOX_OK:
		return "";
	case SANDBOX_ERR_KVM_UNAVAILABLE:
		return "/dev/kvm is not available: instar runs the image "
		       "parser in a KVM guest; load the kvm module (kvm_intel or "
		       "kvm_amd) or enable virtualisation";
	case SANDBOX_ERR_KVM_PERMISSION:
		return "permission denied opening /dev/kvm: run as root or add "
		       "your user to the kvm group";
	case SANDBOX_ERR_KVM_API:
		return "this kernel's KVM API is not one instar supports";
	case SANDBOX_ERR_VM_SETUP:
		return "could not set up the KVM sandbox (VM, memory or vCPU)";
	case SANDBOX_ERR_GUEST_TIMEOUT:
		return "the sandboxed guest did not finish within its time "
		       "budget; nothing was written";
	case SANDBOX_ERR_GUEST_EXIT_BUDGET:
		return "the sandboxed guest exceeded its budget of VM exits; "
		       "nothing was written";
	case SANDBOX_ERR_GUEST_SHUTDOWN:
		return "the sandboxed guest crashed (CPU exception); nothing was "
		       "written";
	case SANDBOX_ERR_GUEST_HALTED:
		return "the sandboxed guest stopped without a result; nothing "
		       "was written";
	case SANDBOX_ERR_GUEST_ENTRY_FAILED:
	case SANDBOX_ERR_GUEST_INTERNAL:
	case SANDBOX_ERR_UNEXPECTED_EXIT:
		return "the KVM sandbox stopped unexpectedly; nothing was written";
	case SANDBOX_ERR_BAD_DOORBELL:
	case SANDBOX_ERR_BAD_PORT_IO:
	case SANDBOX_ERR_BAD_MMIO:
	case SANDBOX_ERR_DEVICE_PROTOCOL:
		return "the sandboxed guest broke the device protocol; nothing "
		       "was written";
	case SANDBOX_ERR_BAD_WRITE:
		return "the sandboxed guest tried to write outside the header "
		       "cluster; nothing was written";
	case SANDBOX_ERR_HEADER_CHANGED:
		return SPEC_RETRY;
	case SANDBOX_ERR_SYSTEM_AREA:
		return "the sandboxed guest's page tables or GDT changed; "
		       "nothing was written";
	case SANDBOX_ERR_BAD_REPORT:
		return "the sandboxed guest broke the report protocol; nothing "
		       "was written";
	case SANDBOX_ERR_REPORT_REFUSED:
		return "the image has more findings than instar's report "
		       "ceiling holds; nothing was written";
	case SANDBOX_ERR_READ_ONLY_WRITE:
		return "the sandboxed guest tried to write to an image it may "
		       "only read; nothing was written";
	case SANDBOX_ERR_CONFIG:
	case SANDBOX_ERR_COUNT_:
	default:
		return SPEC_OVERFLOW;
	}
}

const char *msg_iargs(enum inspect_cmd cmd, enum iargs_err e)
{
	bool info = cmd == INSPECT_INFO;

	switch (e) {
	case IARGS_OK:
	case IARGS_HELP:
		return "";
	case IARGS_UNKNOWN_FLAG:
		return info ? "unknown flag '%s' (see instar info --help)"
			    : "unknown flag '%s' (see instar check --help)";
	case IARGS_MISSING_VALUE:
		return "flag '%s' needs a value";
	case IARGS_BAD_OUTPUT:
		return "invalid --output value '%s': use human or json";
	case IARGS_UNKNOWN_FORMAT:
		return "unknown format '%s': use -f qcow2 or -f raw";
	case IARGS_UNSUPPORTED_FORMAT:
		return "format '%s' is not supported yet: instar reads only qcow2 "
		       "and raw images";
	case IARGS_BAD_COMPAT:
		return "unknown --qemu-compat release '%s': use 5.2, 7.2, 10.0 or 11.1";
	case IARGS_NO_FILE:
		return info ? "no image file given (see instar info --help)"
			    : "no image file given (see instar check --help)";
	case IARGS_EXTRA_ARG:
		return "unexpected extra argument '%s': give exactly one image file";
	case IARGS_COUNT_:
	default:
		return SPEC_OVERFLOW;
	}
}

const char *msg_inspect(enum inspect_err e)
{
	switch (e) {
	case INSPECT_ERR_PROTOCOL:
		return "'%s' names a protocol (%s): instar reads local image files only";
	case INSPECT_ERR_FORMAT:
		return "'%s' is a %s image: instar reads only qcow2 and raw images "
		       "(not supported yet)";
	case INSPECT_ERR_NOT_FILE:
		return "'%s' is not a regular file or a block device";
	case INSPECT_ERR_REPORT:
		return "the sandboxed guest's report is malformed (%s); nothing "
		       "was printed";
	case INSPECT_ERR_MISMATCH:
		return "the sandboxed guest's report contradicts the image header "
		       "the host read; nothing was printed";
	case INSPECT_ERR_GUEST:
		return "the sandboxed guest could not inspect the image (%s)";
	case INSPECT_ERR_TOO_LARGE:
		return "the image has too many clusters for instar check's memory "
		       "ceiling (%s); nothing was checked";
	case INSPECT_ERR_ENCRYPTED:
		return "'%s' is encrypted: instar check does not check encrypted "
		       "images yet (not supported)";
	case INSPECT_ERR_IO:
		return "cannot read '%s': %s";
	case INSPECT_ERR_COUNT_:
	default:
		return SPEC_OVERFLOW;
	}
}

const char *msg_validate(enum validate_err e)
{
	switch (e) {
	case VALIDATE_AMENDED:
	case VALIDATE_NOOP:
	case VALIDATE_REFUSED:
		return "";
	case VALIDATE_ERR_GUEST_IO:
		return SPEC_RETRY;
	case VALIDATE_ERR_RECORD:
		return "the sandboxed guest returned a malformed result record; "
		       "nothing was written";
	case VALIDATE_ERR_WROTE_WITHOUT_CHANGE:
		return "the sandboxed guest wrote to the header although it "
		       "reported no change; nothing was written";
	case VALIDATE_ERR_NOOP_LIE:
		return "the sandboxed guest reported no change for a request that "
		       "changes the header; nothing was written";
	case VALIDATE_ERR_NO_WRITE:
		return "the sandboxed guest reported an amend but wrote nothing; "
		       "nothing was written";
	case VALIDATE_ERR_NOT_EXPECTED:
		return "the header the sandboxed guest wrote is not the one the "
		       "host computes for this request; nothing was written";
	case VALIDATE_ERR_REFUSAL_LIE:
		return "the sandboxed guest refused for a reason the image's "
		       "header contradicts; nothing was written";
	case VALIDATE_ERR_RECORD_MISMATCH:
		return "the sandboxed guest's result record disagrees with the "
		       "request; nothing was written";
	case VALIDATE_ERR_COUNT_:
	default:
		return SPEC_OVERFLOW;
	}
}

const char *msg_expand(enum expand_err e)
{
	switch (e) {
	case EXPAND_OK:
		return "";
	case EXPAND_ERR_LIST:
		return "the sandboxed guest named L2 tables outside the image; "
		       "nothing was written";
	case EXPAND_ERR_NOT_REFERENCED:
		return "the sandboxed guest named an L2 table no L1 table "
		       "references; nothing was written";
	case EXPAND_ERR_NO_ZERO:
		return "the sandboxed guest named an L2 table without zero "
		       "clusters; nothing was written";
	case EXPAND_ERR_ENTRY:
		return "a zero cluster's host offset is unaligned or outside the "
		       "image; nothing was written";
	case EXPAND_ERR_OVERLAP:
		return "a zero cluster, L2 table or refcount block overlaps other "
		       "metadata; nothing was written";
	case EXPAND_ERR_TABLES:
		return "the image's L1, snapshot or refcount tables are "
		       "malformed; nothing was written";
	case EXPAND_ERR_REFCOUNT:
		return "the image's refcounts disagree with its tables (run "
		       "`qemu-img check -r all`); nothing was written";
	case EXPAND_ERR_GROW:
		return "expanding the zero clusters needs a larger refcount "
		       "table or a growing file, which instar does not do; use "
		       "`qemu-img amend`; nothing was written";
	case EXPAND_ERR_CHANGED:
		return SPEC_RETRY;
	case EXPAND_ERR_READ:
	case EXPAND_ERR_WRITE:
	case EXPAND_ERR_NOMEM:
	case EXPAND_ERR_COUNT_:
	default:
		return SPEC_OVERFLOW;
	}
}

const char *msg_lockdown(enum lockdown_err e)
{
	switch (e) {
	case LOCKDOWN_OK:
		return "";
	case LOCKDOWN_ERR_CAPS_READ:
	case LOCKDOWN_ERR_CAPS_DROP:
	case LOCKDOWN_ERR_CAPS_LEFT:
		return "could not drop capabilities before opening /dev/kvm; "
		       "refusing to continue";
	case LOCKDOWN_ERR_NO_NEW_PRIVS:
		return "could not set no_new_privs; refusing to continue";
	case LOCKDOWN_ERR_FILTER:
	case LOCKDOWN_ERR_LOAD:
	case LOCKDOWN_ERR_TABLE:
		return "could not install the seccomp allow-list; refusing to "
		       "continue";
	case LOCKDOWN_ERR_TIGHTEN:
		return "could not narrow the seccomp allow-list after building "
		       "the VM; the guest was not started and nothing was "
		       "written";
	case LOCKDOWN_ERR_PROFILE:
	case LOCKDOWN_ERR_BINDING:
	case LOCKDOWN_ERR_COUNT_:
	default:
		return SPEC_OVERFLOW;
	}
}

const char *msg_stdout(void)
{
	return "cannot write to standard output: %s";
}
