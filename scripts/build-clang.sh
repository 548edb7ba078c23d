#!/usr/bin/env bash
# Builds Sluice a second time, into build-clang/, with clang++ and Clang's thread-safety
# analysis, so that the ABSL_GUARDED_BY / ABSL_EXCLUSIVE_LOCKS_REQUIRED annotations gcc
# ignores are checked: -Wthread-safety is an error, clang's other warnings are only shown
# (see sluice_strict_warnings in CMakeLists.txt). Only the compile-time check matters, so it
# builds without optimization or debug info, and nothing built here is run.
# Arguments: targets to build (default: everything, tests and benchmarks included).
set -euo pipefail
cd "$(dirname "$0")/.."

# ccache hits across clones and build directories.
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
jobs=${SLUICE_BUILD_JOBS:-$(nproc)}
cmake -S . -B build-clang -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0 >/dev/null
cmake --build build-clang -j "$jobs" ${1:+--target "$@"}
