#!/bin/bash
# tests/dist/version_selfcheck.sh — version_test.sh must be able to
# fail: a binary whose --version has no revision, one that names a
# commit the work tree is not at, a stamp generator that lets any value
# through, and a status script that never says -dirty must each fail
# the case that checks it. The fakes are the real scripts edited
# (selfcheck_lib.sh) and a wrapper around the real binary. One JUnit
# testcase per proof.
# Usage: version_selfcheck.sh VERSION_TEST INSTAR WORKSPACE_STATUS STAMP_REVISION
set -u
TEST=$(readlink -f "$1")
INSTAR=$(readlink -f "$2")
STATUS=$(readlink -f "$3")
STAMP=$(readlink -f "$4")
JUNIT=$(readlink -f "${JUNIT_SH:-tests/lib/junit.sh}")
WORK=$(mktemp -d "${TEST_TMPDIR:-/tmp}/version_selfcheck.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# shellcheck source=tests/lib/junit.sh
source "$JUNIT"
# shellcheck source=tests/dist/selfcheck_lib.sh
source "$(dirname "$TEST")/selfcheck_lib.sh"
junit_init version_selfcheck "$WORK"
export JUNIT_SH=$JUNIT TEST_TMPDIR=$WORK

# fake_instar FILE VERSION_LINE: answers --version/-V with the line,
# everything else with the real binary.
fake_instar() {
	# shellcheck disable=SC2016 # $1 and $@ are the fake's, not expanded here
	printf '#!/bin/sh\ncase $1 in --version | -V) echo "%s"; exit 0 ;; esac\nexec %s "$@"\n' \
		"$2" "$INSTAR" >"$1"
	chmod +x "$1"
}

fake_instar "$WORK/norev" "instar 0.1.0"
expect_failure "a --version without a revision fails it" \
	"instar --version: one line, version and source revision" -- \
	bash "$TEST" "$WORK/norev" "$STATUS" "$STAMP"

fake_instar "$WORK/otherrev" "instar 0.1.0 (git 0000000)"
expect_failure "a --version naming another commit fails it" \
	"instar --version: the revision of the work tree it was built from" -- \
	bash "$TEST" "$WORK/otherrev" "$STATUS" "$STAMP"

broken_copy "$STAMP" "$WORK/stamp_any.sh" 's/^if printf .*grep -Eqx .*; then$/if true; then/'
expect_failure "a stamp that lets any value through fails it" \
	"stamp: anything else becomes revision unknown" -- \
	bash "$TEST" "$INSTAR" "$STATUS" "$WORK/stamp_any.sh"

# shellcheck disable=SC2016 # a sed script matching the status script's text
broken_copy "$STATUS" "$WORK/never_dirty.sh" 's/revision="$revision-dirty"/:/'
expect_failure "a status that never says -dirty fails it" \
	"status: a changed tracked file makes it -dirty" -- \
	bash "$TEST" "$INSTAR" "$WORK/never_dirty.sh" "$STAMP"
junit_finish
