#!/usr/bin/env bash
# smoke_test.sh — the CI smoke run of every fuzz target: each libFuzzer
# binary runs for $FUZZ_SECONDS (default 10) over its seed corpus, its
# regression reproducers and its dictionary. Any crash, leak, timeout or
# broken invariant fails the target, and the test. Writes one JUnit
# testcase per target to $XML_OUTPUT_FILE (how tests/count_results.py
# counts cases) and keeps crash artifacts and logs in
# $TEST_UNDECLARED_OUTPUTS_DIR.
#
# Usage (Bazel passes these): smoke_test.sh TARGET:DICT...
# Trusts: the binaries and corpora Bazel built and staged in runfiles.
set -uo pipefail

secs=${FUZZ_SECONDS:-10}
work=${TEST_TMPDIR:-$(mktemp -d)}
arts=${TEST_UNDECLARED_OUTPUTS_DIR:-$work}
xml=${XML_OUTPUT_FILE:-$work/test.xml}
[ $# -gt 0 ] || { echo "smoke_test.sh: no targets given" >&2; exit 2; }

cases=""
failures=0
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
		cases+="<testcase classname=\"fuzz.smoke\" name=\"$t\" time=\"$dur\"><system-out>${runs} runs, ${rate} exec/s</system-out></testcase>"
	else
		failures=$((failures + 1))
		echo "FAIL $t (exit $rc); log $log:"
		tail -n 60 "$log"
		body=$(tail -n 60 "$log" | sed 's/]]>/]] >/g')
		cases+="<testcase classname=\"fuzz.smoke\" name=\"$t\" time=\"$dur\"><failure message=\"libFuzzer exit $rc\"><![CDATA[$body]]></failure></testcase>"
	fi
done

{
	echo '<?xml version="1.0" encoding="UTF-8"?>'
	echo "<testsuites><testsuite name=\"fuzz_smoke\" tests=\"$#\" failures=\"$failures\" errors=\"0\" time=\"$total_time\">"
	echo "$cases"
	echo "</testsuite></testsuites>"
} >"$xml"
echo "smoke: $# targets, $failures failed, ${total_time} s"
[ "$failures" -eq 0 ]
