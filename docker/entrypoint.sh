#!/usr/bin/env bash
# The image's entry point, as Flink's:
#   resourcemanager | jobmanager | taskmanager [-D key=value ...]
#     runs that daemon in the foreground, its log on stderr (podman logs);
#     each "key: value" line of $SLUICE_PROPERTIES is one more -D.
#   anything else: run as a command (sluice run …, bash).
set -euo pipefail
case "${1:-help}" in
  resourcemanager | jobmanager | taskmanager)
    daemon=$1
    shift
    properties=()
    while IFS= read -r line; do
      line=${line%%#*}
      [[ $line =~ ^[[:space:]]*([^:[:space:]]+)[[:space:]]*:[[:space:]]*(.*[^[:space:]])[[:space:]]*$ ]] ||
        continue
      properties+=(-D "${BASH_REMATCH[1]}=${BASH_REMATCH[2]}")
    done <<<"${SLUICE_PROPERTIES:-}"
    exec /opt/sluice/bin/sluice-"$daemon" --conf-dir "$SLUICE_CONF_DIR" "${properties[@]}" "$@"
    ;;
  help)
    echo "usage: resourcemanager | jobmanager | taskmanager [-D key=value ...] | <command>"
    ;;
  *) exec "$@" ;;
esac
