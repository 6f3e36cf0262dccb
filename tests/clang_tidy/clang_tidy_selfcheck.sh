#!/bin/bash
# tests/clang_tidy/clang_tidy_selfcheck.sh — clang_tidy_test.sh must be
# able to fail. On the logs build/clang_tidy.bzl's aspect wrote for the
# fixtures of selfcheck/ it must fail a source with a real finding
# (finding.c: a leak, clang-analyzer-unix.Malloc) and one whose finding
# is silenced by a NOLINT without a check and a reason; it must pass the
# clean hosted and freestanding fixtures (which #error unless their
# target's flags reached clang-tidy). On logs made here it must fail a
# run that exited non-zero without a finding (a crash), a log without an
# exit status, a missing log and an empty manifest. One JUnit testcase
# per proof (tests/lib/junit.sh).
# Usage: clang_tidy_selfcheck.sh CLANG_TIDY_TEST FINDING NOLINT CLEAN
#   (the last three: manifests of clang_tidy_logs rules)
set -u
TEST=$(readlink -f "$1")
FINDING=$2 NOLINT=$3 CLEAN=$4
JUNIT=$(readlink -f "${JUNIT_SH:-tests/lib/junit.sh}")
S=$(mktemp -d "${TEST_TMPDIR:-/tmp}/clang_tidy_selfcheck.XXXXXX")
trap 'rm -rf "$S"' EXIT
# shellcheck source=tests/lib/junit.sh
source "$JUNIT"
junit_init clang_tidy_selfcheck "$S"

# run NAME ARGS...: clang_tidy_test.sh ARGS here (the runfiles root,
# where the manifests' paths resolve); RC, LOG.
run() {
	local name=$1
	shift
	LOG=$S/$name.log
	JUNIT_SH=$JUNIT XML_OUTPUT_FILE=$S/$name.xml bash "$TEST" "$@" >"$LOG" 2>&1
	RC=$?
	echo "=== clang_tidy_test.sh $* (exit status $RC)"
	cat "$LOG"
}
# prove NAME CONDITION...: one testcase; its output is the run's log.
prove() {
	local name=$1
	shift
	if "$@"; then
		junit_case "$name" pass "" 0 "$(cat "$LOG")" clang_tidy_selfcheck
	else
		junit_case "$name" fail "condition failed: $*"$'\n'"$(cat "$LOG")" 0 "" clang_tidy_selfcheck
	fi
}
failed_with() {   # PATTERN...: the run failed and its log holds each
	[ "$RC" -ne 0 ] || return 1
	local p
	for p in "$@"; do grep -qF -- "$p" "$LOG" || return 1; done
}
passed_with() {   # PATTERN
	[ "$RC" -eq 0 ] && grep -qF -- "$1" "$LOG"
}

run finding --no-tree "$FINDING"
prove "a real finding fails its file" failed_with \
	"FAIL clang-tidy tests/clang_tidy/selfcheck/finding.c" \
	"[clang-analyzer-unix.Malloc," "clang_tidy: 1 passed, 1 failed"

run nolint --no-tree "$NOLINT"
prove "a NOLINT without a check and a reason fails its file" failed_with \
	"FAIL clang-tidy tests/clang_tidy/selfcheck/nolint_no_reason.c" \
	"/* NOLINT */  <- NOLINT without the check's name and a reason"

run clean --no-tree "$CLEAN"
prove "clean hosted and freestanding sources pass, with their targets' flags" passed_with \
	"clang_tidy: 3 passed, 0 failed"

# Logs as the aspect writes them, made up: a crash, a truncated log.
mkdir -p "$S/fake"
{
	echo "file: fake/crash.c"
	echo "target: //fake:crash"
	echo "command: clang-tidy fake/crash.c --"
	echo "Stack dump:"
	echo "clang-tidy exit status: 139"
} >"$S/fake/crash.log"
{
	echo "file: fake/cut.c"
	echo "target: //fake:cut"
	echo "command: clang-tidy fake/cut.c --"
} >"$S/fake/cut.log"
printf 'log %s\n' "$S/fake/crash.log" >"$S/crash.manifest"
printf 'log %s\n' "$S/fake/cut.log" >"$S/cut.manifest"
printf 'log %s\n' "$S/fake/none.log" >"$S/none.manifest"
: >"$S/empty.manifest"

run crash --no-tree "$S/crash.manifest"
prove "a run that exits non-zero without a finding fails" failed_with \
	"FAIL clang-tidy fake/crash.c" "exit status 139"
run cut --no-tree "$S/cut.manifest"
prove "a log without an exit status fails" failed_with \
	"FAIL clang-tidy fake/cut.c" "exit status missing"
run none --no-tree "$S/none.manifest"
prove "a missing log fails" failed_with "no such log"
run empty --no-tree "$S/empty.manifest"
prove "an empty manifest fails" failed_with "lists no logs"

junit_finish
