#!/bin/sh
# Offline stand-in: instar measures coverage with llvm-cov (fuzz/coverage.sh).
echo "coverage_report_generator: not available offline; use fuzz/coverage.sh" >&2
exit 1
