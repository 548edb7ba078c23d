#!/usr/bin/env bash
# Throughput of the keyed benchmark pipeline on a local cluster of real
# processes: parallelism 2 on one TaskManager (keyBy edge in memory) versus
# on two TaskManagers (keyBy edge across the network), same run.
#   bench/cluster_bench.sh [records]   (default 20,000,000)
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-20000000}
work=$(mktemp -d)
trap 'SLUICE_CONF_DIR=$work/conf SLUICE_PID_DIR=$work/run bin/stop-cluster.sh >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
mkdir -p "$work/conf"
cp conf/sluice.yaml "$work/conf/"
echo "taskmanager.network.buffers-per-channel: ${BUFFERS:-2}" >>"$work/conf/sluice.yaml"
echo localhost >"$work/conf/masters"
export SLUICE_CONF_DIR=$work/conf SLUICE_LOG_DIR=$work/log SLUICE_PID_DIR=$work/run

run_once() {  # $1: number of TaskManagers; prints records/s
  local tms=$1
  : >"$work/conf/workers"
  for _ in $(seq "$tms"); do echo localhost >>"$work/conf/workers"; done
  bin/start-cluster.sh >/dev/null
  for _ in $(seq 100); do
    curl -sf localhost:8081/overview | grep -q "\"taskmanagers\":$tms," && break
    sleep 0.1
  done
  local start end
  start=$(date +%s.%N)
  build/bin/sluice run -p 2 -c KeyedPipeline build/bench/libsluice_bench_jobs.so -- --records "$records" >/dev/null
  end=$(date +%s.%N)
  bin/stop-cluster.sh >/dev/null
  echo "$records / ($end - $start)" | bc -l
}

one=$(run_once 1)
two=$(run_once 2)
printf '| TaskManagers | records/s (p=2, %d records, incl. deploy) | vs one TaskManager |\n|---|---|---|\n' "$records"
printf '| 1 (keyBy edge in memory) | %.0f | 100%% |\n' "$one"
printf '| 2 (keyBy edge over the network) | %.0f | %.0f%% |\n' "$two" "$(echo "$two / $one * 100" | bc -l)"
