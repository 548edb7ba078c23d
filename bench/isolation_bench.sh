#!/usr/bin/env bash
# What taskmanager.isolation: process costs against shared, in one run so the
# figures compare as ratios: the cluster benchmark's keyed pipeline
# (KeyedPipeline, parallelism 2, default buffer timeout) on one and on two
# TaskManagers, each mode's runs interleaved (shared, process, shared, …) so
# that the machine's drift hits both alike; wall time from submission to
# FINISHED (deployment, and in process mode the job processes' start,
# included). Also the time from submission to RUNNING of a short job.
#   bench/isolation_bench.sh [records] [rounds]   (defaults 20,000,000 and 3)
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-20000000}
rounds=${2:-3}
jobs=build/bench/libsluice_bench_jobs.so

work=$(mktemp -d)
trap 'SLUICE_CONF_DIR=$work/conf SLUICE_PID_DIR=$work/run bin/stop-cluster.sh >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
mkdir -p "$work/conf"
echo localhost >"$work/conf/masters"
export SLUICE_CONF_DIR=$work/conf SLUICE_LOG_DIR=$work/log SLUICE_PID_DIR=$work/run

start_cluster() {  # $1: TaskManagers, $2: isolation
  cp conf/sluice.yaml "$work/conf/"
  echo "taskmanager.isolation: $2" >>"$work/conf/sluice.yaml"
  : >"$work/conf/workers"
  for _ in $(seq "$1"); do echo localhost >>"$work/conf/workers"; done
  bin/start-cluster.sh >/dev/null
  for _ in $(seq 100); do
    curl -sf localhost:8081/overview | grep -Eq "\"taskmanagers\":$1[,}]" && return
    sleep 0.1
  done
  echo "the cluster did not come up" >&2
  exit 1
}

stop_cluster() {
  bin/stop-cluster.sh >/dev/null
  rm -rf "$work/log"
}

throughput() {  # prints records/s
  local start end
  start=$(date +%s.%N)
  build/bin/sluice run -p 2 -c KeyedPipeline "$jobs" -- --records "$records" >/dev/null
  end=$(date +%s.%N)
  echo "$records / ($end - $start)" | bc -l
}

declare -A sum
for tms in 1 2; do
  for round in $(seq "$rounds"); do
    for mode in shared process; do
      start_cluster "$tms" "$mode"
      rate=$(throughput)
      stop_cluster
      sum[$tms-$mode]=$(echo "${sum[$tms-$mode]:-0} + $rate" | bc -l)
      echo "round $round, $tms TaskManager(s), $mode: $(printf '%.0f' "$rate") records/s" >&2
    done
  done
done

printf '| TaskManagers | shared records/s | process records/s | process vs shared |\n|---|---|---|---|\n'
for tms in 1 2; do
  s=$(echo "${sum[$tms-shared]} / $rounds" | bc -l)
  p=$(echo "${sum[$tms-process]} / $rounds" | bc -l)
  printf '| %s | %.0f | %.0f | %.0f%% |\n' "$tms" "$s" "$p" "$(echo "$p / $s * 100" | bc -l)"
done
