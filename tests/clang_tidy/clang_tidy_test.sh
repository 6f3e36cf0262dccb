#!/bin/bash
# tests/clang_tidy/clang_tidy_test.sh — the verdict on the clang-tidy logs
# build/clang_tidy.bzl's aspect wrote (one per source file and target,
# with the target's real compile flags and the checked-in /.clang-tidy):
# one JUnit testcase per source file (tests/lib/junit.sh), failed if any
# target's run of clang-tidy on it reported a finding or did not exit 0,
# or if a NOLINT in it lacks the check's name or a reason.
#
# Two more cases: every NOLINT of the checked rules' own headers names
# its check and gives a reason; and (unless --no-tree) every C and C++
# source of the git work tree the test's files live in was checked, so a
# new file no root reaches cannot go unchecked. A tree that cannot be
# found fails that case.
#
# NOLINT forms accepted, in a /* */ or // comment:
#   NOLINT(check[,check...]): reason     NOLINTNEXTLINE(check...): reason
#   NOLINTBEGIN(check...): reason        NOLINTEND(check...)
#
# Usage: clang_tidy_test.sh [--tree DIR | --no-tree] [--exclude PATH]... MANIFEST
#   MANIFEST  "log PATH" for each log, "hdr PATH" for each header, a line
#             (paths relative to the current directory, the runfiles
#             root, where the checked sources and headers are too)
#   --exclude a work-tree source the coverage case does not ask for (the
#             self-check's fixtures, checked by their own test)
# Trusts: the logs' format (written by clang_tidy.bzl's action) and git.
set -uo pipefail

tree="" use_tree=1
excluded=()
while [ $# -gt 1 ]; do
	case $1 in
	--tree) tree=$2; shift 2 ;;
	--no-tree) use_tree=0; shift ;;
	--exclude) excluded+=("$2"); shift 2 ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || { echo "usage: clang_tidy_test.sh [--tree DIR | --no-tree] [--exclude PATH]... MANIFEST" >&2; exit 2; }
manifest=$1

WORK=$(mktemp -d "${TEST_TMPDIR:-/tmp}/clang_tidy.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# shellcheck source=tests/lib/junit.sh
source "${JUNIT_SH:-tests/lib/junit.sh}" || { echo "clang_tidy_test: cannot source junit.sh" >&2; exit 2; }
junit_init clang_tidy "$WORK"
[ -f "$manifest" ] || { echo "clang_tidy_test: no manifest $manifest" >&2; exit 2; }

# NOLINT comments without a check list or without a reason, as
# "FILE:LINE: text  <- why".
unexplained() {   # FILE
	grep -n 'NOLINT' "$1" |
		grep -vE 'NOLINT(NEXTLINE|BEGIN)?\([A-Za-z0-9.,*_-]+\):?[[:space:]]*[^[:space:]*/]' |
		grep -vE 'NOLINTEND\([A-Za-z0-9.,*_-]+\)' |
		sed "s|^|$1:|; s|\$|  <- NOLINT without the check's name and a reason|"
}

# Each log: the file and target it names, the command, clang-tidy's
# output between them and its exit status; a file's logs are grouped.
declare -A targets=() bad=() msgs=() cmds=()
files=() hdrs=()
n=0
while read -r kind log; do
	case $kind in
	log) ;;
	hdr) hdrs+=("$log"); continue ;;
	*) continue ;;
	esac
	n=$((n + 1))
	if [ ! -f "$log" ]; then
		files+=("$log")
		bad[$log]=1
		msgs[$log]="no such log: $log"
		continue
	fi
	file=$(sed -n '1s/^file: //p' "$log")
	target=$(sed -n '2s/^target: //p' "$log")
	cmd=$(sed -n '3s/^command: //p' "$log")
	status=$(sed -n '$s/^clang-tidy exit status: //p' "$log")
	if [ -z "$file" ] || [ -z "$target" ]; then
		file=$log target="?"
	fi
	if [ -z "${targets[$file]:-}" ]; then
		files+=("$file")
		targets[$file]=$target
	else
		targets[$file]+=" $target"
	fi
	cmds[$file]+="$target: $cmd"$'\n'
	body=$(sed -e '1,3d' -e '$d' "$log")
	findings=$(grep -E ':[0-9]+:[0-9]+: (warning|error):' <<<"$body")
	if [ "$status" != 0 ] || [ -n "$findings" ]; then
		bad[$file]=1
		msgs[$file]+="clang-tidy for $target (exit status ${status:-missing}):"$'\n'"$body"$'\n'
	fi
