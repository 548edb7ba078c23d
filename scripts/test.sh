#!/usr/bin/env bash
# Installs what is missing, checks formatting, builds once with clang for its thread-safety
# analysis, builds everything and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/check-format.sh   # seconds: fails before any build does
scripts/build-clang.sh    # build-clang/: checks the ABSL_GUARDED_BY annotations; not run
scripts/build.sh
cd build
ctest -j "${SLUICE_TEST_JOBS:-2}" --output-on-failure --timeout 300
