#!/usr/bin/env bash
# build.sh — build every instar fuzz harness outside Bazel.
#
#   fuzz/build.sh libfuzzer [OUTDIR]   clang-14, libFuzzer + ASan + UBSan
#   fuzz/build.sh afl [OUTDIR]         afl-clang-fast (AFL++), ASan + UBSan,
#                                      AFL++'s libFuzzer-compatible driver
#   fuzz/build.sh all [OUTDIR]         both, in OUTDIR/libfuzzer, OUTDIR/afl
#   fuzz/build.sh oss-fuzz             with OSS-Fuzz's variables, as set by
#                                      its build environment: $CC $CFLAGS
#                                      $CXX $CXXFLAGS $LIB_FUZZING_ENGINE
#                                      into $OUT (fuzz/oss-fuzz/build.sh)
#
# Each build writes NAME_fuzzer, NAME_fuzzer.dict, NAME_fuzzer.options and
# NAME_fuzzer_seed_corpus.zip (seeds + regression reproducers) for every
# target, the layout OSS-Fuzz and ClusterFuzzLite expect. Default OUTDIR:
# /tmp/instar-fuzz-build. Run an AFL++ build with, e.g.:
#   afl-fuzz -i fuzz/corpus/qcow2_header -o /tmp/afl-q -x fuzz/dict/qcow2.dict \
#            -- /tmp/instar-fuzz-build/afl/qcow2_header_fuzzer
#
# $EXTRA_CFLAGS is added to every compile (e.g. -O1 or -g for local runs).
#
# The source lists below must follow the libraries' BUILD files (Bazel
# builds collect them itself; see fuzz.bzl). Trusts: the compilers named.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

# shellcheck source=fuzz/sources.sh
source "$here/sources.sh"
declare -A DICT=(
	[qcow2_header]=qcow2 [amend_plan]=qcow2 [amend_scan]=qcow2 [amend_diff]=qcow2 [validate]=qcow2
	[amend_args]=amend_args [virtio_device]=virtio_device
	[policy_parse]=policy_parse [qcow2_snapshot]=qcow2 [expand]=expand
)
# Not amend_guest: it runs the guest in KVM, which OSS-Fuzz's runners do
# not have (fuzz/README.md); Bazel builds it and the smoke test runs it.
TARGETS="qcow2_header amend_plan amend_scan amend_diff amend_args virtio_device validate policy_parse qcow2_snapshot expand"

# build_all: compile with $CC $CFLAGS, link with $CXX $CXXFLAGS
# $LIB_FUZZING_ENGINE into $OUT.
build_all() {
	local obj
	obj=$(mktemp -d)
	mkdir -p "$OUT"
	for t in $TARGETS; do
		local objs=()
		for src in fuzz/${t}_fuzzer.c ${LIBS[$t]}; do
			local o
			o="$obj/$t.$(echo "$src" | tr / _).o"
			# shellcheck disable=SC2086 # CC, CFLAGS, EXTRA_CFLAGS are word lists (OSS-Fuzz's convention)
			$CC $CFLAGS ${EXTRA_CFLAGS:-} -std=c11 -I "$root" -c "$root/$src" -o "$o"
			objs+=("$o")
		done
		# shellcheck disable=SC2086 # CXX, CXXFLAGS, LIB_FUZZING_ENGINE are word lists (OSS-Fuzz's convention)
		$CXX $CXXFLAGS "${objs[@]}" $LIB_FUZZING_ENGINE -o "$OUT/${t}_fuzzer"
		cp "$here/dict/${DICT[$t]}.dict" "$OUT/${t}_fuzzer.dict"
		cp "$here/oss-fuzz/${t}_fuzzer.options" "$OUT/${t}_fuzzer.options"
		rm -f "$OUT/${t}_fuzzer_seed_corpus.zip"
		local seeds=("corpus/$t")
		[ -d "$here/regressions/$t" ] && seeds+=("regressions/$t")
		(cd "$here" && zip -q -r -j "$OUT/${t}_fuzzer_seed_corpus.zip" "${seeds[@]}")
		echo "built $OUT/${t}_fuzzer"
	done
	rm -rf "$obj"
}

mode=${1:-all}
outdir=${2:-/tmp/instar-fuzz-build}
SAN="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
case "$mode" in
oss-fuzz)
	: "${CC:?} ${CXX:?} ${OUT:?} ${LIB_FUZZING_ENGINE:?}"
	CFLAGS=${CFLAGS:-} CXXFLAGS=${CXXFLAGS:-}
	build_all
	;;
libfuzzer | afl | all)
	if [ "$mode" != afl ]; then
		CC=clang-14 CXX=clang++-14 OUT="$outdir/libfuzzer" \
		CFLAGS="$SAN -fsanitize=fuzzer-no-link" CXXFLAGS="$SAN" \
		LIB_FUZZING_ENGINE=-fsanitize=fuzzer build_all
	fi
	if [ "$mode" != libfuzzer ]; then
		CC=afl-clang-fast CXX=afl-clang-fast++ OUT="$outdir/afl" \
		CFLAGS="$SAN" CXXFLAGS="$SAN" \
		LIB_FUZZING_ENGINE=-fsanitize=fuzzer AFL_QUIET=1 build_all
	fi
	;;
*)
	echo "usage: $0 libfuzzer|afl|all [OUTDIR] | oss-fuzz" >&2
	exit 2
	;;
esac
