#!/bin/bash
# tests/dist/version_test.sh — `instar --version` names the version and
# the source revision the binary was built from, and `instar --help`
# lists every command. Checked in three layers, one JUnit testcase each:
#
#   build/workspace_status.sh on git repositories made here: clean
#     (git <HEAD>), a changed or staged tracked file (-dirty), only an
#     untracked file (clean), no work tree, a directory inside another
#     repository's work tree, no git at all (unknown, exit 0), another
#     git holding the index lock, the source date;
#   build/stamp_revision.sh on status files: each good value becomes
#     that C string, anything else (missing, malformed, an attempt to
#     break out of the string) becomes "revision unknown";
#   the real binary: one line `instar X.Y.Z (git H[-dirty])` or
#     `(revision unknown)`, the same as git says of the work tree its
#     sources are in (found through the test's own files, as
#     //tests/lint:shellcheck_test finds it); each command its --help
#     lists answers `instar COMMAND --help`.
#
# Usage: version_test.sh INSTAR WORKSPACE_STATUS STAMP_REVISION
# Needs git.
set -uo pipefail
export LC_ALL=C

INSTAR=$(readlink -f "${1:?usage: version_test.sh INSTAR WORKSPACE_STATUS STAMP_REVISION}")
STATUS=$(readlink -f "${2:?}")
STAMP=$(readlink -f "${3:?}")
WORK=$(mktemp -d "${TEST_TMPDIR:-/tmp}/version_test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# shellcheck source=tests/lib/junit.sh
source "${JUNIT_SH:-tests/lib/junit.sh}" || { echo "version_test: cannot source junit.sh" >&2; exit 2; }
junit_init version_test "$WORK"

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

export GIT_CONFIG_NOSYSTEM=1 HOME=$WORK/home
mkdir -p "$HOME"
git() { command git -c user.name=test -c user.email=test@example.invalid -c init.defaultBranch=main "$@"; }

# status DIR [ENV...]: the status script run in DIR; prints its output.
status() {
	local dir=$1
	shift
	(cd "$dir" && env "$@" /bin/sh "$STATUS")
}
# key NAME OUTPUT: the value of one key.
key() { sed -n "s/^$1 //p" <<<"$2"; }

mkrepo() {   # DIR: a repository with one commit
	mkdir -p "$1"
	git -C "$1" init -q && echo one >"$1/a.txt" && git -C "$1" add a.txt &&
		git -C "$1" commit -q -m one
}

# ---------------------------------------------------------------------
# build/workspace_status.sh

R=$WORK/repo
mkrepo "$R" || problem "cannot make a git repository"
short=$(git -C "$R" rev-parse --short HEAD)
out=$(status "$R")
rc=$?
[ "$rc" = 0 ] || problem "exit status $rc"
[ "$(key STABLE_INSTAR_REVISION "$out")" = "git $short" ] || problem "got '$out', want 'git $short'"
check "status: a clean work tree is git <HEAD>" "$out"

echo two >>"$R/a.txt"
out=$(status "$R")
[ "$(key STABLE_INSTAR_REVISION "$out")" = "git $short-dirty" ] || problem "got '$out', want 'git $short-dirty'"
check "status: a changed tracked file makes it -dirty" "$out"

git -C "$R" add a.txt
out=$(status "$R")
[ "$(key STABLE_INSTAR_REVISION "$out")" = "git $short-dirty" ] || problem "got '$out', want 'git $short-dirty'"
check "status: a staged change makes it -dirty" "$out"

git -C "$R" commit -q -m two
short=$(git -C "$R" rev-parse --short HEAD)
echo new >"$R/untracked.txt"
out=$(status "$R")
[ "$(key STABLE_INSTAR_REVISION "$out")" = "git $short" ] || problem "got '$out', want 'git $short'"
check "status: an untracked file alone is not dirty (as git describe --dirty)" "$out"

: >"$R/.git/index.lock"
out=$(status "$R")
[ "$(key STABLE_INSTAR_REVISION "$out")" = "git $short" ] || problem "got '$out', want 'git $short'"
[ -f "$R/.git/index.lock" ] || problem "the index lock was removed"
rm -f "$R/.git/index.lock"
check "status: works while another git holds the index lock" "$out"

mkdir -p "$WORK/plain"
out=$(status "$WORK/plain")
rc=$?
[ "$rc" = 0 ] || problem "exit status $rc"
[ "$(key STABLE_INSTAR_REVISION "$out")" = unknown ] || problem "got '$out', want 'unknown'"
check "status: outside a git work tree it is unknown" "$out"

mkdir -p "$R/vendored/instar"
out=$(status "$R/vendored/instar")
[ "$(key STABLE_INSTAR_REVISION "$out")" = unknown ] || problem "got '$out', want 'unknown' (not the outer repository's commit)"
check "status: inside another repository's work tree it is unknown" "$out"

mkdir -p "$WORK/nogit"
for t in sh sed cat head pwd dirname; do
	ln -sf "$(command -v "$t")" "$WORK/nogit/$t"
done
out=$(status "$R" PATH="$WORK/nogit")
rc=$?
[ "$rc" = 0 ] || problem "exit status $rc"
[ "$(key STABLE_INSTAR_REVISION "$out")" = unknown ] || problem "got '$out', want 'unknown'"
check "status: without git it is unknown, and exits 0" "$out"

ct=$(git -C "$R" log -1 --format=%ct HEAD)
out=$(status "$R" -u SOURCE_DATE_EPOCH)
[ "$(key STABLE_INSTAR_SOURCE_DATE "$out")" = "$ct" ] || problem "without SOURCE_DATE_EPOCH: got '$out', want HEAD's commit time $ct"
out=$(status "$R" SOURCE_DATE_EPOCH=1234567890)
[ "$(key STABLE_INSTAR_SOURCE_DATE "$out")" = 1234567890 ] || problem "with SOURCE_DATE_EPOCH=1234567890: got '$out'"
out=$(status "$WORK/plain" -u SOURCE_DATE_EPOCH)
[ -z "$(key STABLE_INSTAR_SOURCE_DATE "$out")" ] || problem "outside git, without SOURCE_DATE_EPOCH: got '$out', want no date"
out=$(status "$R" 'SOURCE_DATE_EPOCH=1; rm -rf /')
[ "$(key STABLE_INSTAR_SOURCE_DATE "$out")" = "$ct" ] || problem "a non-numeric SOURCE_DATE_EPOCH was used: '$out'"
check "status: the source date is SOURCE_DATE_EPOCH, else HEAD's commit time"

# ---------------------------------------------------------------------
# build/stamp_revision.sh

stamp() {   # STATUS_TEXT: the C line that defines instar_revision
	printf '%b' "$1" >"$WORK/status.txt"
	/bin/sh "$STAMP" "$WORK/status.txt" | grep 'instar_revision'
}
want_line() { printf 'const char instar_revision[] = "%s";' "$1"; }

for v in "git abc1234" "git abc1234-dirty" "git 0123456789abcdef0123456789abcdef01234567"; do
	got=$(stamp "BUILD_HOST h\nSTABLE_INSTAR_REVISION $v\nBUILD_USER u\n")
	[ "$got" = "$(want_line "$v")" ] || problem "'$v': got '$got'"
done
got=$(stamp "STABLE_INSTAR_REVISION unknown\n")
[ "$got" = "$(want_line "revision unknown")" ] || problem "'unknown': got '$got'"
check "stamp: each good revision becomes that C string"

for v in 'git abc1234"; int evil; "' 'git ABC1234' 'git abc1234-dirty x' 'git abc' \
	"git abc1234\\\\" 'abc1234' 'git  abc1234' 'git abc1234-clean' 'git abc12345678 ' 'Git abc1234'; do
	got=$(stamp "STABLE_INSTAR_REVISION $v\n")
	[ "$got" = "$(want_line "revision unknown")" ] || problem "'$v': got '$got'"
done
got=$(stamp "BUILD_HOST h\n")
[ "$got" = "$(want_line "revision unknown")" ] || problem "no key: got '$got'"
out=$(/bin/sh "$STAMP" "$WORK/does-not-exist" 2>/dev/null | grep instar_revision)
[ "$out" = "$(want_line "revision unknown")" ] || problem "no status file: got '$out'"
check "stamp: anything else becomes revision unknown"

# ---------------------------------------------------------------------
# The binary

RE='instar [0-9]+\.[0-9]+\.[0-9]+ \((git [0-9a-f]{4,40}(-dirty)?|revision unknown)\)'
for a in --version -V; do
	"$INSTAR" "$a" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	[ "$rc" = 0 ] || problem "$a: exit status $rc"
	[ ! -s "$WORK/err" ] || problem "$a: stderr '$(cat "$WORK/err")'"
	[ "$(wc -l <"$WORK/out")" = 1 ] || problem "$a: not one line: '$(cat "$WORK/out")'"
	grep -Eqx "$RE" "$WORK/out" || problem "$a: '$(cat "$WORK/out")' is not 'instar X.Y.Z (git HASH[-dirty])' or '(revision unknown)'"
done
check "instar --version: one line, version and source revision" "$(cat "$WORK/out")"

version=$("$INSTAR" --version 2>&1)
tree=$(git -C "$(dirname "$STATUS")/.." rev-parse --show-toplevel 2>/dev/null) || tree=""
if [ -n "$tree" ] && [ "$(cd "$tree" && pwd -P)" = "$(cd "$(dirname "$STATUS")/.." && pwd -P)" ]; then
	head=$(git -C "$tree" rev-parse HEAD)
	dirty=""
	[ -z "$(GIT_OPTIONAL_LOCKS=0 git -C "$tree" status --porcelain --untracked-files=no)" ] || dirty=-dirty
	rev=$(sed -nE 's/^instar [^ ]+ \(git ([0-9a-f]+)(-dirty)?\)$/\1 \2/p' <<<"$version")
	read -r h d <<<"$rev"
	if [ -z "${h:-}" ] || [ "${head#"$h"}" = "$head" ]; then
		problem "'$version' does not name HEAD $head of $tree"
	elif [ "${d:-}" != "$dirty" ]; then
		problem "'$version' says '${d:-clean}', but git says '${dirty:-clean}' of $tree (if you edited the tree during the run, run it again)"
	fi
	where="work tree $tree at $head${dirty}"
else
	grep -q '(revision unknown)$' <<<"$version" || problem "'$version' names a revision, but the sources ($(dirname "$STATUS")/..) are in no git work tree"
	where="no git work tree"
fi
check "instar --version: the revision of the work tree it was built from" "$version; $where"

mapfile -t commands < <("$INSTAR" --help | sed -n '/^Commands:/,/^$/p' | awk '/^  [a-z]/ { print $1 }')
[ "${#commands[@]}" -gt 0 ] || problem "instar --help lists no command: $("$INSTAR" --help 2>&1)"
for c in amend seccomp; do
	grep -qx "$c" <<<"$(printf '%s\n' "${commands[@]}")" || problem "instar --help does not list '$c'"
done
for c in "${commands[@]}"; do
	out=$("$INSTAR" "$c" --help 2>&1)
	rc=$?
	[ "$rc" = 0 ] || problem "instar $c --help: exit status $rc"
	[[ $out == "Usage: instar $c"* ]] ||
		problem "instar $c --help does not start with 'Usage: instar $c': $(head -1 <<<"$out")"
done
"$INSTAR" no-such-command >/dev/null 2>&1
[ $? = 2 ] || problem "an unknown command does not exit 2"
check "instar --help lists every command, and each answers --help" "${commands[*]}"

junit_finish
