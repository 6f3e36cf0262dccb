#!/usr/bin/env bash
# test_oss_fuzz_build.sh — prove fuzz/oss-fuzz/build.sh works the way
# OSS-Fuzz runs it, twice, each into a fresh temporary $OUT:
#   libFuzzer: CC=clang CXX=clang++ CFLAGS=-fsanitize=address,fuzzer-no-link
#              LIB_FUZZING_ENGINE=-fsanitize=fuzzer
#   AFL++:     CC=afl-clang-fast CXX=afl-clang-fast++
#              CFLAGS=-fsanitize=address LIB_FUZZING_ENGINE=-fsanitize=fuzzer
#              (AFL++'s libFuzzer-compatible driver, libAFLDriver.a)
# and check that every fuzzer, dictionary, options file and seed zip is
# there and that each fuzzer runs its own seed corpus without a crash.
# $SRC is a directory holding this checkout as $SRC/instar (a symlink).
#
# Usage: fuzz/test_oss_fuzz_build.sh      (about a minute on 2 cores)
# Trusts: clang, afl-clang-fast, unzip.
set -euo pipefail

if [ -n "${TEST_SRCDIR:-}" ]; then
	root=$PWD          # under bazel test: the runfiles tree of the workspace
else
	root=$(cd "$(dirname "$0")/.." && pwd)
fi
targets="qcow2_header amend_plan amend_scan amend_diff amend_args virtio_device validate policy_parse qcow2_snapshot expand"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src"
ln -s "$root" "$tmp/src/instar"
fail=0

check_out() { # check_out ENGINE OUT
	local engine=$1 out=$2
	for t in $targets; do
		for f in "${t}_fuzzer" "${t}_fuzzer.dict" "${t}_fuzzer.options" \
			 "${t}_fuzzer_seed_corpus.zip"; do
			if [ ! -s "$out/$f" ]; then
				echo "FAIL $engine: $f missing"
				fail=1
			fi
		done
		mkdir -p "$out/seeds_$t"
		unzip -q -o "$out/${t}_fuzzer_seed_corpus.zip" -d "$out/seeds_$t"
		local n
		n=$(find "$out/seeds_$t" -type f | wc -l)
		if [ "$engine" = libfuzzer ]; then
			if ! "$out/${t}_fuzzer" -runs=0 -artifact_prefix="$out/" "$out/seeds_$t" >"$out/$t.log" 2>&1; then
				echo "FAIL $engine: $t crashed on its seeds"; tail -n 20 "$out/$t.log"; fail=1
				continue
			fi
		else
			# AFL++'s driver runs the files named on its command line once.
			if ! find "$out/seeds_$t" -type f -print0 |
				xargs -0 "$out/${t}_fuzzer" >"$out/$t.log" 2>&1; then
				echo "FAIL $engine: $t crashed on its seeds"; tail -n 20 "$out/$t.log"; fail=1
				continue
			fi
		fi
		echo "ok   $engine: ${t}_fuzzer ran $n seeds"
	done
}

echo "== libFuzzer (OSS-Fuzz variables)"
mkdir -p "$tmp/out_libfuzzer"
env SRC="$tmp/src" OUT="$tmp/out_libfuzzer" CC=clang CXX=clang++ \
	CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link" \
	CXXFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link" \
	LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
	"$root/fuzz/oss-fuzz/build.sh" >"$tmp/libfuzzer.build.log" 2>&1 ||
	{ echo "FAIL libfuzzer: build.sh failed"; cat "$tmp/libfuzzer.build.log"; exit 1; }
check_out libfuzzer "$tmp/out_libfuzzer"

echo "== AFL++ (OSS-Fuzz variables)"
mkdir -p "$tmp/out_afl"
env SRC="$tmp/src" OUT="$tmp/out_afl" CC=afl-clang-fast CXX=afl-clang-fast++ \
	CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address -fsanitize-address-use-after-scope" \
	CXXFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address -fsanitize-address-use-after-scope" \
	LIB_FUZZING_ENGINE=-fsanitize=fuzzer AFL_QUIET=1 \
	"$root/fuzz/oss-fuzz/build.sh" >"$tmp/afl.build.log" 2>&1 ||
	{ echo "FAIL afl: build.sh failed"; cat "$tmp/afl.build.log"; exit 1; }
check_out afl "$tmp/out_afl"

[ "$fail" -eq 0 ] && echo "test_oss_fuzz_build: both engines OK"
exit "$fail"
