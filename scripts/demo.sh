#!/usr/bin/env bash
# demo.sh — the README's demo: build instar, make a sample qcow2 v2 image
# with qemu-img, show it with `instar info`, upgrade it with `instar amend`
# to v3 with lazy refcounts, show it again (and `qemu-img info` beside
# it: the same bytes), and check it with `instar check`.
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
echo "--- instar info (before)"
"$INSTAR" info "$img"
echo
echo "--- instar amend -o compat=1.1,lazy_refcounts=on sample.qcow2"
"$INSTAR" amend -o compat=1.1,lazy_refcounts=on "$img"
echo
# Debian 12's qemu-img is 7.2; instar prints as the release it is told.
qv=$(qemu-img --version | sed -n '1s/^qemu-img version \([0-9]*\.[0-9]*\).*/\1/p')
echo "--- instar info --qemu-compat $qv (after; as this system's qemu-img $qv prints)"
"$INSTAR" info --qemu-compat "$qv" "$img" | tee instar-info.txt
echo
echo "--- qemu-img info (after): the same output"
qemu-img info "$img" | tee qemu-info.txt
if cmp -s instar-info.txt qemu-info.txt; then
	echo "(identical)"
else
	echo "demo: instar info and qemu-img info differ:" >&2
	diff instar-info.txt qemu-info.txt >&2 || true
	exit 1
fi
echo
echo "--- instar amend --output json -o compat=1.1 sample.qcow2 (already v3: a no-op)"
"$INSTAR" amend --output json -o compat=1.1 "$img"
echo
echo "--- instar check"
"$INSTAR" check "$img"
