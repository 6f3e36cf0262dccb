#!/bin/bash -eu
# build.sh — OSS-Fuzz's entry point for instar: the project keeps its own
# build script (fuzz/build.sh), which compiles every harness with $CC
# $CFLAGS, links it with $CXX $CXXFLAGS $LIB_FUZZING_ENGINE and writes the
# fuzzers, dictionaries, options and seed-corpus zips into $OUT.
"$SRC/instar/fuzz/build.sh" oss-fuzz
