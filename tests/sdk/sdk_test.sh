#!/usr/bin/env bash
# Installs the SDK from the build tree into a temporary prefix, builds a
# separate job project against it with find_package(Sluice), and runs the job
# with the sluice CLI.
set -euo pipefail
build_dir=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
# No build type, as many user projects: the job library must still be optimized.
cmake -S "$source_dir/tests/sdk" -B "$work/build" -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
if ! grep -q -- '-O2' "$work/build/compile_commands.json"; then
  echo "the job library was not built optimized:" >&2
  cat "$work/build/compile_commands.json" >&2
  exit 1
fi
output=$("$work/prefix/bin/sluice" run --local -p 2 -c Squares "$work/build/libuser_jobs.so" -- --last 10)
echo "$output"
grep -q "FINISHED" <<<"$output"
# Ten squares, each printed once with its subtask prefix.
[[ $(grep -cE '^[12]> \([0-9]+,[0-9]+\)$' <<<"$output") -eq 10 ]]
grep -q '(10,100)' <<<"$output"
echo "SDK job ran"
