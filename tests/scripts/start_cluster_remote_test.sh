#!/usr/bin/env bash
# bin/start-cluster.sh and stop-cluster.sh with remote hosts in conf/workers,
# through a stand-in `ssh` on PATH that logs its arguments and runs the
# remote command here (with a pid directory per "host", as separate machines
# would have): a host name, an IPv6 literal in brackets with a port, a bare
# IPv6 literal, SLUICE_SSH_OPTS with two options, and an installation path
# with a space, which the remote shell must get quoted.
#   start_cluster_remote_test.sh <build-dir>
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/sluice-ssh-XXXXXX)
trap 'rm -rf "$work"' EXIT
# The installation, as a user unpacks it: a path with a space.
install="$work/sluice home"
mkdir -p "$install"
cp -r "$src/bin" "$install/bin"

mkdir -p "$work/fake"
cat >"$work/fake/ssh" <<'SSH'
#!/usr/bin/env bash
# Stand-in ssh: ssh -n [options] <host> -- <command>
echo "$*" >>"$FAKE_SSH_LOG"
args=("$@")
command=${args[-1]}
host=${args[-3]}
[[ ${args[-2]} == -- ]] || { echo "fake ssh: expected -- before the command" >&2; exit 2; }
export SLUICE_PID_DIR="$FAKE_SSH_ROOT/run-$host" SLUICE_LOG_DIR="$FAKE_SSH_ROOT/log-$host"
unset SLUICE_CONF_DIR  # only what the command line carries
exec bash -c "$command"
SSH
chmod +x "$work/fake/ssh"
export PATH="$work/fake:$PATH" FAKE_SSH_LOG="$work/ssh.log" FAKE_SSH_ROOT="$work"
export SLUICE_SSH_OPTS="-o BatchMode=yes -o ConnectTimeout=5"
export CLUSTER_WORKERS="localhost worker-a [fe80::1]:22 fe80::2 worker-a"

source "$src/tests/testing/local_cluster.sh"
start_local_cluster "$build" "$install"   # waits for all five TaskManagers

fail() { echo "FAIL: $*" >&2; cat "$FAKE_SSH_LOG" >&2; exit 1; }
for host in worker-a fe80::1 fe80::2; do
  grep -q -- "-o BatchMode=yes -o ConnectTimeout=5 $host -- " "$FAKE_SSH_LOG" ||
    fail "no ssh to $host with SLUICE_SSH_OPTS"
done
[[ $(grep -c -- " worker-a -- .*taskmanager.sh start" "$FAKE_SSH_LOG") -eq 2 ]] ||
  fail "worker-a should get two TaskManagers"
grep -q 'sluice\\ home/bin/taskmanager.sh' "$FAKE_SSH_LOG" || fail "the remote path is not quoted"
[[ $(wc -l <"$work/run-worker-a/sluice-taskmanager.pid") -eq 2 ]] || fail "worker-a's pid file"
echo "ok - five TaskManagers registered, three started over ssh"

pids=$(cat "$SLUICE_PID_DIR/sluice-taskmanager.pid" "$work"/run-*/sluice-taskmanager.pid)
[[ $(wc -w <<<"$pids") -eq 5 ]] || fail "expected five TaskManager pids, got: $pids"
bash "$install/bin/stop-cluster.sh"
for host in worker-a fe80::1 fe80::2; do
  grep -q -- " $host -- .*taskmanager.sh stop-all" "$FAKE_SSH_LOG" || fail "no stop on $host"
done
deadline=$((SECONDS + 20))
any_alive() {
  local pid
  for pid in $pids; do kill -0 "$pid" 2>/dev/null && return 0; done
  return 1
}
while any_alive; do
  ((SECONDS < deadline)) || fail "TaskManagers still run after stop-cluster.sh"
  sleep 0.2
done
echo "ok - stop-cluster.sh stopped the remote TaskManagers too"
