#!/usr/bin/env bash
# demo.sh — make a sample qcow2 v2 image with qemu-img and show what
# exists of instar on it.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
qemu-img create -q -f qcow2 -o compat=0.10 "$dir/sample.qcow2" 64M
echo "--- qemu-img info (before)"
qemu-img info "$dir/sample.qcow2"
