#!/usr/bin/env bash
# Aligned against unaligned checkpoint duration under full backpressure, on
# a local cluster of real processes (2 TaskManagers): the Backpressured job
# (an endless generator into a keyed operator spending --work-us of CPU per
# record) at parallelism 2 with a checkpoint every second, once aligned, once
# unaligned and once aligned with a 200 ms aligned-checkpoint-timeout,
# alternated round by round. Each run lasts 14 s; the durations are those of
# the completed checkpoints in /jobs/<id>/checkpoints (the latest 10).
#   bench/unaligned_checkpoints.sh [work-us] [rounds]   (defaults 500 and 2)
set -euo pipefail
cd "$(dirname "$0")/.."
work_us=${1:-500}
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

run() {  # $1: aligned | unaligned | timeout; prints the completed checkpoints' durations (ms)
  local flags=(-D execution.checkpointing.interval=1s -D "execution.checkpointing.dir=$work/chk")
  case $1 in
    unaligned) flags+=(-D execution.checkpointing.unaligned.enabled=true) ;;
    timeout) flags+=(-D execution.checkpointing.unaligned.enabled=true
      -D execution.checkpointing.aligned-checkpoint-timeout=200ms) ;;
  esac
  local id
  id=$(build/bin/sluice run -d -p 2 "${flags[@]}" -c Backpressured "$jobs" -- --work-us "$work_us" |
    grep -oE '[0-9a-f]{32}' | head -1)
  sleep 14
  curl -sf "localhost:8081/jobs/$id/checkpoints" |
    python3 -c 'import json,sys; h=json.load(sys.stdin)["history"]
print(" ".join(str(c["end_to_end_duration"]) for c in h if c["status"]=="COMPLETED"))'
  build/bin/sluice cancel "$id" >/dev/null
  sleep 1
}

declare -A all
for round in $(seq "$rounds"); do
  for mode in aligned unaligned timeout; do
    durations=$(run "$mode")
    echo "round $round $mode: $durations ms"
    all[$mode]="${all[$mode]:-} $durations"
  done
done
for mode in aligned unaligned timeout; do
  echo "${all[$mode]}" | tr ' ' '\n' | grep . | sort -n |
    awk -v m="$mode" '{d[NR]=$1} END {printf "%-9s n=%d  p50 %d ms  max %d ms\n", m, NR, d[int((NR+1)/2)], d[NR]}'
done
