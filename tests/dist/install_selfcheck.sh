#!/bin/bash
# tests/dist/install_selfcheck.sh — install_test.sh must be able to
# fail: an install script that forgets the manual pages must fail its
# "every listed file landed" case, one whose --uninstall leaves the bash
# completion behind its "--uninstall removes every file" case
# (fake_install.sh). One JUnit testcase per proof.
# Usage: install_selfcheck.sh INSTALL_TEST FAKE_INSTALL
# Run where install_test.sh runs (the runfiles root).
set -u
TEST=$(readlink -f "$1")
FAKE=$(readlink -f "$2")
JUNIT=$(readlink -f "${JUNIT_SH:-tests/lib/junit.sh}")
WORK=$(mktemp -d "${TEST_TMPDIR:-/tmp}/install_selfcheck.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# shellcheck source=tests/lib/junit.sh
source "$JUNIT"
# shellcheck source=tests/dist/selfcheck_lib.sh
source "$(dirname "$TEST")/selfcheck_lib.sh"
junit_init install_selfcheck "$WORK"
export JUNIT_SH=$JUNIT TEST_TMPDIR=$WORK

FAKE_INSTALL_BREAK=forget-man expect_failure \
	"an install that forgets the manual pages fails it" \
	"every listed file landed, with its mode and bytes" -- bash "$TEST" "$FAKE"
FAKE_INSTALL_BREAK=keep-on-uninstall expect_failure \
	"an uninstall that leaves a file behind fails it" \
	"--uninstall removes every file and directory it installed" -- bash "$TEST" "$FAKE"
junit_finish
