#!/usr/bin/env bash
# The container images for real: docker/compose.yaml brought up with podman
# (ResourceManager, JobManager, two TaskManagers, Prometheus, on loopback
# ports picked here), WordCount run through the image's CLI and its output
# checked word by word against a count made here, every Prometheus target up,
# then everything brought down. The images are built by
# docker/build-images.sh (the DockerImagesBuild ctest, this test's fixture).
#   compose_test.sh
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$src/docker/containers.conf}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
export SLUICE_JM_PORT=$(free_port) SLUICE_RM_PORT=$(free_port) SLUICE_REST_PORT=$(free_port)
export PROMETHEUS_PORT=$(free_port)
first=$(free_port)
export SLUICE_METRICS_PORTS=$first-$((first + 10))
export SLUICE_DATA_DIR=$(mktemp -d /tmp/sluice-compose-XXXXXX)
project=sluicetest$$
compose() {
  podman-compose --podman-path "$src/docker/podman-host-network.sh" -p "$project" \
    -f "$src/docker/compose.yaml" "$@"
}
finish() {
  local rc=$?
  if ((rc != 0)); then
    for c in $(podman ps -a --filter "label=io.podman.compose.project=$project" --format '{{.Names}}'); do
      echo "--- podman logs $c (last lines)" >&2
      podman logs --tail 15 "$c" >&2 || true
    done
  fi
  compose down -t 5 >/dev/null 2>&1 || true
  rm -rf "$SLUICE_DATA_DIR"
  exit "$rc"
}
trap finish EXIT
wait_for() {  # wait_for <seconds> <what> <command...>
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@"; do
    if ((SECONDS > deadline)); then echo "check failed: $what within the deadline" >&2; return 1; fi
    sleep 0.5
  done
}

compose up -d >/dev/null 2>&1
url=http://127.0.0.1:$SLUICE_REST_PORT
two_taskmanagers() { curl -sf "$url/overview" | grep -q '"taskmanagers":2[,}]'; }
wait_for 90 "two TaskManagers registered" two_taskmanagers
echo "ok - the compose cluster is up: two TaskManagers at $url"

# A text whose words are counted here, independently of the job.
mkdir -p "$SLUICE_DATA_DIR/in"
python3 - "$SLUICE_DATA_DIR/in" <<'PY'
import random, sys
rng = random.Random(7)
words = ["alpha", "Beta", "gamma42", "DELTA", "eps", "zeta", "eta", "theta"]
for part in range(3):
    with open(f"{sys.argv[1]}/part-{part}.txt", "w") as f:
        for _ in range(4000):
            f.write(" ".join(rng.choice(words) for _ in range(rng.randint(1, 12))))
            f.write(rng.choice([".\n", ", ", "!\n", "\n"]))
PY
jm=$(podman ps --filter "label=io.podman.compose.project=$project" --format '{{.Names}}' |
  grep jobmanager)
out=$(podman exec "$jm" sluice run -m "127.0.0.1:$SLUICE_JM_PORT" -p 2 -c WordCount \
  /opt/sluice/examples/libsluice_examples.so -- --input /data/in --output /data/out 2>&1) ||
  { echo "$out" >&2; echo "check failed: the job did not run" >&2; exit 1; }
grep -q FINISHED <<<"$out" || { echo "$out" >&2; echo "check failed: job not FINISHED" >&2; exit 1; }
python3 - "$SLUICE_DATA_DIR" <<'PY'
import collections, glob, re, sys
root = sys.argv[1]
expected = collections.Counter()
for path in glob.glob(f"{root}/in/*"):
    for line in open(path):
        expected.update(w.lower() for w in re.findall(r"[A-Za-z0-9]+", line))
counted = {}
for path in glob.glob(f"{root}/out/*"):
    for line in open(path):
        word, count = line.strip()[1:-1].rsplit(",", 1)
        counted[word] = max(counted.get(word, 0), int(count))
if counted != dict(expected):
    sys.exit(f"check failed: counts differ: job {sorted(counted.items())} "
             f"vs expected {sorted(expected.items())}")
print(f"ok - WordCount through the image counted {sum(expected.values())} words "
      f"({len(expected)} distinct) exactly as counted here")
PY

targets_up() {
  curl -sf "http://127.0.0.1:$PROMETHEUS_PORT/api/v1/targets" | python3 -c '
import json, sys
active = json.load(sys.stdin)["data"]["activeTargets"]
jobs = sorted(t["labels"]["job"] for t in active if t["health"] == "up")
sys.exit(0 if jobs == ["sluice-jobmanager", "sluice-resourcemanager",
                       "sluice-taskmanager", "sluice-taskmanager"] else 1)'
}
wait_for 60 "every Prometheus target up" targets_up
echo "ok - Prometheus scrapes the JobManager, the ResourceManager and both TaskManagers"
compose down -t 10 >/dev/null 2>&1
left=$(podman ps -a --filter "label=io.podman.compose.project=$project" --format '{{.Names}}')
[[ -z $left ]] || { echo "check failed: containers left after down: $left" >&2; exit 1; }
echo "ok - compose down removed every container"
