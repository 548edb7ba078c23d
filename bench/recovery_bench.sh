#!/usr/bin/env bash
# Recovery after kill -9 of a TaskManager, on a local cluster of real
# processes: the keyed benchmark pipeline (KeyedPipeline, 10,000 keys) runs at
# parallelism 2 on 3 TaskManagers with checkpoints every second; once two
# checkpoints completed, the TaskManager running its tasks is killed. Per run:
# the time from the kill until the JobManager reports the job RESTARTING
# (the failure noticed), RUNNING again (redeployed from the checkpoint, under
# restart-strategy exponential-delay's default 1 s initial backoff), and the
# first checkpoint completed after it (every task processing again).
#   bench/recovery_bench.sh [runs]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
jobs=build/bench/libsluice_bench_jobs.so

work=$(mktemp -d)
trap 'SLUICE_CONF_DIR=$work/conf SLUICE_PID_DIR=$work/run bin/stop-cluster.sh >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
mkdir -p "$work/conf"
cp conf/sluice.yaml "$work/conf/"
cat >>"$work/conf/sluice.yaml" <<YAML
execution.checkpointing.interval: 1 s
execution.checkpointing.dir: $work/checkpoints
YAML
echo localhost >"$work/conf/masters"
printf 'localhost\nlocalhost\nlocalhost\n' >"$work/conf/workers"
export SLUICE_CONF_DIR=$work/conf SLUICE_LOG_DIR=$work/log SLUICE_PID_DIR=$work/run

now() { date +%s.%N; }
field() { grep -o "\"$1\":\"\?[A-Z0-9a-z]*" | head -1 | sed 's/.*:"\?//'; }
completed() { curl -sf "localhost:8081/jobs/$1/checkpoints" | grep -o '"completed":[0-9]*' | head -1 | cut -d: -f2; }

# The TaskManager with task threads ("sluice-v<vertex>-<subtask>").
victim() {
  local pid
  for pid in $(cat "$work/run/sluice-taskmanager.pid"); do
    if grep -qs '^sluice-v' /proc/"$pid"/task/*/comm; then echo "$pid"; return; fi
  done
}

one_run() {
  bin/start-cluster.sh >/dev/null
  for _ in $(seq 100); do
    curl -sf localhost:8081/overview | grep -q '"taskmanagers":3' && break
    sleep 0.1
  done
  local out job
  out=$(build/bin/sluice run -d -p 2 -c KeyedPipeline "$jobs" -- --records 1e12)
  job=$(echo "$out" | grep -o 'JobID [0-9a-f]*' | cut -d' ' -f2)
  for _ in $(seq 300); do [ "$(completed "$job")" -ge 2 ] 2>/dev/null && break; sleep 0.1; done
  local before pid t0 t_restarting="" t_running="" t_checkpoint="" state
  before=$(completed "$job")
  pid=$(victim)
  t0=$(now)
  kill -9 "$pid"
  for _ in $(seq 3000); do
    state=$(curl -sf "localhost:8081/jobs/$job" | field state || true)
    [ -z "$t_restarting" ] && [ "$state" = RESTARTING ] && t_restarting=$(now)
    [ -n "$t_restarting" ] && [ -z "$t_running" ] && [ "$state" = RUNNING ] && t_running=$(now)
    if [ -n "$t_running" ] && [ "$(completed "$job")" -gt "$before" ]; then t_checkpoint=$(now); break; fi
    sleep 0.02
  done
  printf '| %.2f s | %.2f s | %.2f s |\n' "$(echo "$t_restarting - $t0" | bc -l)" \
    "$(echo "$t_running - $t0" | bc -l)" "$(echo "$t_checkpoint - $t0" | bc -l)"
  build/bin/sluice cancel "$job" >/dev/null || true
  bin/stop-cluster.sh >/dev/null
  rm -rf "$work/log" "$work/checkpoints"
}

echo "| kill -9 to RESTARTING | to RUNNING again | to the next completed checkpoint |"
echo "|---|---|---|"
for _ in $(seq "$runs"); do one_run; done
