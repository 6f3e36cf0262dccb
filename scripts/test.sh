#!/usr/bin/env bash
# test.sh — run every instar test: the whole Bazel test suite twice, in the
# plain build and under AddressSanitizer + UndefinedBehaviorSanitizer,
# then print one line `N passed, N failed[, N skipped]` counting test
# cases (googletest cases and the cases of the shell suites) of both runs.
# Two kinds of test run in the plain pass only, since the sanitizer
# build cannot change what they check: the static checks (tag "static":
# the shell-script lint, the layout rules, clang-tidy, the generated
# fuzz/sources.sh), which read sources, not binaries (clang-tidy is
# given the asan pass's view of the sources: build/clang_tidy.bzl); and
# (tag "once") the fuzz smoke and OSS-Fuzz builds, whose fuzzers carry
# ASan + UBSan in every configuration, the harness self-checks
# (hostile, differential, locks), which drive fake tools, not instar,
# the amend differential suite against the qemu-img releases other than
# the system's (instar runs there exactly as in differential_instar,
# whose sanitizer run covers it; only the reference differs) and through
# the planner alone (plan_apply: the same planner runs under the
# sanitizers in differential_instar and in the fuzzers),
# and the packaging tests (//tests/dist: install, manual pages, bash
# completion, version stamp), which check files and texts the sanitizer
# build cannot change (and scripts/install.sh refuses a sanitizer build).
# Exit status is non-zero when anything failed.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1

if [ ! -e /dev/kvm ]; then
	echo "test.sh: /dev/kvm is missing: the KVM sandbox tests will FAIL" >&2
fi

BAZEL=(bazel)
total_p=0 total_f=0 total_s=0
status=0

labels=$("${BAZEL[@]}" query 'tests(//...)' 2>/dev/null | sort)
dynamic=$("${BAZEL[@]}" query 'tests(//...) except attr(tags, "\b(static|once)\b", tests(//...))' 2>/dev/null | sort)
if [ -z "$labels" ] || [ -z "$dynamic" ]; then
	echo "test.sh: bazel query found no tests" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

for config in plain asan; do
	args=()
	run_labels=$labels
	if [ "$config" = asan ]; then
		skip_tags=-static,-once
		args=(--config=asan "--test_tag_filters=$skip_tags" "--build_tag_filters=$skip_tags")
		run_labels=$dynamic
	fi
	echo "=== bazel test ${args[*]:-} //... ($config)"
	since=$(date +%s)
	sleep 1  # test.xml mtimes of this run are then strictly newer
	bep=$(mktemp)
	"${BAZEL[@]}" test "${args[@]}" --nocache_test_results --test_output=errors \
		--keep_going --build_event_json_file="$bep" //... 2>&1 |
		grep -v -e '^Loading' -e '^Analyzing' -e '^\[' -e '^INFO: From'
	rc=${PIPESTATUS[0]}
	[ "$rc" -eq 0 ] || status=1
	testlogs=$(readlink -f bazel-testlogs)
	# shellcheck disable=SC2086 # labels is a list of Bazel labels, one word each
	if ! out=$(python3 tests/count_results.py "$testlogs" "$since" "$bep" $run_labels) ||
		! grep -q '^TOTAL [0-9]* [0-9]* [0-9]*$' <<<"$out"; then
		# A counter that fails must not read as "0 failed".
		echo "$out"
		echo "test.sh: tests/count_results.py failed; counting one failure" >&2
		out="TOTAL 0 1 0"
	fi
	rm -f "$bep"
	echo "$out" | grep -v '^TOTAL'
	read -r _ p f s <<<"$(echo "$out" | grep '^TOTAL')"
	echo "--- $config: $p passed, $f failed, $s skipped"
	total_p=$((total_p + p))
	total_f=$((total_f + f))
	total_s=$((total_s + s))
done

[ "$total_f" -eq 0 ] || status=1
if [ "$total_s" -gt 0 ]; then
	echo "$total_p passed, $total_f failed, $total_s skipped"
else
	echo "$total_p passed, $total_f failed"
fi
exit "$status"
