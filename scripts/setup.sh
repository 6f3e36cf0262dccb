#!/usr/bin/env bash
# setup.sh — the README's first command: install the Debian packages,
# build everything with Bazel (offline), and run the demo on a sample
# image it creates.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bazel build //...
bash scripts/demo.sh
