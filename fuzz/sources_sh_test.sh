#!/bin/bash
# sources_sh_test.sh — fuzz/sources.sh (checked in, read by the builds
# outside Bazel) must be exactly what //fuzz:sources_sh generates from the
# BUILD files; a stale copy fails with the command that rewrites it.
# Usage: sources_sh_test.sh GENERATED CHECKED_IN
set -u
# shellcheck source=tests/lib/junit.sh
source "${JUNIT_SH:-tests/lib/junit.sh}"
junit_init fuzz_sources "${TEST_TMPDIR:-/tmp}"
if d=$(diff -u "$2" "$1" 2>&1); then
	junit_case "fuzz/sources.sh is up to date" pass
else
	junit_case "fuzz/sources.sh is up to date" fail \
		"fuzz/sources.sh differs from what Bazel generates; run: bazel run //fuzz:update_sources
$d"
fi
junit_finish
