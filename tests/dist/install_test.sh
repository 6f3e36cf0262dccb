#!/bin/bash
# tests/dist/install_test.sh — install instar with scripts/install.sh into
# a temporary DESTDIR, as a packager would, and check the result: every
# file of the build's list (dist/install_files.txt) landed with its mode
# and bytes, the list holds what a distribution expects (the binary, a
# manual page for instar and for each command `instar --help` lists, the
# bash completion), nothing else was written but the install manifest,
# the installed binary runs (also found on PATH), man finds the pages
# and bash-completion loads the completion from where they were put;
# --uninstall removes all of it and only it (a directory that was there
# before stays, with what else it holds; a file changed since the
# install stays and fails the uninstall); installing twice, another
# PREFIX, a relative DESTDIR, a bad list refused. One JUnit testcase per
# check.
#
# Usage: install_test.sh INSTALL_SCRIPT
# Run from a directory holding dist/install_files.txt and the files it
# names (Bazel's runfiles root; the script is given --from it).
# Needs man-db and bash-completion (scripts/install-deps.sh).
set -uo pipefail
export LC_ALL=C

SCRIPT=$(readlink -f "${1:?usage: install_test.sh INSTALL_SCRIPT}")
FROM=$(pwd -P)
LIST=$FROM/dist/install_files.txt
BASH_COMPLETION=${BASH_COMPLETION:-/usr/share/bash-completion/bash_completion}
WORK=$(mktemp -d "${TEST_TMPDIR:-/tmp}/install_test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# shellcheck source=tests/lib/junit.sh
source "${JUNIT_SH:-tests/lib/junit.sh}" || { echo "install_test: cannot source junit.sh" >&2; exit 2; }
junit_init install_test "$WORK"

check() {   # NAME MESSAGE-IF-FAILED: the verdict is $problems
	if [ -z "$problems" ]; then
		junit_case "$1" pass "" 0 "${2:-}"
	else
		junit_case "$1" fail "$problems" 0 "${2:-}"
	fi
	problems=""
}
problems=""
problem() { problems+="$*"$'\n'; }

# run_install LOG [ARGS...]: the script with DESTDIR/PREFIX from the
# environment; RC is its exit status, LOG its output.
run_install() {
	local log=$1
	shift
	bash "$SCRIPT" --from "$FROM" "$@" >"$log" 2>&1
	RC=$?
}
run_uninstall() {
	local log=$1
	bash "$SCRIPT" --uninstall >"$log" 2>&1
	RC=$?
}

# The list, as MODE DEST SRC lines.
if [ ! -f "$LIST" ]; then
	junit_case "the build's install list exists" fail "$LIST is missing"
	junit_finish
	exit 1
fi
mapfile -t entries < <(grep -v '^#' "$LIST" | sed '/^$/d')
INSTAR=$(awk '$2 == "bin/instar" { print $3 }' "$LIST")
INSTAR=$FROM/${INSTAR:-missing}

# What the list must hold, known independently of it.
for f in bin/instar share/man/man1/instar.1 share/bash-completion/completions/instar; do
	grep -q " $f " "$LIST" || problem "not in the list: $f"
done
if [ -x "$INSTAR" ]; then
	for c in $("$INSTAR" --help | sed -n '/^Commands:/,/^$/p' | awk '/^  [a-z]/ { print $1 }'); do
		grep -q " share/man/man1/instar-$c.1 " "$LIST" || problem "no manual page in the list for the command '$c'"
	done
else
	problem "no runnable bin/instar source: $INSTAR"
fi
check "the list holds the binary, a page per command and the completion" "$(cat "$LIST")"

# ---------------------------------------------------------------------
# A packager's install: DESTDIR, PREFIX=/usr/local.
export DESTDIR=$WORK/stage PREFIX=/usr/local
ROOT=$DESTDIR$PREFIX
run_install "$WORK/install.log"
[ "$RC" = 0 ] || problem "install.sh exited $RC: $(tail -5 "$WORK/install.log")"
check "install into DESTDIR succeeds" "$(cat "$WORK/install.log")"

for e in "${entries[@]}"; do
	read -r mode dest src <<<"$e"
	t=$ROOT/$dest
	if [ ! -f "$t" ]; then
		problem "missing: $t"
		continue
	fi
	cmp -s "$t" "$FROM/$src" || problem "$t differs from $src"
	[ "$(stat -c %a "$t")" = "${mode#0}" ] || problem "$t has mode $(stat -c %a "$t"), want $mode"
done
check "every listed file landed, with its mode and bytes"

manifest=$ROOT/share/instar/install-manifest
want=$( (for e in "${entries[@]}"; do read -r _ dest _ <<<"$e"; echo "$ROOT/$dest"; done; echo "$manifest") | sort)
got=$(find "$DESTDIR" -type f -o -type l | sort)
[ "$got" = "$want" ] || problem "files under DESTDIR: $(diff <(echo "$want") <(echo "$got") | grep '^[<>]')"
check "nothing else is written under DESTDIR but the install manifest"

out=$("$ROOT/bin/instar" --version 2>&1) || problem "installed instar --version failed: $out"
[ "$out" = "$("$INSTAR" --version)" ] || problem "installed --version '$out' differs from the build's"
out=$(PATH="$ROOT/bin:/usr/bin:/bin" bash -c 'command -v instar && instar --help' 2>&1) ||
	problem "instar on PATH: $out"
[ "$(head -1 <<<"$out")" = "$ROOT/bin/instar" ] || problem "instar on PATH is '$(head -1 <<<"$out")'"
grep -q '^Usage: instar ' <<<"$out" || problem "instar --help from PATH: $out"
check "the installed binary runs, also from PATH" "$out"

for e in "${entries[@]}"; do
	read -r _ dest _ <<<"$e"
	case $dest in share/man/man1/*.1) ;; *) continue ;; esac
	page=${dest##*/}
	page=${page%.1}
	where=$(man -M "$ROOT/share/man" -w "$page" 2>&1) || problem "man -w $page: $where"
	[ "$where" = "$ROOT/$dest" ] || problem "man finds $page at '$where', want $ROOT/$dest"
	shown=$(MANWIDTH=80 man -M "$ROOT/share/man" "$page" 2>/dev/null)
	grep -q '^NAME' <<<"$shown" ||
		problem "man $page shows no NAME section"
