#!/usr/bin/env bash
# The start scripts' logs and failed starts: a daemon started while others of
# its kind run takes the first log no running instance writes (a TaskManager
# started after another died must not truncate a live one's log), the log of
# an earlier run is rotated (at most SLUICE_LOG_MAX kept), and a cluster whose
# JobManager cannot start leaves no ResourceManager behind.
#   daemon_logs_test.sh <build-dir>
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/sluice-logs-XXXXXX)
export SLUICE_CONF_DIR=$work/conf SLUICE_LOG_DIR=$work/log SLUICE_PID_DIR=$work/run
export SLUICE_BIN_DIR=$build/bin SLUICE_LOG_MAX=2 SLUICE_STOP_TIMEOUT=5
cleanup() {
  bash "$src/bin/taskmanager.sh" stop-all >/dev/null 2>&1 || true
  bash "$src/bin/jobmanager.sh" stop-all >/dev/null 2>&1 || true
  bash "$src/bin/resourcemanager.sh" stop-all >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; ls -la "$work/log" >&2 || true; exit 1; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
mkdir -p "$SLUICE_CONF_DIR"
rm_port=$(free_port) jm_port=$(free_port) rest_port=$(free_port) metrics=$(free_port)
# No ResourceManager runs at first: the TaskManagers keep trying to register
# (on a closed loopback port) and log that.
cat >"$SLUICE_CONF_DIR/sluice.yaml" <<YAML
resourcemanager.rpc.address: 127.0.0.1
resourcemanager.rpc.port: $rm_port
resourcemanager.bind-host: 127.0.0.1
jobmanager.rpc.address: 127.0.0.1
jobmanager.rpc.port: $jm_port
jobmanager.bind-host: 127.0.0.1
rest.port: $rest_port
rest.bind-address: 127.0.0.1
taskmanager.host: 127.0.0.1
taskmanager.bind-host: 127.0.0.1
metrics.reporter.prom.port: $metrics-$((metrics + 30))
YAML
log() { echo "$work/log/sluice-taskmanager-$1-$(hostname).log"; }
tm_pid() { sed -n "$(($1 + 1))p" "$SLUICE_PID_DIR/sluice-taskmanager.pid"; }

bash "$src/bin/taskmanager.sh" start >/dev/null
bash "$src/bin/taskmanager.sh" start >/dev/null
[[ -s $(log 0) && -s $(log 1) ]] || fail "two TaskManagers, two logs"
first=$(tm_pid 0)
kill -9 "$first"
while kill -0 "$first" 2>/dev/null; do sleep 0.1; done
echo "marker of the killed run" >>"$(log 0)"
size_before=$(stat -c %s "$(log 1)")
bash "$src/bin/taskmanager.sh" start >/dev/null
sleep 0.5
size_after=$(stat -c %s "$(log 1)")
((size_after >= size_before)) || fail "the live TaskManager's log was truncated ($size_before -> $size_after bytes)"
grep -q "marker of the killed run" "$(log 0).1" || fail "the dead instance's log was not rotated to .1"
grep -q "TaskManager" "$(log 0)" || fail "the new TaskManager does not write log 0"
[[ ! -e $(log 2) ]] || fail "a third log was opened although instance 0 was free"
# Rotation keeps SLUICE_LOG_MAX (2) old logs.
for _ in 1 2 3; do
  bash "$src/bin/taskmanager.sh" stop >/dev/null  # the most recent one: instance 0
  bash "$src/bin/taskmanager.sh" start >/dev/null
done
[[ -e $(log 0).1 && -e $(log 0).2 && ! -e $(log 0).3 ]] || fail "rotation kept other than 2 old logs"
bash "$src/bin/taskmanager.sh" stop-all >/dev/null

# A JobManager that cannot start (its REST port is taken): no ResourceManager is left.
python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $rest_port)); s.listen(); time.sleep(60)" &
blocker=$!
sleep 0.5
echo localhost >"$SLUICE_CONF_DIR/masters"
: >"$SLUICE_CONF_DIR/workers"
if bash "$src/bin/start-cluster.sh" >"$work/start.out" 2>&1; then
  kill "$blocker"
  fail "start-cluster succeeded with the JobManager's REST port taken"
fi
kill "$blocker"
grep -q "jobmanager failed to start" "$work/start.out" || fail "no line naming the failed JobManager: $(cat "$work/start.out")"
if pgrep -f "$build/bin/sluice-resourcemanager --conf-dir $SLUICE_CONF_DIR" >/dev/null; then
  fail "the ResourceManager started before the JobManager failed still runs"
fi
echo "PASS"
