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

root=$(mktemp -d /tmp/sluice-webui-XXXXXX)
export SLUICE_CONF_DIR=$root/conf SLUICE_LOG_DIR=$root/log SLUICE_PID_DIR=$root/run
export SLUICE_BIN_DIR=$build/bin
cleanup() {
  bash "$src/bin/stop-cluster.sh" >/dev/null 2>&1 || true
  rm -rf "$root"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rm_port=$(free_port); jm_port=$(free_port); rest_port=$(free_port); metrics=$(free_port)
mkdir -p "$SLUICE_CONF_DIR"
cat >"$SLUICE_CONF_DIR/sluice.yaml" <<YAML
jobmanager.rpc.address: 127.0.0.1
jobmanager.rpc.port: $jm_port
jobmanager.bind-host: 127.0.0.1
resourcemanager.rpc.address: 127.0.0.1
resourcemanager.rpc.port: $rm_port
resourcemanager.bind-host: 127.0.0.1
rest.port: $rest_port
rest.bind-address: 127.0.0.1
taskmanager.host: 127.0.0.1
taskmanager.bind-host: 127.0.0.1
taskmanager.numberOfTaskSlots: 2
metrics.reporter.prom.port: $metrics-$((metrics + 30))
YAML
printf 'localhost\n' >"$SLUICE_CONF_DIR/masters"
printf 'localhost\nlocalhost\n' >"$SLUICE_CONF_DIR/workers"
bash "$src/bin/start-cluster.sh"

url=http://127.0.0.1:$rest_port
deadline=$((SECONDS + 30))
until curl_out=$(python3 - "$url" <<'PY' 2>/dev/null
import json, sys, urllib.request
o = json.load(urllib.request.urlopen(sys.argv[1] + "/overview", timeout=2))
sys.exit(0 if o["taskmanagers"] == 2 else 1)
PY
); do
  if ((SECONDS > deadline)); then echo "the cluster did not come up in 30 s" >&2; exit 1; fi
  sleep 0.2
done
out=$("$build/bin/sluice" run -m "127.0.0.1:$jm_port" -d -p 2 -c Unbounded \
  "$build/tests/jobs/libsluice_test_jobs.so")
job=$(grep -oE 'JobID [0-9a-f]{32}' <<<"$out" | cut -d' ' -f2)
[[ -n $job ]] || { echo "submission printed no job id: $out" >&2; exit 1; }
node "$node_dir/browser_test.mjs" "$url" "$job" "$shots"