done
check "man finds each page where it was installed"

if [ -r "$BASH_COMPLETION" ]; then
	# shellcheck disable=SC2016 # the inner bash expands these, not this one
	out=$(XDG_DATA_DIRS="$ROOT/share" BASH_COMPLETION_USER_DIR="$WORK/none" \
		PATH="$ROOT/bin:/usr/bin:/bin" bash --norc --noprofile -c '
		source "$1" || exit 3
		__load_completion instar || { echo "__load_completion instar failed"; exit 1; }
		complete -p instar' _ "$BASH_COMPLETION" 2>&1) || problem "bash-completion: $out"
	[[ $out == *"-F _instar instar"* ]] || problem "bash-completion did not load it: '$out'"
else
	problem "$BASH_COMPLETION is missing (scripts/install-deps.sh installs bash-completion)"
fi
check "bash-completion loads the completion from where it was installed" "$out"

run_uninstall "$WORK/uninstall.log"
[ "$RC" = 0 ] || problem "--uninstall exited $RC: $(tail -5 "$WORK/uninstall.log")"
left=$(find "$DESTDIR" -mindepth 1)
[ -z "$left" ] || problem "left under DESTDIR: $left"
check "--uninstall removes every file and directory it installed" "$(cat "$WORK/uninstall.log")"

run_uninstall "$WORK/uninstall2.log"
[ "$RC" != 0 ] || problem "--uninstall with nothing installed exited 0"
check "--uninstall with nothing installed fails" "$(cat "$WORK/uninstall2.log")"

# ---------------------------------------------------------------------
# Directories that were there before, with another package's file.
export DESTDIR=$WORK/shared
mkdir -p "$DESTDIR$PREFIX/bin" "$DESTDIR$PREFIX/share/man/man1"
echo other >"$DESTDIR$PREFIX/bin/other-tool"
echo other >"$DESTDIR$PREFIX/share/man/man1/other-tool.1"
run_install "$WORK/shared.log"
[ "$RC" = 0 ] || problem "install exited $RC: $(tail -5 "$WORK/shared.log")"
run_uninstall "$WORK/shared-un.log"
[ "$RC" = 0 ] || problem "--uninstall exited $RC: $(tail -5 "$WORK/shared-un.log")"
left=$(cd "$DESTDIR" && find . -mindepth 1 | sort | tr '\n' ' ')
want="./usr ./usr/local ./usr/local/bin ./usr/local/bin/other-tool ./usr/local/share ./usr/local/share/man ./usr/local/share/man/man1 ./usr/local/share/man/man1/other-tool.1 "
[ "$left" = "$want" ] || problem "after --uninstall: [$left], want [$want]"
check "--uninstall leaves directories that were there and what else they hold"

# Installing twice: the second replaces the first; one uninstall clears.
export DESTDIR=$WORK/twice
run_install "$WORK/twice1.log"
first=$(cd "$DESTDIR" && find . | sort)
run_install "$WORK/twice2.log"
[ "$RC" = 0 ] || problem "the second install exited $RC: $(tail -5 "$WORK/twice2.log")"
[ "$(cd "$DESTDIR" && find . | sort)" = "$first" ] || problem "the second install left other files than the first"
run_uninstall "$WORK/twice-un.log"
[ -z "$(find "$DESTDIR" -mindepth 1)" ] || problem "left after install, install, uninstall: $(find "$DESTDIR" -mindepth 1)"
check "installing twice, then uninstalling, leaves nothing" "$(cat "$WORK/twice2.log")"

# A file changed since the install is not removed, and uninstall says so.
export DESTDIR=$WORK/changed
run_install "$WORK/changed.log"
comp=$DESTDIR$PREFIX/share/bash-completion/completions/instar
echo '# local change' >>"$comp"
run_uninstall "$WORK/changed-un.log"
[ "$RC" != 0 ] || problem "--uninstall exited 0 with a changed file"
[ -f "$comp" ] || problem "the changed file was removed"
grep -qF "$comp" "$WORK/changed-un.log" || problem "the changed file is not named: $(cat "$WORK/changed-un.log")"
[ ! -e "$DESTDIR$PREFIX/bin/instar" ] || problem "the unchanged binary was not removed"
check "--uninstall keeps a file changed since the install, names it, fails" "$(cat "$WORK/changed-un.log")"

# Another PREFIX, and a DESTDIR relative to the current directory.
mkdir -p "$WORK/rel"
out=$(cd "$WORK/rel" && DESTDIR=stage PREFIX=/opt/instar bash "$SCRIPT" --from "$FROM" 2>&1) ||
	problem "install with PREFIX=/opt/instar, DESTDIR=stage: $out"
[ -x "$WORK/rel/stage/opt/instar/bin/instar" ] || problem "no $WORK/rel/stage/opt/instar/bin/instar"
[ -f "$WORK/rel/stage/opt/instar/share/man/man1/instar.1" ] || problem "no instar.1 under the PREFIX"
out=$(cd "$WORK/rel" && DESTDIR=stage PREFIX=/opt/instar bash "$SCRIPT" --uninstall 2>&1) ||
	problem "--uninstall: $out"
[ -z "$(find "$WORK/rel/stage" -mindepth 1)" ] || problem "left: $(find "$WORK/rel/stage" -mindepth 1)"
check "another PREFIX and a relative DESTDIR" "$out"

# A list that names a path outside PREFIX is refused; nothing installed.
mkdir -p "$WORK/badfrom/dist"
cp "$INSTAR" "$WORK/badfrom/instar"
printf '0755 ../../etc/evil instar\n' >"$WORK/badfrom/dist/install_files.txt"
out=$(DESTDIR=$WORK/bad PREFIX=/usr/local bash "$SCRIPT" --from "$WORK/badfrom" 2>&1) &&
	problem "a list with ../ was installed"
if [ -e "$WORK/bad" ] || [ -e "$WORK/etc" ]; then problem "something was written: $(find "$WORK/bad" "$WORK/etc" 2>/dev/null)"; fi
check "a list that leaves PREFIX is refused before anything is written" "$out"

junit_finish
