#!/usr/bin/env bash
# Installs what is missing, builds, starts a local cluster with conf/ (one
# ResourceManager, one JobManager, two TaskManagers, each its own process),
# and shows its status and where the metrics are.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh sluice-resourcemanager sluice-jobmanager sluice-taskmanager sluice sluice_examples

bin/stop-cluster.sh >/dev/null 2>&1 || true
bin/start-cluster.sh

workers=$(grep -cv '^\s*\(#\|$\)' conf/workers)
rest_port=$(sed -n 's/^rest.port:\s*\([0-9]*\).*/\1/p' conf/sluice.yaml)
rest_port=${rest_port:-8081}
echo "Waiting for $workers TaskManagers to register..."
for _ in $(seq 1 100); do
  curl -sf "http://localhost:$rest_port/overview" | grep -Eq "\"taskmanagers\":$workers[,}]" && break
  sleep 0.2
done

echo
build/bin/sluice cluster status
echo
echo "Cluster utilization (curl -s http://localhost:$rest_port/metrics | grep resource_utilization):"
curl -sf "http://localhost:$rest_port/metrics" | grep '^sluice_cluster_resource_utilization' || true
echo
echo "Metrics for Prometheus:"
echo "  JobManager:      http://localhost:$rest_port/metrics"
grep -ho 'Metrics at http://[^ ]*' log/sluice-resourcemanager-*.log | sed 's/^Metrics at /  ResourceManager: /'
grep -ho 'metrics at http://[^ ]*' log/sluice-taskmanager-*.log | sed 's/^metrics at /  TaskManager:     /'
echo "REST API (Flink's): http://localhost:$rest_port/overview, http://localhost:$rest_port/jobs/overview"
echo
echo "Submitting the WordCount example (counting the words of README.md) to the cluster:"
out_dir="$PWD/run/wordcount-output"
rm -rf "$out_dir"
build/bin/sluice run -p 4 -c WordCount build/examples/libsluice_examples.so -- \
  --input "$PWD/README.md" --output "$out_dir"
echo
echo "Output: one file per subtask in $out_dir (a running count per word):"
for f in "$out_dir"/part-*; do echo "  $f"; done
echo "The most frequent words:"
cat "$out_dir"/part-* | tr -d '()' | sort -t, -k2 -n -r | awk -F, '!seen[$1]++' | head -n 5 | sed 's/^/  /'
echo
echo "Logs: log/    Jobs: build/bin/sluice list    Stop the cluster: bin/stop-cluster.sh"
