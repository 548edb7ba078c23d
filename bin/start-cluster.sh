#!/usr/bin/env bash
# Starts a ResourceManager and a JobManager on every host in conf/masters and a
# TaskManager for every line of conf/workers (a host listed twice gets two).
# Remote hosts are reached over ssh and need the same install path.
set -euo pipefail
bin=$(dirname "${BASH_SOURCE[0]}")
. "$bin/sluice-config.sh"

mapfile -t masters < <(read_hosts masters)
mapfile -t workers < <(read_hosts workers)
for host in "${masters[@]}"; do
  run_on_host "$host" resourcemanager.sh start
  run_on_host "$host" jobmanager.sh start
done
run_on_hosts taskmanager.sh "${workers[@]}"
