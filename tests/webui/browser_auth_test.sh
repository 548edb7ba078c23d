#!/usr/bin/env bash
# The web UI of a cluster that authenticates its clients (security.admin-token
# and two tenants), in headless Chromium: the UI asks for a token once, then
# shows the tenant's job and not the other tenant's, and its cancel button
# works with the token (tests/webui/browser_auth_test.mjs).
#   browser_auth_test.sh <build-dir>
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
source "$here/setup_browser.sh"
cp "$here/browser_auth_test.mjs" "$node_dir/"

source "$src/tests/testing/local_cluster.sh"
export CLUSTER_CONFIG=$'security.admin-token: admin-secret\nresourcemanager.tenant.alpha.token: alpha-secret\nresourcemanager.tenant.beta.token: beta-secret'
CLUSTER_TOKEN=admin-secret start_local_cluster "$build" "$src"
alpha=$(CLUSTER_TOKEN=alpha-secret submit_test_job "$build" Unbounded -p 1)
beta=$(CLUSTER_TOKEN=beta-secret submit_test_job "$build" Unbounded -p 1)
node "$node_dir/browser_auth_test.mjs" "$url" "$alpha" "$beta" alpha-secret
# The other tenant's job ran on.
state=$(curl -sS -H 'Authorization: Bearer admin-secret' "$url/jobs/$beta" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
[[ $state == RUNNING ]] || { echo "check failed: tenant beta's job is $state" >&2; exit 1; }
echo "ok - the other tenant's job is still RUNNING"
