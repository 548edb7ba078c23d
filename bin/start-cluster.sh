#!/usr/bin/env bash
# Starts a ResourceManager and a JobManager on every host in conf/masters and a
# TaskManager for every line of conf/workers (a host listed twice gets two).
# Remote hosts are reached over ssh and need the same install path.
set -euo pipefail
bin=$(dirname "${BASH_SOURCE[0]}")
. "$bin/sluice-config.sh"

mapfile -t masters < <(read_hosts masters)
mapfile -t workers < <(read_hosts workers)
# A master that fails to start stops the ones started before it, so a failed
# start leaves no half cluster behind (a second try would find its ports taken).
started=()
undo_masters() {
  local i
  for ((i = ${#started[@]} - 1; i >= 0; i--)); do
    read -r host script <<<"${started[$i]}"
    run_on_host "$host" "$script" stop || true
  done
}
for host in "${masters[@]}"; do
  for script in resourcemanager.sh jobmanager.sh; do
    if ! run_on_host "$host" "$script" start; then
      echo "start-cluster: ${script%.sh} failed to start on $host; stopping the masters started" >&2
      undo_masters
      exit 1
    fi
    started+=("$host $script")
  done
done
run_on_hosts taskmanager.sh "${workers[@]}"
