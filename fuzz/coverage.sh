#!/usr/bin/env bash
# coverage.sh — source-based coverage of the fuzz corpora: builds every
# corpus replayer (harness + replay_main.c + the code under test) with
# clang-14 -fprofile-instr-generate -fcoverage-mapping, replays
# fuzz/corpus/TARGET (and any extra corpus directories named in
# $EXTRA_CORPUS_ROOT/TARGET, e.g. a locally grown corpus), merges the
# profiles and prints `llvm-cov-14 report` for src/qcow2 and src/amend
# (the code both sides of the guest boundary share), then for the other
# fuzzed code, and the branch coverage figure for src/qcow2 + src/amend.
#
# Usage: fuzz/coverage.sh [OUTDIR]     (default /tmp/instar-fuzz-coverage)
# Trusts: clang-14, llvm-profdata-14, llvm-cov-14.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${1:-/tmp/instar-fuzz-coverage}
rm -rf "$out"
mkdir -p "$out/prof"

# shellcheck source=fuzz/sources.sh
source "$here/sources.sh"
TARGETS="qcow2_header amend_plan amend_scan amend_diff amend_args virtio_device validate policy_parse qcow2_snapshot expand"
FLAGS="-O0 -g -std=c11 -fprofile-instr-generate -fcoverage-mapping"

objects=()
for t in $TARGETS; do
	srcs=()
	for s in fuzz/${t}_fuzzer.c fuzz/replay_main.c ${LIBS[$t]}; do
		srcs+=("$root/$s")
	done
	# shellcheck disable=SC2086 # FLAGS is a word list on purpose
	clang-14 $FLAGS -I "$root" "${srcs[@]}" -o "$out/${t}_replay"
	dirs=("$here/corpus/$t")
	if [ -n "${EXTRA_CORPUS_ROOT:-}" ] && [ -d "$EXTRA_CORPUS_ROOT/$t" ]; then
		dirs+=("$EXTRA_CORPUS_ROOT/$t")
	fi
	LLVM_PROFILE_FILE="$out/prof/$t.%p.profraw" \
		"$out/${t}_replay" "${dirs[@]}" 2>/dev/null | tail -n 1 |
		sed "s/^/$t: /"
	objects+=(-object "$out/${t}_replay")
done

llvm-profdata-14 merge -sparse "$out"/prof/*.profraw -o "$out/all.profdata"
# The first -object is the positional binary argument.
bin=${objects[1]}
rest=("${objects[@]:2}")

echo
echo "== src/qcow2 + src/amend (shared by host and guest)"
llvm-cov-14 report "$bin" "${rest[@]}" -instr-profile="$out/all.profdata" \
	"$root/src/qcow2" "$root/src/amend" | tee "$out/shared.txt"
echo
echo "== other fuzzed code (src/cli, src/image, sandbox, seccomp)"
llvm-cov-14 report "$bin" "${rest[@]}" -instr-profile="$out/all.profdata" \
	"$root/src/cli/amend_args.c" "$root/src/cli/amend_options.c" \
	"$root/src/image/expand.c" "$root/src/image/zero_report.c" \
	"$root/sandbox" "$root/seccomp" | tee "$out/other.txt"
llvm-cov-14 show "$bin" "${rest[@]}" -instr-profile="$out/all.profdata" \
	-show-branches=count -format=html -output-dir="$out/html" \
	"$root/src" "$root/sandbox" "$root/seccomp" >/dev/null
echo
awk '/^TOTAL/ { printf "branch coverage of src/qcow2 + src/amend: %s (%d of %d branches)\n", $NF, $(NF-2) - $(NF-1), $(NF-2) }' "$out/shared.txt"
echo "html: $out/html/index.html"
