#!/bin/bash
# tests/dist/man_test.sh — instar's manual pages (//man:pages) against
# the binary they document and against docs/. One JUnit testcase per
# check:
#
#   each page renders with `man -l` (a NAME line naming the page), and
#     neither `groff -ww -z` (every warning) nor `man --warnings` warns;
#   each page shows every option its --help lists (instar(1): `instar
#     --help`; instar-COMMAND(1): `instar COMMAND --help`), read here
#     with grep, not with help2man's parser;
#   each page's footer is this binary's `instar --version`;
#   every command `instar --help` lists has a page, and every page a
#     command (man/BUILD's MAN_COMMANDS is complete);
#   docs/ and the README name each command (`instar COMMAND`) and every
#     option of its --help.
#
# Usage: man_test.sh INSTAR PAGE... -- DOC...
# Needs man-db and groff (scripts/install-deps.sh).
set -uo pipefail
export LC_ALL=C

INSTAR=$(readlink -f "${1:?usage: man_test.sh INSTAR PAGE... -- DOC...}")
shift
pages=() docs=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	pages+=("$(readlink -f "$1")")
	shift
done
[ $# -gt 0 ] && shift
docs=("$@")
WORK=$(mktemp -d "${TEST_TMPDIR:-/tmp}/man_test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# shellcheck source=tests/lib/junit.sh
source "${JUNIT_SH:-tests/lib/junit.sh}" || { echo "man_test: cannot source junit.sh" >&2; exit 2; }
junit_init man_test "$WORK"

problems=""
problem() { problems+="$*"$'\n'; }
check() {   # NAME [OUTPUT]
	if [ -z "$problems" ]; then
		junit_case "$1" pass "" 0 "${2:-}"
	else
		junit_case "$1" fail "$problems" 0 "${2:-}"
	fi
	problems=""
}

# The flags of `instar [COMMAND] --help`: every -x or --word at the
# start of an option line (indented 2 to 6 blanks) or after its ", ".
help_flags() {
	"$INSTAR" "$@" --help 2>/dev/null | grep -E '^ {2,6}-' | sed -E 's/^ +//; s/  .*//' |
		grep -oE '(^|, )--?[A-Za-z][A-Za-z0-9-]*' | sed 's/^, //' | sort -u
}
mapfile -t commands < <("$INSTAR" --help | sed -n '/^Commands:/,/^$/p' | awk '/^  [a-z]/ { print $1 }')
version=$("$INSTAR" --version | head -1)

# ---------------------------------------------------------------------
# Each page.
[ "${#pages[@]}" -gt 0 ] || { junit_case "pages given" fail "no page was given"; junit_finish; exit 1; }
for page in "${pages[@]}"; do
	base=$(basename "$page" .1)
	cmd=${base#instar}
	cmd=${cmd#-}
	# Rendered as a reader sees it: no hyphenation, no justification,
	# lines long enough that an option is never split.
	MANWIDTH=200 man --nh --nj -l "$page" >"$WORK/$base.txt" 2>"$WORK/$base.man.err"
	rc=$?
	[ "$rc" = 0 ] || problem "man -l exited $rc: $(cat "$WORK/$base.man.err")"
	grep -Eq "^ +$base - [a-z]" "$WORK/$base.txt" || problem "no NAME line '$base - ...': $(sed -n '1,6p' "$WORK/$base.txt")"
	grep -q '^SYNOPSIS' "$WORK/$base.txt" || problem "no SYNOPSIS section"
	groff -ww -z -man "$page" 2>"$WORK/$base.groff.err"
	[ ! -s "$WORK/$base.groff.err" ] || problem "groff -ww -z: $(cat "$WORK/$base.groff.err")"
	MANWIDTH=80 man --warnings -l "$page" >/dev/null 2>"$WORK/$base.warn.err"
	[ ! -s "$WORK/$base.warn.err" ] || problem "man --warnings: $(cat "$WORK/$base.warn.err")"
	check "$base(1) renders without warnings" "$(head -c 3000 "$WORK/$base.txt")"

	if [ -n "$cmd" ]; then
		mapfile -t flags < <(help_flags "$cmd")
	else
		mapfile -t flags < <(help_flags)
	fi
	[ "${#flags[@]}" -gt 0 ] || problem "instar $cmd --help lists no option"
	for f in "${flags[@]}"; do
		grep -Eq -- "(^|[^A-Za-z0-9-])$f([^A-Za-z0-9-]|$)" "$WORK/$base.txt" ||
			problem "$f (listed by 'instar $cmd --help') is not in $base(1)"
	done
	check "$base(1) shows every option of its --help" "${flags[*]}"

	th=$(grep -m1 '^\.TH ' "$page")
	[[ $th == *"\"$version\""* ]] || problem ".TH '$th' does not carry '$version'"
	check "$base(1) was made from this instar ($version)" "$th"
done

# ---------------------------------------------------------------------
# A page for every command, a command for every page.
want=$( (echo instar; for c in "${commands[@]}"; do echo "instar-$c"; done) | sort)
got=$(for p in "${pages[@]}"; do basename "$p" .1; done | sort)
[ "${#commands[@]}" -gt 0 ] || problem "instar --help lists no command"
if [ "$got" != "$want" ]; then
	problem "pages and commands differ (< wanted from instar --help, > pages built):"
	problem "$(diff <(echo "$want") <(echo "$got") | grep '^[<>]')"
	problem "add the command to MAN_COMMANDS in man/BUILD"
fi
check "every command of instar --help has a page, every page a command" "$got"

# ---------------------------------------------------------------------
# docs/: each command and each of its options is described.
if [ "${#docs[@]}" -eq 0 ]; then
	junit_case "docs given" fail "no documentation file was given"
else
	cat "${docs[@]}" >"$WORK/docs.txt"
	for c in "${commands[@]}"; do
		grep -q "instar $c" "$WORK/docs.txt" || problem "no 'instar $c' in ${docs[*]}"
		mapfile -t flags < <(help_flags "$c")
		for f in "${flags[@]}"; do
			grep -Eq -- "(^|[^A-Za-z0-9-])$f([^A-Za-z0-9-]|$)" "$WORK/docs.txt" ||
				problem "$f (instar $c --help) is not in the docs"
		done
		check "the docs describe instar $c and every option of its --help" "${flags[*]}"
	done
fi

junit_finish
