#!/bin/bash
# update_sources.sh — `bazel run //fuzz:update_sources`: rewrite
# fuzz/sources.sh in the workspace from //fuzz:sources_sh.
set -eu
: "${BUILD_WORKSPACE_DIRECTORY:?run me with bazel run //fuzz:update_sources}"
cp "$1" "$BUILD_WORKSPACE_DIRECTORY/fuzz/sources.sh"
chmod 644 "$BUILD_WORKSPACE_DIRECTORY/fuzz/sources.sh"
echo "wrote $BUILD_WORKSPACE_DIRECTORY/fuzz/sources.sh"
