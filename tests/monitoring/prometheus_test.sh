#!/usr/bin/env bash
# Debian's real Prometheus against a running local cluster with a job:
#  - promtool check metrics passes on every daemon's /metrics;
#  - the generated scrape configuration (monitoring/generate-prometheus-config.sh)
#    finds every daemon and Prometheus scrapes them all;
#  - the alert rules load, and their promtool unit tests pass;
#  - every query of the Grafana dashboard and every alert's query (the part
#    before its threshold) returns data, and the dashboard's JSON has the
#    structure Grafana imports.
# Installs prometheus (apt, as root) when missing.
#   prometheus_test.sh <build-dir>
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  if [[ $(id -u) -ne 0 ]]; then echo "missing: apt-get install prometheus" >&2; exit 1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q prometheus >/dev/null
  # The package starts its own server (on 0.0.0.0:9090); this test runs its own.
  systemctl stop prometheus prometheus-node-exporter >/dev/null 2>&1 || true
fi

source "$src/tests/testing/local_cluster.sh"
start_local_cluster "$build" "$src"
submit_test_job "$build" Unbounded -p 2 -D execution.checkpointing.interval=1s \
  -D "execution.checkpointing.dir=file://$cluster_root/checkpoints" >/dev/null

prom=$cluster_root/prometheus
SLUICE_BIN_DIR=$build/bin bash "$src/monitoring/generate-prometheus-config.sh" \
  --conf-dir "$SLUICE_CONF_DIR" --out "$prom" --scrape-interval 1s
promtool check config "$prom/prometheus.yml" >/dev/null
promtool check rules "$src/monitoring/alerts.yml" >/dev/null
(cd "$src/monitoring" && promtool test rules alerts_test.yml >/dev/null)
echo "ok - configuration, rules and rule tests"

# Every target the generator names answers, and passes promtool's lint.
targets=$(python3 -c 'import json,sys
for f in sys.argv[1:]:
    for g in json.load(open(f)):
        print("\n".join(g["targets"]))' "$prom"/targets/*.json)
for target in $targets; do
  python3 -c 'import sys,urllib.request
sys.stdout.write(urllib.request.urlopen("http://" + sys.argv[1] + "/metrics", timeout=5).read().decode())' \
    "${target/localhost/127.0.0.1}" | promtool check metrics
  echo "ok - promtool check metrics: $target"
done

prom_port=$(free_port)
prometheus --config.file="$prom/prometheus.yml" --storage.tsdb.path="$prom/data" \
  --web.listen-address="127.0.0.1:$prom_port" >"$prom/prometheus.log" 2>&1 &
prom_pid=$!
trap 'kill $prom_pid 2>/dev/null || true; stop_local_cluster' EXIT

python3 - "http://127.0.0.1:$prom_port" "$src/monitoring" <<'PY'
import json, re, sys, time, urllib.parse, urllib.request

base, monitoring = sys.argv[1], sys.argv[2]

def get(path, **params):
    url = base + path + ("?" + urllib.parse.urlencode(params) if params else "")
    return json.load(urllib.request.urlopen(url, timeout=5))

def wait(what, condition, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if condition():
                return
        except Exception:
            pass
        time.sleep(0.5)
    sys.exit(f"timed out: {what}")

wait("Prometheus ready", lambda: urllib.request.urlopen(base + "/-/ready", timeout=2).status == 200)
def all_up():
    active = get("/api/v1/targets")["data"]["activeTargets"]
    return len(active) == 4 and all(t["health"] == "up" for t in active)
wait("all four daemons scraped", all_up)
print("ok - Prometheus scrapes the JobManager, the ResourceManager and both TaskManagers")

dashboard = json.load(open(f"{monitoring}/grafana/sluice-dashboard.json"))
for key in ("title", "uid", "schemaVersion", "panels", "templating"):
    assert key in dashboard, f"dashboard lacks '{key}'"
ids = [p["id"] for p in dashboard["panels"]]
assert len(ids) == len(set(ids)), "panel ids repeat"
queries = []
for panel in dashboard["panels"]:
    for key in ("type", "title", "gridPos"):
        assert key in panel, f"panel {panel.get('id')} lacks '{key}'"
    assert all(isinstance(panel["gridPos"][k], int) for k in "hwxy"), panel["title"]
    assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]
    if panel["type"] == "row":
        continue
    assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
    assert panel["targets"], f"panel '{panel['title']}' has no query"
    for target in panel["targets"]:
        assert target["refId"] and target["expr"], panel["title"]
        queries.append((f"panel '{panel['title']}'", target["expr"]))
print(f"ok - the dashboard's JSON has Grafana's structure ({len(dashboard['panels'])} panels)")

rules = open(f"{monitoring}/alerts.yml").read()
for name, expr in re.findall(r"- alert: (\w+)\n\s+expr: (.+)", rules):
    query, _, threshold = expr.rpartition(" > ")
    assert query and threshold, f"alert {name}: not '<query> > <threshold>'"
    queries.append((f"alert {name}", query))

# Rates need two scrapes of a 1 s interval; give every series a few.
time.sleep(5)
for what, query in queries:
    wait(f"{what} returns data: {query}",
         lambda: get("/api/v1/query", query=query)["data"]["result"], seconds=30)
    print(f"ok - {what}: {query}")
PY
