#!/usr/bin/env bash
# The keyed benchmark pipeline on a local cluster of real processes, all in
# one run so the figures compare as ratios:
#  1. throughput at parallelism 2 on one TaskManager (keyBy edge in memory)
#     and on two (half the keyBy edge crosses the data port), at buffer
#     timeouts 0, 1 ms and 100 ms;
#  2. end-to-end latency p50/p99 on two TaskManagers at half of that
#     two-TaskManager peak, per buffer timeout (LatencyPipeline job);
#  3. the data port's bytes/s in the two-TaskManager run at 100 ms against
#     loopback TCP bandwidth measured with iperf3.
#   bench/cluster_bench.sh [records] [latency seconds]   (defaults 30,000,000 and 10)
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-30000000}
latency_seconds=${2:-10}
timeouts=(0ms 1ms 100ms)
jobs=build/bench/libsluice_bench_jobs.so
if ! command -v iperf3 >/dev/null && [ "$(id -u)" = 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q iperf3 >/dev/null
fi

work=$(mktemp -d)
trap 'SLUICE_CONF_DIR=$work/conf SLUICE_PID_DIR=$work/run bin/stop-cluster.sh >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
mkdir -p "$work/conf"
cp conf/sluice.yaml "$work/conf/"
echo "taskmanager.network.buffers-per-channel: ${BUFFERS:-2}" >>"$work/conf/sluice.yaml"
echo localhost >"$work/conf/masters"
export SLUICE_CONF_DIR=$work/conf SLUICE_LOG_DIR=$work/log SLUICE_PID_DIR=$work/run

start_cluster() {  # $1: number of TaskManagers
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

data_bytes_sent() {  # summed over the TaskManagers' metrics
  local total=0 url value
  for url in $(grep -ho 'metrics at http://[^ ]*/metrics' "$work"/log/*taskmanager*.log | cut -d' ' -f3); do
    value=$(curl -sf "$url" | awk '/^sluice_taskmanager_data_bytes_total\{direction="sent"\}/ {print $2}')
    total=$(echo "$total + ${value:-0}" | bc -l)
  done
  echo "$total"
}

throughput() {  # $1: buffer timeout; prints records/s, wall time from submission to FINISHED
  local start end
  start=$(date +%s.%N)
  build/bin/sluice run -p 2 -D execution.buffer-timeout="$1" -c KeyedPipeline "$jobs" \
    -- --records "$records" >/dev/null
  end=$(date +%s.%N)
  echo "$records / ($end - $start)" | bc -l
}

latency() {  # $1: buffer timeout, $2: records/s; prints "p50_ms p99_ms"
  local dir=$work/latency-$1
  mkdir -p "$dir"
  build/bin/sluice run -p 2 -D execution.buffer-timeout="$1" -c LatencyPipeline "$jobs" \
    -- --rate "$2" --seconds "$latency_seconds" --latency-dir "$dir" >/dev/null
  # Histogram lines "<us> <count>" from every sink subtask, merged.
  cat "$dir"/*.txt | sort -n | awk '
    { us[NR] = $1; n[NR] = $2; total += $2 }
    END {
      for (i = 1; i <= NR; i++) {
        seen += n[i]
        if (!p50 && seen >= total * 0.50) p50 = us[i] + 1
        if (!p99 && seen >= total * 0.99) p99 = us[i] + 1
      }
      printf "%.2f %.2f\n", p50 / 1000, p99 / 1000
    }'
}

declare -A one two p50 p99
start_cluster 1
for t in "${timeouts[@]}"; do one[$t]=$(throughput "$t"); done
stop_cluster

start_cluster 2
for t in "${timeouts[@]}"; do
  if [ "$t" = 100ms ]; then
    bytes_before=$(data_bytes_sent)
    start=$(date +%s.%N)
    two[$t]=$(throughput "$t")
    end=$(date +%s.%N)
    edge_bytes_per_second=$(echo "($(data_bytes_sent) - $bytes_before) / ($end - $start)" | bc -l)
  else
    two[$t]=$(throughput "$t")
  fi
done
for t in "${timeouts[@]}"; do
  read -r p50[$t] p99[$t] < <(latency "$t" "$(echo "${two[$t]} / 2" | bc)")
done
stop_cluster

loopback=""
if command -v iperf3 >/dev/null; then
  port=$((20000 + RANDOM % 20000))
  iperf3 -s -1 -B 127.0.0.1 -p "$port" >/dev/null 2>&1 &
  sleep 0.5
  # Mbytes/s received, from the summary line.
  loopback=$(iperf3 -c 127.0.0.1 -p "$port" -t 5 -f M | awk '/receiver/ {print $(NF-2)}')
  wait
fi

printf '| buffer timeout | 1 TaskManager records/s | 2 TaskManagers records/s | 2 vs 1 | latency at half the 2-TM peak: rate | p50 | p99 |\n'
printf '|---|---|---|---|---|---|---|\n'
for t in "${timeouts[@]}"; do
  printf '| %s | %.0f | %.0f | %.0f%% | %.0f/s | %s ms | %s ms |\n' "$t" "${one[$t]}" "${two[$t]}" \
    "$(echo "${two[$t]} / ${one[$t]} * 100" | bc -l)" "$(echo "${two[$t]} / 2" | bc -l)" \
    "${p50[$t]}" "${p99[$t]}"
done
edge_mb=$(echo "$edge_bytes_per_second / 1048576" | bc -l)
if [ -n "$loopback" ]; then
  printf '\nData port at 100 ms: %.0f MiB/s sent; loopback TCP (iperf3, one stream): %.0f MiB/s; %.1f%% of it\n' \
    "$edge_mb" "$loopback" "$(echo "$edge_mb / $loopback * 100" | bc -l)"
else
  printf '\nData port at 100 ms: %.0f MiB/s sent (iperf3 not installed: no loopback figure)\n' "$edge_mb"
fi
