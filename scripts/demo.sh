#!/usr/bin/env bash
# demo.sh — the README's demo: build instar, make a sample qcow2 v2 image
# with qemu-img, show `qemu-img info`, upgrade it with `instar amend` to
# v3 with lazy refcounts, and show `qemu-img info` again.
#
# INSTAR=path/to/instar skips the build (setup.sh passes the installed
# one). BAZEL (default "bazel") and BAZEL_BUILD_FLAGS let you build with
# another output base.
# Needs /dev/kvm: run as root or as a member of the kvm group.
set -euo pipefail
cd "$(dirname "$0")/.."

BAZEL=${BAZEL:-bazel}
if [ -z "${INSTAR:-}" ]; then
	# shellcheck disable=SC2086  # both are word lists on purpose
	$BAZEL build ${BAZEL_BUILD_FLAGS:-} //src/cli:instar
	# shellcheck disable=SC2086 # both are word lists on purpose
	INSTAR=$($BAZEL info ${BAZEL_BUILD_FLAGS:-} bazel-bin 2>/dev/null)/src/cli/instar
fi

INSTAR=$(readlink -f "$INSTAR")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
img=sample.qcow2

echo "--- instar --version ($INSTAR)"
"$INSTAR" --version
echo
echo "--- qemu-img create -f qcow2 -o compat=0.10 sample.qcow2 64M (and 1 MiB of data)"
qemu-img create -q -f qcow2 -o compat=0.10 "$img" 64M
qemu-io -f qcow2 -c 'write -P 0x5a 0 1M' "$img" >/dev/null
echo
echo "--- qemu-img info (before)"
qemu-img info "$img"
echo
echo "--- instar amend -o compat=1.1,lazy_refcounts=on sample.qcow2"
"$INSTAR" amend -o compat=1.1,lazy_refcounts=on "$img"
echo
echo "--- qemu-img info (after)"
qemu-img info "$img"
echo
echo "--- instar amend --output json -o compat=1.1 sample.qcow2 (already v3: a no-op)"
"$INSTAR" amend --output json -o compat=1.1 "$img"
echo
echo "--- qemu-img check"
qemu-img check "$img"
