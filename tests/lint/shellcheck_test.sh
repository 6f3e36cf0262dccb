#!/bin/bash
# tests/lint/shellcheck_test.sh — every shell script of the repository
# passes `shellcheck -x` with zero findings (all severities), and every
# `# shellcheck disable=` directive carries its reason, as a comment on
# the same line. One JUnit testcase per script (tests/lib/junit.sh).
#
# The scripts come two ways: the FILE arguments (Bazel's data, paths
# relative to the current directory, which is where `# shellcheck
# source=` paths resolve), and the git work tree the test's own files
# live in: every tracked or new (not ignored) *.sh or sh/bash script of
# the tree that was not given is linted there, and named in the output as
# missing from the test's data. A tree that cannot be found fails the
# coverage case: the test cannot then say that every script was linted.
#
# Usage: shellcheck_test.sh [--tree DIR | --no-tree] FILE...
# Trusts: shellcheck (Debian's 0.9) and git; the scripts are only read.
set -uo pipefail

tree="" use_tree=1
case ${1:-} in
--tree) tree=$2; shift 2 ;;
--no-tree) use_tree=0; shift ;;
esac

WORK=$(mktemp -d "${TEST_TMPDIR:-/tmp}/shellcheck.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# shellcheck source=tests/lib/junit.sh
source "${JUNIT_SH:-tests/lib/junit.sh}" || { echo "shellcheck_test: cannot source junit.sh" >&2; exit 2; }
junit_init lint "$WORK"
command -v shellcheck >/dev/null || { echo "shellcheck_test: shellcheck missing" >&2; exit 2; }
echo "shellcheck_test: $(shellcheck --version | sed -n 's/^version: /shellcheck /p')"

# A repository path for a runfiles path (external repositories are
# third_party/ directories of this one).
repo_path() {
	case $1 in
	external/remote_coverage_tools/*) echo "third_party/remote_coverage_tools/${1#external/remote_coverage_tools/}" ;;
	*) echo "$1" ;;
	esac
}

# Directives without a reason: "# shellcheck disable=CODES" with nothing
# after the codes but blanks, or with text that is not a "#" comment.
unexplained() {   # FILE
	grep -nE '^[[:space:]]*#[[:space:]]*shellcheck[[:space:]]+(.*[[:space:]])?disable=' "$1" |
		grep -vE 'disable=[A-Za-z0-9,-]+([[:space:]]+[a-z-]+=[^[:space:]]+)*[[:space:]]+#[[:space:]]*[^[:space:]]' |
		sed 's/$/  <- shellcheck disable without a reason comment on the same line/'
}

# lint DIR PATH NOTE: one testcase for the script PATH, run from DIR.
lint() {
	local dir=$1 path=$2 note=$3 out t0=$SECONDS
	out=$(cd "$dir" && shellcheck -x -f gcc -- "$path" 2>&1; unexplained "$path")
	local name
	name="shellcheck $(repo_path "$path")"
	if [ -z "$out" ]; then
		junit_case "$name" pass "" $((SECONDS - t0)) "$note" lint.shellcheck
	else
		junit_case "$name" fail "$out" $((SECONDS - t0)) "$note" lint.shellcheck
	fi
}

declare -A given=()
[ $# -gt 0 ] || [ "$use_tree" = 1 ] || { echo "shellcheck_test: no scripts given" >&2; exit 2; }
for f in "$@"; do
	if [ ! -f "$f" ]; then
		junit_case "shellcheck $(repo_path "$f")" fail "no such file: $f" 0 "" lint.shellcheck
		continue
	fi
	lint . "$f" ""
	given[$(repo_path "$f")]=1
done

[ "$use_tree" = 1 ] || { junit_finish; exit; }

# The work tree: where this test's own files (symlinks in runfiles) lead.
if [ -z "$tree" ]; then
	for f in "${JUNIT_SH:-tests/lib/junit.sh}" "$@"; do
		[ -e "$f" ] || continue
		d=$(dirname "$(readlink -f "$f")")
		tree=$(git -C "$d" rev-parse --show-toplevel 2>/dev/null) && break
		tree=""
	done
fi
if [ -z "$tree" ] || ! git -C "$tree" rev-parse --show-toplevel >/dev/null 2>&1; then
	junit_case "every script of the work tree is linted" fail \
		"cannot find the git work tree (tree '${tree}'): the scripts not given cannot be listed" \
		0 "" lint
	junit_finish
	exit
fi
# Tracked and new scripts: *.sh, or a first line that runs sh or bash.
git -C "$tree" ls-files -z --cached --others --exclude-standard |
	sort -zu >"$WORK/files"
missing=()
while IFS= read -r -d '' f; do
	if [ ! -f "$tree/$f" ] || [ -L "$tree/$f" ]; then
		continue
	fi
	case $f in
	*.sh) ;;
	*) head -n 1 "$tree/$f" 2>/dev/null | grep -qE '^#!(/usr)?/bin/(env +)?(ba)?sh([[:space:]]|$)' || continue ;;
	esac
	[ -n "${given[$f]:-}" ] && continue
	missing+=("$f")
	lint "$tree" "$f" "not in the test's data: linted from the work tree $tree; add it to SCRIPTS in tests/lint/BUILD"
done <"$WORK/files"
n_tree=$(tr -cd '\0' <"$WORK/files" | wc -c)
if [ ${#missing[@]} -gt 0 ]; then
	echo "shellcheck_test: ${#missing[@]} scripts linted from the work tree ($tree), not from the test's data:"
	printf '  %s\n' "${missing[@]}"
fi
junit_case "every script of the work tree is linted" pass "" 0 \
	"$# given, ${#missing[@]} more from $tree ($n_tree files): ${missing[*]:-}" lint
junit_finish
