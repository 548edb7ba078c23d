# Sourced by script tests: a local cluster on loopback ports started by the
# real start scripts (one ResourceManager, one JobManager, a TaskManager with
# two slots for each of $CLUSTER_WORKERS, default "localhost localhost"),
# stopped and removed when the test's shell exits.
#   start_local_cluster <build-dir> <source-dir>
# sets: cluster_root, SLUICE_CONF_DIR/LOG_DIR/PID_DIR, jm_port, rest_port,
# rm_port, metrics_port (the first of the daemons' metrics port range), url.
# Savepoints go to $cluster_root/savepoints. $CLUSTER_CONFIG is appended to
# sluice.yaml; $CLUSTER_TOKEN is presented when the script asks the cluster
# (with security.admin-token set, it must be a token the JobManager knows).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The first of 31 free ports below the kernel's ephemeral range (32768 on),
# where no port-0 bind or outgoing connection of another test lands while the
# daemons take theirs (the Prometheus test predicts them from the range).
free_port_range() {
  python3 -c '
import random, socket
for _ in range(200):
    base = random.randrange(20000, 32768 - 31)
    try:
        for port in range(base, base + 31):
            s = socket.socket(); s.bind(("127.0.0.1", port)); s.close()
        print(base); break
    except OSError:
        pass'
}

stop_local_cluster() {
  bash "$cluster_src/bin/stop-cluster.sh" >/dev/null 2>&1 || true
  rm -rf "$cluster_root"
}

start_local_cluster() {
  local build=$1
  cluster_src=$2
  cluster_root=$(mktemp -d /tmp/sluice-cluster-XXXXXX)
  export SLUICE_CONF_DIR=$cluster_root/conf SLUICE_LOG_DIR=$cluster_root/log
  export SLUICE_PID_DIR=$cluster_root/run SLUICE_BIN_DIR=$build/bin
  trap stop_local_cluster EXIT
  rm_port=$(free_port) jm_port=$(free_port) rest_port=$(free_port) metrics_port=$(free_port_range)
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
metrics.reporter.prom.port: $metrics_port-$((metrics_port + 30))
execution.checkpointing.savepoint-dir: $cluster_root/savepoints
${CLUSTER_CONFIG:-}
YAML
  printf 'localhost\n' >"$SLUICE_CONF_DIR/masters"
  local -a workers
  read -r -a workers <<<"${CLUSTER_WORKERS:-localhost localhost}"
  printf '%s\n' "${workers[@]}" >"$SLUICE_CONF_DIR/workers"
  bash "$cluster_src/bin/start-cluster.sh"
  url=http://127.0.0.1:$rest_port
  local deadline=$((SECONDS + 30))
  until python3 - "$url" "${#workers[@]}" "${CLUSTER_TOKEN:-}" 2>/dev/null <<'PY'
import json, sys, urllib.request
request = urllib.request.Request(sys.argv[1] + "/overview")
if sys.argv[3]:
    request.add_header("Authorization", "Bearer " + sys.argv[3])
o = json.load(urllib.request.urlopen(request, timeout=2))
sys.exit(0 if o["taskmanagers"] == int(sys.argv[2]) else 1)
PY
  do
    if ((SECONDS > deadline)); then echo "the local cluster did not come up in 30 s" >&2; return 1; fi
    sleep 0.2
  done
}

# Submits a job of the test-jobs library detached; prints its id.
submit_test_job() {
  local build=$1 job=$2 out
  shift 2
  out=$(SLUICE_TOKEN=${CLUSTER_TOKEN:-} "$build/bin/sluice" run -m "127.0.0.1:$jm_port" -d "$@" -c "$job" \
    "$build/tests/jobs/libsluice_test_jobs.so")
  grep -oE 'JobID [0-9a-f]{32}' <<<"$out" | cut -d' ' -f2 | grep . ||
    { echo "submission printed no job id: $out" >&2; return 1; }
}
