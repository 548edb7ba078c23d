#!/usr/bin/env bash
# Sourced by the other scripts: where Sluice lives and how to reach hosts.
#   SLUICE_HOME      install root (default: the parent of bin/)
#   SLUICE_CONF_DIR  configuration (default: $SLUICE_HOME/conf)
#   SLUICE_LOG_DIR   daemon logs (default: $SLUICE_HOME/log)
#   SLUICE_PID_DIR   pid files (default: $SLUICE_HOME/run)
#   SLUICE_BIN_DIR   daemon binaries (default: $SLUICE_HOME/build/bin)
#   SLUICE_STOP_TIMEOUT  seconds stop waits for a clean exit (default: 10)
#   SLUICE_LOG_MAX   old logs kept per daemon instance, rotated at start (default: 5, as Flink's env.log.max)
#   SLUICE_SSH_OPTS  extra options for ssh to remote hosts

SLUICE_HOME=${SLUICE_HOME:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
SLUICE_CONF_DIR=${SLUICE_CONF_DIR:-$SLUICE_HOME/conf}
SLUICE_LOG_DIR=${SLUICE_LOG_DIR:-$SLUICE_HOME/log}
SLUICE_PID_DIR=${SLUICE_PID_DIR:-$SLUICE_HOME/run}
SLUICE_BIN_DIR=${SLUICE_BIN_DIR:-$SLUICE_HOME/build/bin}
SLUICE_STOP_TIMEOUT=${SLUICE_STOP_TIMEOUT:-10}
SLUICE_LOG_MAX=${SLUICE_LOG_MAX:-5}
export SLUICE_HOME SLUICE_CONF_DIR SLUICE_LOG_DIR SLUICE_PID_DIR SLUICE_BIN_DIR SLUICE_STOP_TIMEOUT
export SLUICE_LOG_MAX

# Prints the host part of each non-comment line of conf/<file>.
read_hosts() {
  local file="$SLUICE_CONF_DIR/$1"
  if [[ ! -f $file ]]; then
    echo "sluice: $file not found" >&2
    return 1
  fi
  local line
  sed -e 's/#.*//' -e 's/[[:space:]]//g' "$file" | grep -v '^$' | while read -r line; do
    case "$line" in
      \[*) line=${line#[}; echo "${line%%]*}" ;;  # [IPv6] or [IPv6]:port
      *:*:*) echo "$line" ;;                       # a bare IPv6 address: no port
      *) echo "${line%%:*}" ;;                     # host or host:port
    esac
  done
}

is_local_host() {
  case "$1" in
    localhost | 127.* | ::1 | "$(hostname)" | "$(hostname -f 2>/dev/null)") return 0 ;;
  esac
  return 1
}

# Runs bin/<script> with its arguments on <host>: locally, or over ssh with the
# same install path and configuration directory (SLUICE_SSH_OPTS: extra ssh
# options, split on spaces). Every word is quoted for the remote shell.
run_on_host() {
  local host=$1 script=$2
  shift 2
  if is_local_host "$host"; then
    "$SLUICE_HOME/bin/$script" "$@"
  else
    local remote
    remote=$(printf '%q ' env "SLUICE_CONF_DIR=$SLUICE_CONF_DIR" "$SLUICE_HOME/bin/$script" "$@")
    local -a opts
    read -r -a opts <<<"${SLUICE_SSH_OPTS:-}"
    ssh -n "${opts[@]}" "$host" -- "$remote"
  fi
}

# Runs `<script> start` once per entry of the host list: local hosts first,
# in order; the remote hosts in parallel with each other (one ssh after the
# other on the same host, whose daemons count their instances). Fails if any did.
run_on_hosts() {
  local script=$1
  shift
  local -a remote=() pids=()
  local host other failed=0
  for host in "$@"; do
    if is_local_host "$host"; then
      run_on_host "$host" "$script" start || failed=1
    elif [[ " ${remote[*]} " != *" $host "* ]]; then
      remote+=("$host")
    fi
  done
  for host in "${remote[@]}"; do
    (
      status=0
      for other in "$@"; do
        [[ $other == "$host" ]] && { run_on_host "$host" "$script" start || status=1; }
      done
      exit $status
    ) &
    pids+=($!)
  done
  local pid
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  return $failed
}
