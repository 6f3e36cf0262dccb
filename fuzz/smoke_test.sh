#!/usr/bin/env bash
# smoke_test.sh — the CI smoke run of every fuzz target: each libFuzzer
# binary runs for $FUZZ_SECONDS (default 10) over its seed corpus, its
# regression reproducers and its dictionary. Any crash, leak, timeout or
# broken invariant fails the target, and the test. Writes one JUnit
# testcase per target to $XML_OUTPUT_FILE with tests/lib/junit.sh (how
# tests/count_results.py counts cases) and keeps crash artifacts and logs
# in $TEST_UNDECLARED_OUTPUTS_DIR.
#
# Usage (Bazel passes these): smoke_test.sh TARGET:DICT...
# Trusts: the binaries and corpora Bazel built and staged in runfiles.
set -uo pipefail

secs=${FUZZ_SECONDS:-10}
work=${TEST_TMPDIR:-$(mktemp -d)}
arts=${TEST_UNDECLARED_OUTPUTS_DIR:-$work}
[ $# -gt 0 ] || { echo "smoke_test.sh: no targets given" >&2; exit 2; }
# shellcheck source=tests/lib/junit.sh
source "${JUNIT_SH:-tests/lib/junit.sh}" || { echo "smoke_test.sh: cannot source junit.sh" >&2; exit 2; }
junit_init fuzz_smoke "$work"

total_time=0
for spec in "$@"; do
	t=${spec%%:*}
	dict=${spec#*:}
	bin=fuzz/${t}_fuzzer
	log=$arts/$t.log
	new=$work/new_$t
	mkdir -p "$new"
	dirs=("$new" "fuzz/corpus/$t")
	[ -d "fuzz/regressions/$t" ] && dirs+=("fuzz/regressions/$t")
	start=$(date +%s.%N)
	if [ ! -x "$bin" ] || [ ! -d "fuzz/corpus/$t" ] || [ ! -f "$dict" ]; then
		echo "missing $bin, fuzz/corpus/$t or $dict" >"$log"
		rc=99
	else
		"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2560 \
			-dict="$dict" -artifact_prefix="$arts/$t-" \
			-print_final_stats=1 "${dirs[@]}" >"$log" 2>&1
		rc=$?
	fi
	end=$(date +%s.%N)
	dur=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
	total_time=$(awk -v a="$total_time" -v b="$dur" 'BEGIN { printf "%.1f", a + b }')
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	# A run that executed nothing proves nothing.
	if [ "$rc" -eq 0 ] && [ "${runs:-0}" -le 0 ]; then
		rc=98
	fi
	# amend_guest says how many inputs reached the guest in KVM.
	guest=$(grep -m1 -o '[0-9]* guest runs in one VM ([0-9]* rebuilt)' "$log" || true)
	if [ "$rc" -eq 0 ]; then
		echo "PASS $t: ${runs} runs, ${rate} exec/s${guest:+ ($guest)}, ${dur} s"
		junit_case "$t" pass "" "$dur" "${runs} runs, ${rate} exec/s" fuzz.smoke
	else
		echo "FAIL $t (exit $rc); log $log:"
		tail -n 60 "$log"
		junit_case "$t" fail "libFuzzer exit $rc
$(tail -n 60 "$log")" "$dur" "" fuzz.smoke 2>/dev/null
	fi
done

junit_finish >/dev/null
status=$?
echo "smoke: $# targets, $FAIL failed, ${total_time} s"
exit "$status"
