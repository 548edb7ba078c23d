#!/usr/bin/env bash
# sluice-daemon.sh (start|start-foreground|stop|stop-all) (resourcemanager|jobmanager|taskmanager) [daemon args...]
#
# start: runs the daemon in the background with its own log file under
# $SLUICE_LOG_DIR (sluice-<daemon>-<n>-<host>.log, and .out for its stdout: what
# user code and print sinks write; n the first instance number
# no running instance uses; the previous run's log is rotated) and appends its pid to $SLUICE_PID_DIR/sluice-<daemon>.pid;
# several instances of one daemon (e.g. TaskManagers) can run on a host.
# stop: SIGTERM to the most recently started instance, then waits for a clean
# exit (at most $SLUICE_STOP_TIMEOUT s, then SIGKILL). stop-all: every instance.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/sluice-config.sh"

usage() {
  echo "Usage: $(basename "$0") (start|start-foreground|stop|stop-all) (resourcemanager|jobmanager|taskmanager) [args...]" >&2
  exit 2
}
[[ $# -ge 2 ]] || usage
action=$1 daemon=$2
shift 2
case "$daemon" in resourcemanager | jobmanager | taskmanager) ;; *) usage ;; esac

binary="$SLUICE_BIN_DIR/sluice-$daemon"
pid_file="$SLUICE_PID_DIR/sluice-$daemon.pid"

# Is <pid> alive and really our daemon (not a recycled pid)?
is_ours() {
  [[ -r /proc/$1/cmdline ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q "sluice-$daemon"
}

live_pids() {
  [[ -f $pid_file ]] || return 0
  local pid
  while read -r pid; do
    [[ -n $pid ]] && is_ours "$pid" && echo "$pid"
  done <"$pid_file"
  return 0
}

stop_pid() {
  local pid=$1 waited=0
  kill -TERM "$pid" 2>/dev/null || return 0
  while is_ours "$pid"; do
    if ((waited >= SLUICE_STOP_TIMEOUT * 10)); then
      echo "sluice-$daemon (pid $pid) did not exit within ${SLUICE_STOP_TIMEOUT}s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  echo "Stopped sluice-$daemon (pid $pid) on $(hostname)."
}

# Does a running instance write <log> (its stderr)?
log_in_use() {
  local pid
  for pid in "${pids[@]}"; do
    [[ $(readlink "/proc/$pid/fd/2" 2>/dev/null) == "$1" ]] && return 0
  done
  return 1
}

# <log> of an earlier run becomes <log>.1, .1 becomes .2, and so on; at most
# $SLUICE_LOG_MAX old ones are kept (Flink's env.log.max, 5).
rotate_log() {
  local log=$1 keep=$SLUICE_LOG_MAX i
  [[ -f $log ]] || return 0
  rm -f "$log.$keep"
  for ((i = keep - 1; i >= 1; i--)); do
    if [[ -f $log.$i ]]; then mv -f "$log.$i" "$log.$((i + 1))"; fi
  done
  mv -f "$log" "$log.1"
}

write_pids() {
  if [[ $# -eq 0 ]]; then rm -f "$pid_file"; else printf '%s\n' "$@" >"$pid_file"; fi
}

require_binary() {
  if [[ ! -x $binary ]]; then
    echo "sluice: $binary not found; build first (see README.md) or set SLUICE_BIN_DIR" >&2
    exit 1
  fi
}

case "$action" in
  start)
    require_binary
    mkdir -p "$SLUICE_LOG_DIR" "$SLUICE_PID_DIR"
    mapfile -t pids < <(live_pids)
    instance=0  # the first whose log no running instance writes
    while log="$(realpath -m "$SLUICE_LOG_DIR")/sluice-$daemon-$instance-$(hostname).log" &&
      log_in_use "$log"; do
      instance=$((instance + 1))
    done
    out=${log%.log}.out  # stdout: what user code and print sinks write
    rotate_log "$log"
    rotate_log "$out"
    nohup "$binary" --conf-dir "$SLUICE_CONF_DIR" "$@" >"$out" 2>"$log" </dev/null &
    pid=$!
    write_pids "${pids[@]}" "$pid"
    # A bad configuration stops the daemon at once: report it here.
    sleep 0.3
    if ! is_ours "$pid"; then
      write_pids "${pids[@]}"
      echo "sluice-$daemon failed to start; $log says:" >&2
      tail -n 5 "$log" "$out" >&2
      exit 1
    fi
    echo "Started sluice-$daemon (pid $pid) on $(hostname), log: $log"
    ;;
  start-foreground)
    require_binary
    exec "$binary" --conf-dir "$SLUICE_CONF_DIR" "$@"
    ;;
  stop)
    mapfile -t pids < <(live_pids)
    if [[ ${#pids[@]} -eq 0 ]]; then
      echo "No sluice-$daemon to stop on $(hostname)."
      write_pids
      exit 0
    fi
    last=${pids[-1]}
    unset 'pids[-1]'
    stop_pid "$last"
    write_pids "${pids[@]}"
    ;;
  stop-all)
    mapfile -t pids < <(live_pids)
    for pid in "${pids[@]}"; do stop_pid "$pid"; done
    write_pids
    ;;
  *) usage ;;
esac
