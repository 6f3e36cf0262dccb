#!/bin/bash
# tests/lint/layout_test.sh — each concern has one home: which directories
# a directory's C sources may include from (RULES below), and that qcow2
# layout (field offsets, big-endian access) appears only in src/qcow2 and
# the planner. One JUnit testcase per rule (tests/lib/junit.sh); a broken
# rule names the file, line and include.
#
# Usage: layout_test.sh FILE...   (the C sources, paths from the
# workspace root). Trusts nothing; it only reads.
set -uo pipefail

WORK=$(mktemp -d "${TEST_TMPDIR:-/tmp}/layout.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# shellcheck source=tests/lib/junit.sh
source "${JUNIT_SH:-tests/lib/junit.sh}"
junit_init layout "$WORK"

# directory % what its quoted includes may name (an extended regex of
# path prefixes) % why.
RULES=(
	"abi % ^$ % the guest/host contract depends on nothing (only <stdint.h>)"
	"src/qcow2 % ^src/qcow2/ % the qcow2 codec stands alone"
	"src/amend % ^src/(amend|qcow2)/ % the planner knows qcow2 and nothing else"
	"guest % ^(guest|abi|src/amend|src/qcow2)/ % the guest includes nothing of the host's"
	"sandbox % ^(sandbox|abi)/ % the VM monitor knows nothing of qcow2, the planner or the commands"
	"src/image % ^(src/image|src/amend|src/qcow2|abi)/ % image handling knows nothing of KVM or the CLI"
	"seccomp % ^seccomp/ % the lockdown knows nothing of what it locks"
)

# Angle-bracket includes allowed in abi/: the only system header.
ABI_SYSTEM='^<stdint\.h>$'

for rule in "${RULES[@]}"; do
	dir=${rule%% % *}
	why=${rule##* % }
	allow=${rule#* % }
	allow=${allow%% % *}
	bad="" n=0
	for f in "$@"; do
		[[ $f == "$dir"/* ]] || continue
		[[ ${f#"$dir"/} == */* ]] && continue   # only the directory itself
		n=$((n + 1))
		while IFS=: read -r line inc; do
			inc=${inc#*#include }
			inc=${inc%%[[:space:]]*}
			case $inc in
			\"*\")
				p=${inc//\"/}
				[[ $p =~ $allow ]] || bad+="$f:$line: includes \"$p\"
"
				;;
			\<*\>)
				if [ "$dir" = abi ] && ! [[ $inc =~ $ABI_SYSTEM ]]; then
					bad+="$f:$line: includes $inc
"
				fi
				;;
			esac
		done < <(grep -n '^[[:space:]]*#[[:space:]]*include' "$f")
	done
	name="$dir includes only what it may ($why)"
	if [ "$n" -eq 0 ]; then
		junit_case "$name" fail "no source of $dir was given to the test"
	elif [ -n "$bad" ]; then
		junit_case "$name" fail "$bad"
	else
		junit_case "$name" pass "" 0 "$n files"
	fi
done

# qcow2 layout outside the codec and the planner: raw field offsets or
# big-endian field access in any other directory's sources.
bad=""
for f in "$@"; do
	case $f in src/qcow2/* | src/amend/*) continue ;; esac
	out=$(grep -nE 'QCOW2_OFF_|qcow2_(put_)?be(16|32|64)' "$f" | sed "s#^#$f:#")
	[ -n "$out" ] && bad+="$out
"
done
if [ -n "$bad" ]; then
	junit_case "qcow2 layout only in src/qcow2 and src/amend" fail "$bad"
else
	junit_case "qcow2 layout only in src/qcow2 and src/amend" pass
fi
junit_finish
