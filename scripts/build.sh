#!/usr/bin/env bash
# Configures and builds into build/ (RelWithDebInfo, Ninja, ccache).
# Arguments: targets to build (default: everything, tests included).
set -euo pipefail
cd "$(dirname "$0")/.."

# ccache hits across clones and build directories.
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
jobs=${SLUICE_BUILD_JOBS:-$(nproc)}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs" ${1:+--target "$@"}
