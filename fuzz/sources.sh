# sources.sh — sourced by fuzz/build.sh and fuzz/coverage.sh: which C
# files each fuzz target links, for builds outside Bazel. Keep in step
# with the libraries' BUILD files (Bazel collects them itself, fuzz.bzl).
# shellcheck shell=bash
QCOW2="src/qcow2/image_format.c src/qcow2/qcow2_parse.c src/qcow2/qcow2_snapshot.c
       src/qcow2/qcow2_walk.c src/qcow2/qcow2_write.c"
AMEND="$QCOW2 src/amend/amend_apply.c src/amend/amend_diff.c
       src/amend/amend_layout.c src/amend/amend_plan.c src/amend/amend_scan.c"
VALIDATE="$AMEND sandbox/validate.c"
# shellcheck disable=SC2034 # LIBS is read by build.sh, which sources this file
declare -A LIBS=(
	[qcow2_header]="$QCOW2"
	[amend_plan]="$VALIDATE"
	[amend_scan]="$AMEND"
	[amend_diff]="$AMEND"
	[amend_args]="src/cli/amend_args.c src/cli/amend_options.c"
	[virtio_device]="sandbox/guest_mem.c sandbox/staging.c sandbox/virtio_blk.c
	                 sandbox/virtio_mmio.c sandbox/virtqueue.c"
	[validate]="$VALIDATE"
	[policy_parse]="seccomp/policy_parse.c seccomp/policy_symbols.c"
	[qcow2_snapshot]="$QCOW2"
)
