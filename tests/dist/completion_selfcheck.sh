#!/bin/bash
# tests/dist/completion_selfcheck.sh — completion_test.sh must be able to
# fail: a completion that offers a compat value instar refuses must fail
# its "-o compat values" and "every value offered is accepted" cases,
# and one that registers nothing for instar its "commands" case. The
# broken completions are the real one edited (selfcheck_lib.sh). One
# JUnit testcase per proof.
# Usage: completion_selfcheck.sh COMPLETION_TEST COMPLETION INSTAR
set -u
TEST=$(readlink -f "$1")
COMPLETION=$(readlink -f "$2")
INSTAR=$(readlink -f "$3")
JUNIT=$(readlink -f "${JUNIT_SH:-tests/lib/junit.sh}")
WORK=$(mktemp -d "${TEST_TMPDIR:-/tmp}/completion_selfcheck.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# shellcheck source=tests/lib/junit.sh
source "$JUNIT"
# shellcheck source=tests/dist/selfcheck_lib.sh
source "$(dirname "$TEST")/selfcheck_lib.sh"
junit_init completion_selfcheck "$WORK"
export JUNIT_SH=$JUNIT TEST_TMPDIR=$WORK

broken_copy "$COMPLETION" "$WORK/extra_value.bash" 's/compat) echo 0\.10 1\.1 ;;/compat) echo 0.10 1.1 2.0 ;;/'
expect_failure "a value instar refuses fails the values case" \
	"-o compat values" -- bash "$TEST" "$WORK/extra_value.bash" "$INSTAR"
expect_failure "a value instar refuses fails the acceptance case" \
	"every value offered is accepted by instar" -- bash "$TEST" "$WORK/extra_value.bash" "$INSTAR"

broken_copy "$COMPLETION" "$WORK/unregistered.bash" 's/complete -F _instar instar/true/'
expect_failure "a completion registered for nothing fails it" \
	"commands: those of instar --help" -- bash "$TEST" "$WORK/unregistered.bash" "$INSTAR"
junit_finish
