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

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then echo "missing: apt-get install ${missing[*]}" >&2; exit 1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi
node_dir=$build/webui-test-node
if [[ ! -d $node_dir/node_modules/playwright-core ]]; then
  mkdir -p "$node_dir"
  cp "$here/package.json" "$here/package-lock.json" "$node_dir/"
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
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
