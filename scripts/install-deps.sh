#!/usr/bin/env bash
# install-deps.sh — install the Debian 12 packages instar builds and tests
# with. Everything comes from Debian's archive; nothing else is fetched.
# Then the qemu-img releases the info/check tests compare with
# (scripts/install-oracles.sh, also from Debian's archive). Idempotent:
# apt-get runs only when a package is missing.
set -euo pipefail

PACKAGES=(
	# Bazel 4.2.3, used fully offline (see WORKSPACE, third_party/)
	bazel-bootstrap
	# compiler for host, guest and fuzzers; libFuzzer, sanitizers, llvm-cov
	clang-14 libfuzzer-14-dev libclang-rt-14-dev llvm-14
	# static analysis (//tests/clang_tidy, /.clang-tidy)
	clang-tidy-14
	# AFL++ 4.04c
	afl++
	# googletest
	libgtest-dev
	# host lockdown: seccomp allow-list and capability dropping
	libseccomp-dev libcap-ng-dev
	# qemu-img / qemu-io / qemu-nbd: the reference oracle of the tests
	qemu-utils
	# benchmark, seccomp ordering test, test-result summary, objcopy,
	# /usr/bin/time (peak RSS in bench/)
	hyperfine strace python3 binutils time
	# the source revision in `instar --version` (build/workspace_status.sh)
	# and the shell-script lint (//tests/lint)
	git shellcheck
	# manual pages made from --help at build time (man/), rendered and
	# checked by //tests/dist:man_test; bash completion (completion/),
	# driven by //tests/dist:completion_test
	help2man man-db groff-base bash-completion
	# the other qemu-img releases info/check are compared with
	# (scripts/install-oracles.sh: bullseye and sid roots)
	debootstrap debian-archive-keyring
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -gt 0 ]; then
	echo "install-deps: installing: ${missing[*]}"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	$SUDO apt-get update -q
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q \
		--no-install-recommends "${missing[@]}"
else
	echo "install-deps: all ${#PACKAGES[@]} packages present"
fi

# The qemu-img releases //tests/inspect compares instar info and check
# with (5.2, 7.2, 10.0, 11.1), from Debian's archive into
# /var/cache/instar-oracles; seconds when they are already there.
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO bash "$(dirname "$0")/install-oracles.sh"
