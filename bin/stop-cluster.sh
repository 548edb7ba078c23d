#!/usr/bin/env bash
# Stops the TaskManagers of conf/workers, then the JobManagers and
# ResourceManagers of conf/masters. Each stop waits for a clean exit.
set -uo pipefail
bin=$(dirname "${BASH_SOURCE[0]}")
. "$bin/sluice-config.sh"

mapfile -t masters < <(read_hosts masters)
mapfile -t workers < <(read_hosts workers)
status=0
declare -A seen=()
for host in "${workers[@]}"; do
  [[ -n ${seen[$host]:-} ]] && continue
  seen[$host]=1
  run_on_host "$host" taskmanager.sh stop-all || status=1
done
for host in "${masters[@]}"; do
  run_on_host "$host" jobmanager.sh stop-all || status=1
  run_on_host "$host" resourcemanager.sh stop-all || status=1
done
exit $status
