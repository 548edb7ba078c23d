#!/usr/bin/env bash
# podman for `podman-compose --podman-path docker/podman-host-network.sh`:
# Debian 12's podman-compose (1.0.3) adds its project network
# (`--net <project>_default --network-alias <service>`) even to a service with
# `network_mode: host`, which podman refuses. This drops those two options
# from a `podman run` or `create` that also says `--network host`, and passes
# everything else through unchanged. docker compose, and podman-compose from
# 1.0.4 on, need no such help.
args=("$@")
if [[ ${args[0]:-} == run || ${args[0]:-} == create ]]; then
  host=0
  for ((i = 0; i + 1 < ${#args[@]}; i++)); do
    [[ ${args[i]} == --network && ${args[i + 1]} == host ]] && host=1
  done
  if ((host)); then
    kept=()
    for ((i = 0; i < ${#args[@]}; i++)); do
      case ${args[i]} in
        --net | --network-alias) ((i++)) ;;  # the option and its value
        *) kept+=("${args[i]}") ;;
      esac
    done
    args=("${kept[@]}")
  fi
fi
exec podman "${args[@]}"
