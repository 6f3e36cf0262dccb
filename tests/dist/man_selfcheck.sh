#!/bin/bash
# tests/dist/man_selfcheck.sh — man_test.sh must be able to fail: a page
# that lost an option (instar-amend(1) without --stats), a page with a
# macro groff warns about, a missing page (no instar-seccomp(1)) and
# docs that no longer mention an option (--stats) must each fail the
# case that checks it. The broken inputs are copies of the real ones,
# edited (selfcheck_lib.sh). One JUnit testcase per proof.
# Usage: man_selfcheck.sh MAN_TEST INSTAR PAGE... -- DOC...
set -u
TEST=$(readlink -f "$1")
INSTAR=$(readlink -f "$2")
shift 2
pages=() docs=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	pages+=("$(readlink -f "$1")")
	shift
done
[ $# -gt 0 ] && shift
for d in "$@"; do docs+=("$(readlink -f "$d")"); done
JUNIT=$(readlink -f "${JUNIT_SH:-tests/lib/junit.sh}")
WORK=$(mktemp -d "${TEST_TMPDIR:-/tmp}/man_selfcheck.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# shellcheck source=tests/lib/junit.sh
source "$JUNIT"
# shellcheck source=tests/dist/selfcheck_lib.sh
source "$(dirname "$TEST")/selfcheck_lib.sh"
junit_init man_selfcheck "$WORK"
export JUNIT_SH=$JUNIT TEST_TMPDIR=$WORK

# set NAME: a directory of copies of the real pages.
set_of() {
	mkdir -p "$WORK/$1"
	cp "${pages[@]}" "$WORK/$1/"
}

set_of nostats
broken_copy "${pages[0]%/*}/instar-amend.1" "$WORK/nostats/instar-amend.1" '/stats/d'
expect_failure "a page without an option of its --help fails it" \
	"instar-amend(1) shows every option of its --help" -- \
	bash "$TEST" "$INSTAR" "$WORK"/nostats/*.1 -- "${docs[@]}"

set_of badmacro
broken_copy "${pages[0]%/*}/instar.1" "$WORK/badmacro/instar.1" '/^\.SH NAME/i .ZZ unknown macro'
expect_failure "a page groff warns about fails it" \
	"instar(1) renders without warnings" -- \
	bash "$TEST" "$INSTAR" "$WORK"/badmacro/*.1 -- "${docs[@]}"

set_of missing
rm -f "$WORK/missing/instar-seccomp.1"
expect_failure "a command without a page fails it" \
	"every command of instar --help has a page, every page a command" -- \
	bash "$TEST" "$INSTAR" "$WORK"/missing/*.1 -- "${docs[@]}"

mkdir -p "$WORK/docs"
for d in "${docs[@]}"; do
	sed 's/--stats//g' "$d" >"$WORK/docs/$(basename "$d")"
done
if grep -q -- --stats "${docs[@]}"; then
	expect_failure "docs that lost an option fail it" \
		"the docs describe instar amend and every option of its --help" -- \
		bash "$TEST" "$INSTAR" "${pages[@]}" -- "$WORK"/docs/*
else
	junit_case "docs that lost an option fail it" fail "the docs given never mention --stats"
fi
junit_finish
