#!/usr/bin/env bash
# Installs what is missing, builds, starts a local cluster with conf/ (one
# ResourceManager, one JobManager, two TaskManagers, each its own process),
# and shows its status and where the metrics are.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh sluice-resourcemanager sluice-jobmanager sluice-taskmanager sluice

bin/stop-cluster.sh >/dev/null 2>&1 || true
bin/start-cluster.sh

workers=$(grep -cv '^\s*\(#\|$\)' conf/workers)
rest_port=$(sed -n 's/^rest.port:\s*\([0-9]*\).*/\1/p' conf/sluice.yaml)
rest_port=${rest_port:-8081}
echo "Waiting for $workers TaskManagers to register..."
for _ in $(seq 1 100); do
  curl -sf "http://localhost:$rest_port/overview" | grep -q "\"taskmanagers\":$workers," && break
  sleep 0.2
done

echo
build/bin/sluice cluster status
echo
echo "Cluster utilization (curl -s http://localhost:$rest_port/metrics | grep resource_utilization):"
curl -sf "http://localhost:$rest_port/metrics" | grep '^sluice_cluster_resource_utilization' || true
echo
echo "Metrics for Prometheus:"
echo "  JobManager:      http://localhost:$rest_port/metrics  (REST: http://localhost:$rest_port/overview)"
grep -ho 'Metrics at http://[^ ]*' log/sluice-resourcemanager-*.log | sed 's/^Metrics at /  ResourceManager: /'
grep -ho 'metrics at http://[^ ]*' log/sluice-taskmanager-*.log | sed 's/^metrics at /  TaskManager:     /'
echo "Logs: log/    Stop the cluster: bin/stop-cluster.sh"
