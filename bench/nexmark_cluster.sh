#!/usr/bin/env bash
# The Nexmark queries on a local cluster of real daemons with two
# TaskManagers (parallelism 2, the benchmark's blackhole sink): a fixed number
# of events per query, events per second of wall time (submission to
# FINISHED) and per core (events over the CPU time the TaskManagers and their
# job processes spent on the query, read from /proc). The source alone
# (NexmarkSource) runs in the same rounds as the baseline; queries are
# interleaved round by round so that the machine's drift hits all alike.
#   bench/nexmark_cluster.sh [events] [rounds] [queries...]
#   (defaults 4,000,000, 3, and the source, q0–q9 and q11)
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-4000000}
rounds=${2:-3}
shift $(($# > 2 ? 2 : $#))
queries=("$@")
[ ${#queries[@]} -gt 0 ] || queries=(Source Q0 Q1 Q2 Q3 Q4 Q5 Q6 Q7 Q8 Q9 Q11)
examples=build/examples/libsluice_examples.so
hz=$(getconf CLK_TCK)

work=$(mktemp -d)
trap 'SLUICE_CONF_DIR=$work/conf SLUICE_PID_DIR=$work/run bin/stop-cluster.sh >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
mkdir -p "$work/conf"
echo localhost >"$work/conf/masters"
printf 'localhost\nlocalhost\n' >"$work/conf/workers"
cp conf/sluice.yaml "$work/conf/"
export SLUICE_CONF_DIR=$work/conf SLUICE_LOG_DIR=$work/log SLUICE_PID_DIR=$work/run
bin/start-cluster.sh >/dev/null
for _ in $(seq 100); do
  curl -sf localhost:8081/overview | grep -Eq '"taskmanagers":2[,}]' && break
  sleep 0.1
done

# CPU seconds of the TaskManagers, their ended job processes included
# (utime + stime + cutime + cstime).
tm_cpu() {
  local total=0 pid
  for pid in $(cat "$work"/run/sluice-taskmanager*.pid); do
    total=$((total + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$pid/stat")))
  done
  echo "$total / $hz" | bc -l
}

# Until the query's job processes have ended (and been reaped: their CPU
# time is then in their TaskManager's cutime / cstime).
await_job_processes() {
  local pid
  for _ in $(seq 100); do
    local left=0
    for pid in $(cat "$work"/run/sluice-taskmanager*.pid); do
      pgrep -P "$pid" >/dev/null && left=1
    done
    [ "$left" = 0 ] && return
    sleep 0.05
  done
  echo "job processes still running after 5 s" >&2
}

declare -A wall cpu
for round in $(seq "$rounds"); do
  for q in "${queries[@]}"; do
    before=$(tm_cpu)
    start=$(date +%s.%N)
    build/bin/sluice run -p 2 -c "Nexmark$q" "$examples" -- --events "$events" >/dev/null
    end=$(date +%s.%N)
    await_job_processes
    after=$(tm_cpu)
    wall[$q]="${wall[$q]:-} $(echo "$end - $start" | bc -l)"
    cpu[$q]="${cpu[$q]:-} $(echo "$after - $before" | bc -l)"
    echo "round $round, $q: $(echo "$end - $start" | bc -l | xargs printf '%.2f') s wall," \
      "$(echo "$after - $before" | bc -l | xargs printf '%.2f') s CPU" >&2
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '| query | events/s per core | events/s (wall) | vs the source alone (per core) |\n|---|---|---|---|\n'
base=$(echo "$events / $(echo "${cpu[${queries[0]}]}" | median)" | bc -l)
for q in "${queries[@]}"; do
  per_core=$(echo "$events / $(echo "${cpu[$q]}" | median)" | bc -l)
  per_wall=$(echo "$events / $(echo "${wall[$q]}" | median)" | bc -l)
  printf '| %s | %.0f | %.0f | %.0f%% |\n' "$q" "$per_core" "$per_wall" \
    "$(echo "$per_core / $base * 100" | bc -l)"
done