done <"$manifest"

if [ "$n" -eq 0 ]; then
	junit_case "clang-tidy checked something" fail "the manifest $manifest lists no logs" 0 "" lint.clang_tidy
	junit_finish
	exit
fi

for file in "${files[@]}"; do
	t0=$SECONDS
	if [ -f "$file" ]; then
		nolint=$(unexplained "$file")
		if [ -n "$nolint" ]; then
			bad[$file]=1
			msgs[$file]+="$nolint"$'\n'
		fi
	fi
	if [ -n "${bad[$file]:-}" ]; then
		junit_case "clang-tidy $file" fail "${msgs[$file]}" $((SECONDS - t0)) \
			"targets: ${targets[$file]:-?}"$'\n'"${cmds[$file]:-}" lint.clang_tidy
	else
		junit_case "clang-tidy $file" pass "" $((SECONDS - t0)) "targets: ${targets[$file]}" lint.clang_tidy
	fi
done
echo "clang_tidy_test: $n logs, ${#files[@]} source files"

# The work tree: where the checked sources (symlinks in runfiles) lead.
if [ -z "$tree" ] && [ "$use_tree" = 1 ]; then
	for f in "${files[@]}"; do
		[ -e "$f" ] || continue
		d=$(dirname "$(readlink -f "$f")")
		tree=$(git -C "$d" rev-parse --show-toplevel 2>/dev/null) && break
		tree=""
	done
fi

# The checked rules' own headers: their NOLINTs (clang-tidy checks the
# headers themselves through the sources that include them).
hdr_out=""
for h in "${hdrs[@]}"; do
	hdr_out+=$(unexplained "$h")
done
if [ -n "$hdr_out" ]; then
	junit_case "every NOLINT of the headers has a check and a reason" fail "$hdr_out" 0 "${#hdrs[@]} headers" lint.clang_tidy
else
	junit_case "every NOLINT of the headers has a check and a reason" pass "" 0 "${#hdrs[@]} headers" lint.clang_tidy
fi

[ "$use_tree" = 1 ] || { junit_finish; exit; }

if [ -z "$tree" ] || ! git -C "$tree" rev-parse --show-toplevel >/dev/null 2>&1; then
	junit_case "every C and C++ source of the work tree is checked" fail \
		"cannot find the git work tree (tree '${tree}'): the sources not checked cannot be listed" \
		0 "" lint.clang_tidy
	junit_finish
	exit
fi
declare -A checked=()
for f in "${files[@]}" "${excluded[@]}"; do checked[$f]=1; done
missing=()
while IFS= read -r -d '' f; do
	case $f in
	*.c | *.cc | *.cpp | *.cxx) ;;
	*) continue ;;
	esac
	[ -f "$tree/$f" ] || continue
	[ -n "${checked[$f]:-}" ] || missing+=("$f")
done < <(git -C "$tree" ls-files -z --cached --others --exclude-standard | sort -zu)
if [ ${#missing[@]} -gt 0 ]; then
	junit_case "every C and C++ source of the work tree is checked" fail \
		"$(printf '%s\n' "not checked (add a target that compiles it to the roots in tests/clang_tidy/BUILD):" "${missing[@]}")" \
		0 "tree $tree" lint.clang_tidy
else
	junit_case "every C and C++ source of the work tree is checked" pass "" 0 \
		"${#files[@]} checked, ${#excluded[@]} excluded, tree $tree" lint.clang_tidy
fi
junit_finish
