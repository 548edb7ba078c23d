#!/usr/bin/env bash
# What checkpoints cost in throughput, on a local cluster of real processes
# (2 TaskManagers): the keyed benchmark pipeline (KeyedPipeline: generator ->
# map -> keyBy -> sum, 10,000 keys) at parallelism 2, without checkpoints and
# with one every 10 s and every 1 s (per-job -D keys), alternated round by
# round in one run so the figures compare as ratios.
#   bench/checkpoint_cost.sh [records] [rounds]   (defaults 100,000,000 and 2)
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-100000000}
rounds=${2:-2}
jobs=build/bench/libsluice_bench_jobs.so

work=$(mktemp -d)
trap 'SLUICE_CONF_DIR=$work/conf SLUICE_PID_DIR=$work/run bin/stop-cluster.sh >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
mkdir -p "$work/conf"
cp conf/sluice.yaml "$work/conf/"
echo localhost >"$work/conf/masters"
printf 'localhost\nlocalhost\n' >"$work/conf/workers"
export SLUICE_CONF_DIR=$work/conf SLUICE_LOG_DIR=$work/log SLUICE_PID_DIR=$work/run

bin/start-cluster.sh >/dev/null
for _ in $(seq 100); do
  curl -sf localhost:8081/overview | grep -q '"taskmanagers":2' && break
  sleep 0.1
done

run() {  # $1: checkpoint interval or "none"; prints records/s
  local flags=() start end
  if [ "$1" != none ]; then
    flags=(-D "execution.checkpointing.interval=$1" -D "execution.checkpointing.dir=$work/chk")
  fi
  start=$(date +%s.%N)
  build/bin/sluice run -p 2 "${flags[@]}" -c KeyedPipeline "$jobs" -- --records "$records" >/dev/null
  end=$(date +%s.%N)
  echo "$records / ($end - $start)" | bc -l
}

declare -A sum
for round in $(seq "$rounds"); do
  for interval in none 10s 1s; do
    rate=$(run "$interval")
    sum[$interval]=$(echo "${sum[$interval]:-0} + $rate" | bc -l)
    printf 'round %d  %-5s %.2f M records/s\n' "$round" "$interval" "$(echo "$rate / 1000000" | bc -l)"
  done
done
none=$(echo "${sum[none]} / $rounds" | bc -l)
for interval in 10s 1s; do
  mean=$(echo "${sum[$interval]} / $rounds" | bc -l)
  printf 'checkpoints every %-3s: %.2f M records/s, %.1f%% of none (%.2f M/s)\n' "$interval" \
    "$(echo "$mean / 1000000" | bc -l)" "$(echo "100 * $mean / $none" | bc -l)" \
    "$(echo "$none / 1000000" | bc -l)"
done
