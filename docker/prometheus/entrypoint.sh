#!/bin/sh
# Writes the scrape configuration for the compose cluster and runs Prometheus:
# the JobManager on $SLUICE_REST_PORT, the ResourceManager on the first port of
# $SLUICE_METRICS_PORTS and $SLUICE_TASKMANAGERS TaskManagers on the next ones
# (each daemon takes the first free port of the range; the ResourceManager
# starts first). Prometheus itself listens on $PROMETHEUS_PORT.
set -eu
rest=${SLUICE_REST_PORT:-8081}
first=${SLUICE_METRICS_PORTS:-9249-9260}
first=${first%%-*}
tms=${SLUICE_TASKMANAGERS:-2}
targets=""
i=1
while [ "$i" -le "$tms" ]; do
  targets="$targets${targets:+, }'127.0.0.1:$((first + i))'"
  i=$((i + 1))
done
cat >/tmp/prometheus.yml <<YAML
global:
  scrape_interval: ${SCRAPE_INTERVAL:-5s}
  evaluation_interval: ${SCRAPE_INTERVAL:-5s}
rule_files: [/etc/prometheus/sluice-alerts.yml]
scrape_configs:
  - job_name: sluice-jobmanager
    static_configs: [{targets: ['127.0.0.1:$rest']}]
  - job_name: sluice-resourcemanager
    static_configs: [{targets: ['127.0.0.1:$first']}]
  - job_name: sluice-taskmanager
    static_configs: [{targets: [$targets]}]
YAML
exec prometheus --config.file=/tmp/prometheus.yml --storage.tsdb.path=/tmp/prometheus-data \
  --web.listen-address="127.0.0.1:${PROMETHEUS_PORT:-9090}" "$@"
