#!/bin/bash
# tests/lint/shellcheck_selfcheck.sh — shellcheck_test.sh must be able
# to fail. On scripts made here it must fail a script with a finding
# (SC2086), a `disable=` without a reason, a bad script that a git work
# tree holds but the test was not given (linted from the tree), and a
# tree it cannot find; and it must pass a clean script. One JUnit
# testcase per proof (tests/lib/junit.sh).
# Usage: shellcheck_selfcheck.sh SHELLCHECK_TEST
set -u
TEST=$(readlink -f "$1")
JUNIT=$(readlink -f "${JUNIT_SH:-tests/lib/junit.sh}")
S=$(mktemp -d "${TEST_TMPDIR:-/tmp}/shellcheck_selfcheck.XXXXXX")
trap 'rm -rf "$S"' EXIT
# shellcheck source=tests/lib/junit.sh
source "$JUNIT"
junit_init shellcheck_selfcheck "$S"

mkdir -p "$S/given" "$S/tree" "$S/nogit"
cat >"$S/given/good.sh" <<'EOF'
#!/bin/bash
set -u
# shellcheck disable=SC2034 # read by whoever sources this file
UNUSED=1
echo "${1:-}"
EOF
cat >"$S/given/bad.sh" <<'EOF'
#!/bin/bash
f=$1
rm $f
EOF
# The directive is put together here: this file's own are checked too.
{
	echo '#!/bin/bash'
	echo "# shellcheck disable""=SC2034"
	echo 'UNUSED=1'
} >"$S/given/noreason.sh"
cp "$S/given/good.sh" "$S/tree/good.sh"
cat >"$S/tree/hidden_bad" <<'EOF'
#!/usr/bin/env bash
cd $1
EOF
echo 'not a script: x = 1' >"$S/tree/notes.txt"
if ! { git -C "$S/tree" init -q && git -C "$S/tree" add good.sh hidden_bad notes.txt; }; then
	junit_case "set-up: a git work tree" fail "git init/add failed"
fi

# run NAME DIR ARGS...: shellcheck_test.sh ARGS in DIR; RC, LOG, XML.
run() {
	local name=$1 dir=$2
	shift 2
	LOG=$S/$name.log XML=$S/$name.xml
	(cd "$dir" && JUNIT_SH=$JUNIT XML_OUTPUT_FILE=$XML bash "$TEST" "$@") >"$LOG" 2>&1
	RC=$?
}
# prove NAME CONDITION...: one testcase; its output is the run's log.
prove() {
	local name=$1
	shift
	if "$@"; then
		junit_case "$name" pass "" 0 "$(cat "$LOG")"
	else
		junit_case "$name" fail "not shown by: $*" 0 "$(cat "$LOG")"
	fi
}
has() { grep -qF -- "$1" "$LOG"; }
lacks() { ! grep -qF -- "$1" "$LOG"; }
failed_run() { [ "$RC" -ne 0 ]; }
passed_case() { grep -qE "name=\"$1\" time=\"[0-9]+\"></testcase>" "$XML"; }

run given "$S/given" --no-tree good.sh bad.sh noreason.sh
prove "a script with a finding fails it" \
	has "FAIL shellcheck bad.sh: bad.sh:3:4: note: Double quote to prevent globbing and word splitting. [SC2086]"
prove "a disable without a reason fails it" \
	has "FAIL shellcheck noreason.sh: 2:# shellcheck disable""=SC2034  <- shellcheck disable without a reason comment on the same line"
prove "a clean script with a reasoned disable passes" passed_case "shellcheck good.sh"
prove "the run with bad scripts exits non-zero" failed_run

run tree "$S/tree" --tree "$S/tree" good.sh
prove "a bad script of the work tree it was not given fails it" \
	has "FAIL shellcheck hidden_bad: hidden_bad:2:1: warning: Use 'cd ... || exit'"
prove "the work tree's scripts it was not given are named" \
	has "  hidden_bad"
prove "a work tree file that is no script is not linted" lacks "notes.txt"
prove "the run with a bad script in the tree exits non-zero" failed_run

run nogit "$S/nogit" --tree "$S/nogit" "$S/given/good.sh"
prove "a work tree it cannot find fails it" \
	has "FAIL every script of the work tree is linted: cannot find the git work tree"
prove "the run without a work tree exits non-zero" failed_run

run clean "$S/given" --no-tree good.sh
prove "only clean scripts: it passes" has "lint: 1 passed, 0 failed"
prove "only clean scripts: it exits 0" test "$RC" -eq 0
junit_finish
