#!/usr/bin/env bash
# The web UI in a real browser: starts a local cluster on loopback ports with
# the real start scripts, submits a job, and drives Debian's headless
# Chromium through every page with playwright-core (tests/webui/browser_test.mjs).
# Installs what it needs when missing: chromium (apt, as root) and the
# pinned playwright-core (npm ci, into the build directory).
#   browser_test.sh <build-dir> [<screenshot-dir>]
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
shots=${2:-$build/webui-screenshots}
mkdir -p "$shots"

source "$here/setup_browser.sh"
cp "$here/browser_test.mjs" "$node_dir/"

source "$src/tests/testing/local_cluster.sh"
start_local_cluster "$build" "$src"
job=$(submit_test_job "$build" Unbounded -p 2)      # cancelled from its page
stopped=$(submit_test_job "$build" Unbounded -p 2)  # stopped with a savepoint
node "$node_dir/browser_test.mjs" "$url" "$job" "$stopped" "$shots"
# The savepoint the stop button took is on disk, complete.
metadata=$(find "$cluster_root/savepoints" -path "*savepoint-${stopped:0:6}-*/_metadata" | head -1)
[[ -s $metadata ]] || { echo "check failed: no savepoint of job $stopped on disk" >&2; exit 1; }
echo "ok - the savepoint is on disk: $metadata"
